export { loadModel, Model, type ModelInfo, type Placement, type RenderedChat, type TokenizedChat, type ChatTemplateMessage } from './model.js';
export { probeWorker, parseEndpoint, formatEndpoint, type WorkerProbe } from './rpc.js';
export {
  ChatOutputParser,
  applyDeltas,
  formatGenerateParams,
  REASONING_FORMATS,
  type ChatDelta,
  type ChatFormat,
  type ChatFormatOptions,
  type FinishedMessage,
  type GrammarTrigger,
  type ParsedMessage,
  type ParsedToolCall,
  type ReasoningBudget,
  type ReasoningFormat,
} from './chat-format.js';
export { PromptCache, type PromptCacheEntry, type PromptCacheOptions, type PromptCacheStats } from './prompt-cache.js';
export { Context, type ContextInfo, type PromptInput, type SequenceCacheState } from './context.js';
export { Generation, type GenerationChunk, type GenerationResult, type StopReason } from './generation.js';
export { ChatSession, ChatReply, type ChatResult } from './chat.js';
export { systemInfo, setLogHandler, jsonSchemaToGrammar, type SystemInfo, type LogLevel } from './system.js';
export {
  DEFAULTS,
  type LoadModelOptions,
  type ContextOptions,
  type GenerateParams,
  type ChatMessage,
  type ChatSessionOptions,
} from './options.js';
