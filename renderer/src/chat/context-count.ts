// Counts the branch shown as the next request would send it (POST /api/llm/tokens: the model's template
// and tokenizer, the chat's window and reply room), for <wf-context-meter>. Only the latest count is shown:
// an answer to an older request is dropped.
import type { ApiClient } from '../api/client.js';
import type { ChatMessage, ThinkingOptions } from '../api/types.js';
import type { TokenCountResponse } from '../../../src/server/schemas.js';
import { thinkingFor, type ChatSettings as AppChatSettings } from '../store.js';
import { modelFor } from './chat-model.js';
import { effectiveSettings, systemPromptOf } from './chat-settings.js';
import type { LiveChat } from './live-chat.js';

export interface ContextFill {
  used: number;
  window: number;
  dropped: number;
  reserve: number;
}

export interface CountRequest {
  model?: string;
  messages: ChatMessage[];
  thinking?: Pick<ThinkingOptions, 'enabled' | 'budget'>;
  maxTokens: number;
  contextTokens?: number;
}

export class ContextCounter {
  readonly #api: () => ApiClient;
  readonly #show: (fill: ContextFill | null) => void;
  #seq = 0;

  constructor(api: () => ApiClient, show: (fill: ContextFill | null) => void) {
    this.#api = api;
    this.#show = show;
  }

  /** The chat's branch shown, with its system prompt, thinking, reply room and window. */
  countChat(chat: LiveChat, app: AppChatSettings): Promise<void> {
    const s = effectiveSettings(chat.settings, app);
    const t = thinkingFor(chat.id);
    const model = modelFor(chat.id);
    return this.count({
      ...(model ? { model } : {}),
      messages: chat.history(systemPromptOf(s, app)),
      thinking: { enabled: t.enabled, ...(t.enabled && t.budget !== null ? { budget: t.budget } : {}) },
      maxTokens: s.sampling.maxTokens,
      ...(s.sampling.contextTokens !== null ? { contextTokens: s.sampling.contextTokens } : {}),
    });
  }

  async count(request: CountRequest): Promise<void> {
    const seq = ++this.#seq;
    try {
      const r = await this.#api().post<TokenCountResponse>('/api/llm/tokens', request);
      if (seq === this.#seq) this.#show({ used: r.promptTokens, window: r.contextTokens, dropped: r.droppedMessages, reserve: r.reserveTokens });
    } catch {
      // No model loaded (the header says so) or the backend is away: no meter rather than a wrong one.
      if (seq === this.#seq) this.#show(null);
    }
  }
}
