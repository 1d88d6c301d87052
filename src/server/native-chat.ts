// The native chat API (POST /api/llm/chat and the WebSocket) in the model's own chat format: the tools a
// client sends are rendered by the template (they are the client's to run: calls come back in the text
// only where the format keeps them there), and thinking is read apart from the answer.
import type { ChatFormatOptions, ReasoningBudget } from '../engine/index.js';
import { WestfallError } from '../errors.js';
import { fitOrRefuse } from './context-fit.js';
import type { ChatJob, ModelManager } from './model-manager.js';
import type { ChatMessage, GenerationParams, ThinkingOptions, Tool } from './schemas.js';

export interface NativeChatRequest {
  /** The model to answer; absent: the default model. */
  model?: string | undefined;
  /** Seconds the local model stays loaded after this request (-1: until unloaded). */
  keepAlive?: number | undefined;
  messages: ChatMessage[];
  params?: GenerationParams | undefined;
  tools?: Tool[] | undefined;
  thinking?: ThinkingOptions | undefined;
  /** The app's conversation this chat belongs to: its saved KV state is removed with it. */
  conversationId?: string | undefined;
  /** What happens when the conversation does not fit (context-fit.ts); absent: the engine's own check. */
  contextOverflow?: 'refuse' | 'drop_oldest' | undefined;
  /** A window smaller than the model's for this request. */
  contextTokens?: number | undefined;
}

/** The format a request renders with (tools, thinking), as the job and the token count use it. */
export function chatFormatOf(body: Pick<NativeChatRequest, 'tools' | 'thinking'>): ChatFormatOptions {
  const t = body.thinking ?? {};
  return {
    reasoningFormat: t.format ?? 'auto',
    ...(t.enabled !== undefined ? { enableThinking: t.enabled } : {}),
    ...(body.tools && body.tools.length > 0 ? { tools: body.tools, toolChoice: 'none' as const } : {}),
  };
}

/**
 * Applies the request's overflow rule before it queues: the messages to send and how many were left out.
 * Without a rule or limit nothing is counted here (the engine refuses a prompt longer than the window).
 */
export function fitRequest(manager: Pick<ModelManager, 'model' | 'context'>, body: NativeChatRequest, defaultMaxTokens: number): { messages: ChatMessage[]; droppedMessages: number } {
  if (body.contextOverflow === undefined && body.contextTokens === undefined) return { messages: body.messages, droppedMessages: 0 };
  const model = manager.model;
  const context = manager.context;
  if (!model || !context) throw new WestfallError('model_not_loaded', 'no model is loaded; load one first');
  const fit = fitOrRefuse(model, body.messages, chatFormatOf(body), {
    overflow: body.contextOverflow ?? 'refuse',
    windowTokens: context.info.contextSizePerSequence,
    contextTokens: body.contextTokens,
    maxTokens: body.params?.maxTokens ?? defaultMaxTokens,
  });
  return { messages: fit.messages, droppedMessages: fit.droppedMessages };
}

/** The model manager's job for a native chat request (without the signal). */
export function nativeChatJob(body: NativeChatRequest): Omit<ChatJob, 'signal'> {
  const t = body.thinking ?? {};
  const format = chatFormatOf(body);
  // Off where the template cannot switch thinking off: a budget of 0 closes the block at once.
  const budget = t.enabled === false ? 0 : t.budget;
  const reasoningBudget: ReasoningBudget | null = budget === undefined || budget === null ? null : { tokens: budget };
  return {
    ...(body.model ? { model: body.model } : {}),
    ...(body.keepAlive !== undefined ? { keepAlive: body.keepAlive } : {}),
    messages: body.messages,
    ...(body.params ? { params: body.params } : {}),
    format,
    ...(reasoningBudget ? { reasoningBudget } : {}),
    ...(body.conversationId ? { cacheTag: body.conversationId } : {}),
  };
}
