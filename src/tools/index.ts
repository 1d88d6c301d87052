// The personal tools: finance, time tracking, password vault and music library over the SQLite storage,
// the registry of functions the model can call, and the tool-calling agent loop.
export { createToolServices, DATABASE_FILE, type ToolServices, type ToolServicesOptions } from './services.js';
export {
  ToolRegistry,
  defineTool,
  toolJsonSchema,
  toolErrorResult,
  TOOL_NAME_RE,
  type ToolDefinition,
  type AnyTool,
  type ToolContext,
  type ToolDescription,
  type OpenAITool,
  type JsonSchema,
} from './registry.js';
export {
  runAgent,
  runAgentToEnd,
  contextBackend,
  managerBackend,
  renderMessages,
  DEFAULT_SYSTEM_PROMPT,
  type AgentOptions,
  type AgentEvent,
  type AgentResult,
  type AgentMessage,
  type AgentRole,
  type AgentBackend,
  type AgentGeneration,
  type AgentGenerateRequest,
  type TemplateMessage,
  type AgentStopReason,
  type AgentUsage,
  type ConfirmationRequest,
  type ManagerLike,
  type ToolCall,
} from './agent.js';
export {
  buildJsonModeGrammar,
  callSchema,
  chooseToolMode,
  jsonModeSystemPrompt,
  nativeToolOptions,
  toJsonModeMessages,
  toNativeMessages,
  ANSWER_SCHEMA,
  type ToolChoice,
  type ToolMode,
  type ToolTurnMessage,
  type SchemaToGrammar,
  type ToolSchemas,
} from './tool-format.js';
export { parseJsonModeOutput, readNativeCalls, JsonAnswerStream, type ParsedCall, type ParsedOutput } from './tool-calls.js';
export { ReplyReader, type ReadReply } from './reply-reader.js';
export { Confirmations } from './confirmations.js';
export { ToolError, notFound } from './errors.js';
export * as finance from './finance/index.js';
export * as time from './time/index.js';
export * as vault from './vault/index.js';
export * as music from './music/index.js';
