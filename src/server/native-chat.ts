// The native chat API (POST /api/llm/chat and the WebSocket) in the model's own chat format: the tools a
// client sends are rendered by the template (they are the client's to run: calls come back in the text
// only where the format keeps them there), and thinking is read apart from the answer.
import type { ChatFormatOptions, ReasoningBudget } from '../engine/index.js';
import type { ChatJob } from './model-manager.js';
import type { ChatMessage, GenerationParams, ThinkingOptions, Tool } from './schemas.js';

export interface NativeChatRequest {
  messages: ChatMessage[];
  params?: GenerationParams | undefined;
  tools?: Tool[] | undefined;
  thinking?: ThinkingOptions | undefined;
  /** The app's conversation this chat belongs to: its saved KV state is removed with it. */
  conversationId?: string | undefined;
}

/** The model manager's job for a native chat request (without the signal). */
export function nativeChatJob(body: NativeChatRequest): Omit<ChatJob, 'signal'> {
  const t = body.thinking ?? {};
  const format: ChatFormatOptions = {
    reasoningFormat: t.format ?? 'auto',
    ...(t.enabled !== undefined ? { enableThinking: t.enabled } : {}),
    ...(body.tools && body.tools.length > 0 ? { tools: body.tools, toolChoice: 'none' as const } : {}),
  };
  // Off where the template cannot switch thinking off: a budget of 0 closes the block at once.
  const budget = t.enabled === false ? 0 : t.budget;
  const reasoningBudget: ReasoningBudget | null = budget === undefined || budget === null ? null : { tokens: budget };
  return {
    messages: body.messages,
    ...(body.params ? { params: body.params } : {}),
    format,
    ...(reasoningBudget ? { reasoningBudget } : {}),
    ...(body.conversationId ? { cacheTag: body.conversationId } : {}),
  };
}
