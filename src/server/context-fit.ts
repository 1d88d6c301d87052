// What happens when a conversation outgrows the context window, decided before a request queues. The
// window of one conversation is the model's per-sequence context, or a smaller limit the chat sets. With
// 'drop_oldest' the oldest whole turns (a question with the replies after it) leave what the model sees,
// never the system prompt or the last question, until the prompt fits with room kept for the reply (a
// quarter of the window at most). With 'refuse', and whenever even the last question does not fit, the
// request gets context_overflow with the numbers. The count endpoint runs the same steps, so the app's
// indicator shows what a send would do.
import type { ChatFormatOptions, Model } from '../engine/index.js';
import { WestfallError } from '../errors.js';
import type { ChatMessage } from './schemas.js';

export interface ContextFit {
  messages: ChatMessage[];
  /** Tokens of the prompt as given. */
  promptTokens: number;
  /** Tokens of the prompt after dropping. */
  keptTokens: number;
  droppedMessages: number;
  contextTokens: number;
  reserveTokens: number;
}

export interface FitOptions {
  /** The model's per-sequence context. */
  windowTokens: number;
  /** The request's own, smaller limit. */
  contextTokens?: number | undefined;
  maxTokens: number;
}

/** The window and the room kept for the reply. */
export function windowOf(o: FitOptions): { contextTokens: number; reserveTokens: number } {
  const contextTokens = Math.min(o.windowTokens, o.contextTokens ?? Infinity);
  return { contextTokens, reserveTokens: Math.min(o.maxTokens, Math.floor(contextTokens / 4)) };
}

/** Drops the oldest turns until the prompt fits; never throws (the caller decides what a misfit means). */
export function fitMessages(model: Model, messages: readonly ChatMessage[], format: ChatFormatOptions, o: FitOptions): ContextFit {
  const { contextTokens, reserveTokens } = windowOf(o);
  const budget = contextTokens - reserveTokens;
  const kept = [...messages];
  const count = () => (kept.length === 0 ? 0 : model.tokenizeChat(kept, format).tokens.length);
  const promptTokens = count();
  let keptTokens = promptTokens;
  let dropped = 0;
  while (keptTokens > budget) {
    const first = kept.findIndex((m) => m.role !== 'system');
    const lastUser = kept.findLastIndex((m) => m.role === 'user');
    if (first < 0 || first >= lastUser) break;
    let end = first + 1;
    while (end < lastUser && kept[end]!.role !== 'user') end++;
    dropped += end - first;
    kept.splice(first, end - first);
    keptTokens = count();
  }
  return { messages: kept, promptTokens, keptTokens, droppedMessages: dropped, contextTokens, reserveTokens };
}

/** The messages to send under the request's overflow rule, or context_overflow. */
export function fitOrRefuse(model: Model, messages: readonly ChatMessage[], format: ChatFormatOptions, o: FitOptions & { overflow: 'refuse' | 'drop_oldest' }): ContextFit {
  if (o.overflow === 'refuse') {
    // The window's full size is the prompt's (a reply that runs out of room stops with context_full).
    const { contextTokens, reserveTokens } = windowOf(o);
    const promptTokens = model.tokenizeChat(messages, format).tokens.length;
    if (promptTokens < contextTokens) return { messages: [...messages], promptTokens, keptTokens: promptTokens, droppedMessages: 0, contextTokens, reserveTokens };
    throw new WestfallError(
      'context_overflow',
      `the conversation needs ${promptTokens} tokens; the window holds ${contextTokens}. Start a new chat, or edit an earlier message to branch from there`,
      { details: { promptTokens, contextTokens } },
    );
  }
  const fit = fitMessages(model, messages, format, o);
  if (fit.keptTokens <= fit.contextTokens - fit.reserveTokens) return fit;
  throw new WestfallError(
    'context_overflow',
    `the last message needs ${fit.keptTokens} tokens with the system prompt; this chat's window is ${fit.contextTokens} tokens with ${fit.reserveTokens} kept for the reply`,
    { details: { promptTokens: fit.keptTokens, contextTokens: fit.contextTokens, reserveTokens: fit.reserveTokens } },
  );
}
