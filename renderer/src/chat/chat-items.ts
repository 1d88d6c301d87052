// What the chat shows, one item per message or tool call, and how a streaming reply's thinking and answer
// grow. Thinking is timed in the window (from its first piece to the first piece of the answer) because
// the stream carries no timestamps; a saved message brings its own `thinkingMs`.
import type { Citation } from '../documents/documents-api.js';
import type { MessageStats } from './chat-message.js';
import type { ToolCallView } from './tool-call-card.js';

export interface MessageItem {
  kind: 'message';
  key: string;
  role: 'user' | 'assistant';
  content: string;
  streaming?: boolean;
  stopReason?: string | null;
  error?: string | null;
  stats?: MessageStats | null;
  /** Assistant: its thinking, apart from the answer. */
  reasoning?: string;
  /** When the first piece of thinking arrived (Date.now()), for the live clock. */
  thinkingStartedAt?: number | null;
  /** How long it thought; null while it still thinks. */
  thinkingMs?: number | null;
  /** The model's output did not follow its format (it was shown as plain text). */
  warning?: string | null;
  /** The saved message's id (absent until saved, or where nothing is saved). */
  id?: number;
  /** The saved message it follows (null: a first message). */
  parentId?: number | null;
  /** The saved ids of its alternatives, itself included, oldest first (edits and regenerates). */
  siblings?: number[];
  /** How many of the oldest messages the model did not see (the chat outgrew the window). */
  dropped?: number | null;
  /** The reply had neither text nor a tool call: why (see empty-reply.ts). */
  empty?: string | null;
  /** The document passages the reply was given, cited as [n] (documents/chat-documents.ts; not saved). */
  citations?: Citation[];
}

export interface ToolItem {
  kind: 'tool';
  key: string;
  call: ToolCallView;
}

export type ChatItem = MessageItem | ToolItem;

export function addReasoning(item: MessageItem, text: string): void {
  if (!text) return;
  if (!item.reasoning) {
    item.reasoning = '';
    item.thinkingStartedAt = Date.now();
    item.thinkingMs = null;
  }
  item.reasoning += text;
}

/** Stops the thinking clock (the answer started, a tool was called or the reply ended). */
export function endThinking(item: MessageItem): void {
  if (item.thinkingStartedAt != null && item.thinkingMs == null) item.thinkingMs = Date.now() - item.thinkingStartedAt;
}

export function addAnswer(item: MessageItem, text: string): void {
  if (!text) return;
  endThinking(item);
  item.content += text;
}

/** Whether the item is thinking right now. */
export function thinkingLive(item: MessageItem): boolean {
  return item.streaming === true && !!item.reasoning && item.thinkingMs == null;
}

/**
 * An agent step that ends in tool calls: what the reply showed so far (thinking, text before the calls)
 * becomes its own message, which goes before the step's tool cards, as the saved conversation has it.
 * The reply starts over for the next step. Null when the step showed nothing.
 */
export function splitStep(reply: MessageItem, key: string): MessageItem | null {
  if (!reply.reasoning && !reply.content.trim()) return null;
  endThinking(reply);
  const step: MessageItem = { kind: 'message', key, role: 'assistant', content: reply.content.trim(), streaming: false, reasoning: reply.reasoning ?? '', thinkingMs: reply.thinkingMs ?? null };
  Object.assign(reply, { content: '', reasoning: '', thinkingStartedAt: null, thinkingMs: null });
  return step;
}

/** A saved message's thinking fields, for an assistant message that has any. */
export function savedThinking(m: { reasoning?: string; thinkingMs?: number }): Pick<MessageItem, 'reasoning' | 'thinkingMs'> {
  return m.reasoning ? { reasoning: m.reasoning, thinkingMs: m.thinkingMs ?? null } : {};
}

/** The thinking of a finished reply, as POST /api/conversations/…/messages takes it. */
export function thinkingToSave(item: MessageItem): { reasoning?: string; thinkingMs?: number } {
  if (!item.reasoning) return {};
  return { reasoning: item.reasoning, ...(item.thinkingMs != null ? { thinkingMs: Math.min(86_400_000, Math.max(0, Math.round(item.thinkingMs))) } : {}) };
}

export function explainError(code: string, message: string): string {
  switch (code) {
    case 'model_not_loaded':
      return 'No model is loaded. Load one in the model manager.';
    case 'queue_full':
      return 'The assistant is busy with other requests. Try again in a moment.';
    case 'shutting_down':
      return 'The assistant service is shutting down.';
    case 'context_overflow':
      return `This does not fit in the model's context window: ${message}.`;
    default:
      return message;
  }
}
