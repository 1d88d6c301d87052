// ChatSession: a conversation on one reserved sequence of a context. Each turn renders the whole history
// with the model's template; because the sequence still holds the previous turns, only the new tokens
// are evaluated. When the history outgrows the context, the oldest turns are dropped (the system prompt
// stays) and the reply says how many messages were dropped; nothing is ever cut silently.
import { WestfallError } from '../errors.js';
import type { Context } from './context.js';
import type { Generation, GenerationChunk, GenerationResult } from './generation.js';
import { generateParamsSchema, parseOrThrow, type ChatMessage, type GenerateParams } from './options.js';

export interface ChatResult extends GenerationResult {
  /** Messages removed from the start of the history (after the system prompt) so this turn fits. */
  droppedMessages: number;
}

export class ChatReply implements AsyncIterable<GenerationChunk> {
  readonly result: Promise<ChatResult>;
  readonly #generation: Generation;

  /** @internal */
  constructor(generation: Generation, result: Promise<ChatResult>) {
    this.#generation = generation;
    this.result = result;
    this.result.catch(() => {});
  }

  abort(): void {
    this.#generation.abort();
  }

  [Symbol.asyncIterator](): AsyncIterator<GenerationChunk> {
    return this.#generation[Symbol.asyncIterator]();
  }

  async text(): Promise<string> {
    return (await this.result).text;
  }
}

export class ChatSession implements AsyncDisposable {
  readonly context: Context;
  readonly sequence: number;
  #history: ChatMessage[];
  #reserveTokens: number | undefined;
  #busy = false;
  #disposed = false;

  /** @internal use context.createChatSession() */
  constructor(context: Context, sequence: number, options: { systemPrompt?: string; messages: ChatMessage[]; reserveTokens?: number }) {
    this.context = context;
    this.sequence = sequence;
    this.#history = [...options.messages];
    if (options.systemPrompt !== undefined && this.#history[0]?.role !== 'system') {
      this.#history.unshift({ role: 'system', content: options.systemPrompt });
    }
    this.#reserveTokens = options.reserveTokens;
  }

  /** The messages the model currently sees, oldest first. */
  get messages(): readonly ChatMessage[] {
    return this.#history;
  }

  send(content: string, params: GenerateParams = {}): ChatReply {
    if (this.#disposed) throw new WestfallError('disposed', 'the chat session was disposed');
    if (this.#busy) throw new WestfallError('invalid_params', 'this chat session is already replying; await or abort it first');
    if (typeof content !== 'string') throw new WestfallError('invalid_params', 'content must be a string');
    const p = parseOrThrow(generateParamsSchema, params, 'generation parameters');

    const history = [...this.#history, { role: 'user' as const, content }];
    const perSeq = this.context.info.contextSizePerSequence;
    const reserve = Math.min(this.#reserveTokens ?? Math.min(p.maxTokens, Math.floor(perSeq / 4)), perSeq - 1);
    const budget = perSeq - reserve;

    let dropped = 0;
    let rendered = this.context.model.tokenizeChat(history);
    let tokens = rendered.tokens;
    while (tokens.length > budget) {
      // Drop the oldest whole turn: a user message with the replies that follow it.
      const first = history.findIndex((m) => m.role !== 'system');
      const lastUser = history.length - 1;
      if (first < 0 || first >= lastUser) {
        throw new WestfallError(
          'context_overflow',
          `the message needs ${tokens.length} tokens with the system prompt; the context leaves ${budget} after reserving ${reserve} for the reply`,
          { details: { promptTokens: tokens.length, budget } },
        );
      }
      let end = first + 1;
      while (end < lastUser && history[end]!.role !== 'user') end++;
      dropped += end - first;
      history.splice(first, end - first);
      rendered = this.context.model.tokenizeChat(history);
      tokens = rendered.tokens;
    }

    this.#busy = true;
    let generation: Generation;
    try {
      generation = this.context.generate(tokens, {
        ...params,
        sequence: this.sequence,
        stop: [...(p.stop ?? []), ...rendered.stop],
      });
    } catch (err) {
      this.#busy = false;
      throw err;
    }
    const result = generation.result.then(
      (r) => {
        this.#busy = false;
        this.#history = [...history, { role: 'assistant', content: r.text }];
        return { ...r, droppedMessages: dropped };
      },
      (err) => {
        this.#busy = false;
        throw err;
      },
    );
    return new ChatReply(generation, result);
  }

  /** Releases the sequence for other uses. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    if (!this.context.disposed) this.context.releaseSequence(this.sequence);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }
}
