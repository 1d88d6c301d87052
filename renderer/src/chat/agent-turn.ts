// One reply of the tool-using agent, shown as it happens: its events (tool-runner.ts) grow the reply's
// thinking and text, and each tool call gets a card. A step that ends in tool calls leaves its thinking
// (and any text before the calls) in a message of its own above that step's cards, in the order the
// conversation is saved; several calls of one step get their cards in the order they came.
import { newId } from '../api/chat-socket.js';
import { addAnswer, addReasoning, endThinking, explainError, splitStep, type ChatItem, type MessageItem, type ToolItem } from './chat-items.js';
import type { ToolCallView } from './tool-call-card.js';
import type { ToolEvent } from './tool-runner.js';

export interface TurnHost {
  /** The chat's items; assigning re-renders. */
  items: ChatItem[];
  /** Re-renders soon (streamed text: at most once a frame). */
  touch(): void;
}

export class AgentTurn {
  readonly #host: TurnHost;
  readonly #reply: MessageItem;
  readonly #cards = new Map<string, ToolItem>();
  /** The conversation the agent saved the turn in (from its `done`). */
  conversationId: string | null = null;

  constructor(host: TurnHost, reply: MessageItem) {
    this.#host = host;
    this.#reply = reply;
  }

  /** Inserts items just before the reply (which stays last). */
  #insert(...items: ChatItem[]): void {
    const all = this.#host.items;
    const at = all.indexOf(this.#reply);
    this.#host.items = at < 0 ? [...all, ...items] : [...all.slice(0, at), ...items, ...all.slice(at)];
  }

  readonly onEvent = (ev: ToolEvent): void => {
    const reply = this.#reply;
    switch (ev.type) {
      case 'reasoning':
        addReasoning(reply, ev.text);
        this.#host.touch();
        break;
      case 'token':
        addAnswer(reply, ev.text);
        this.#host.touch();
        break;
      case 'warning':
        reply.warning = ev.message;
        this.#host.touch();
        break;
      case 'tool_call': {
        const existing = this.#cards.get(ev.call.id);
        if (existing) {
          const patch = Object.fromEntries(Object.entries(ev.call).filter(([, v]) => v !== undefined)) as Partial<ToolCallView>;
          existing.call = { ...existing.call, ...patch };
          this.#host.items = [...this.#host.items];
          break;
        }
        const card: ToolItem = { kind: 'tool', key: newId('t'), call: ev.call };
        this.#cards.set(ev.call.id, card);
        const step = splitStep(reply, newId('m'));
        if (step) this.#insert(step, card);
        else this.#insert(card);
        break;
      }
      case 'done':
        if (ev.conversationId) this.conversationId = ev.conversationId;
        endThinking(reply);
        Object.assign(reply, { stopReason: ev.stopReason === 'answer' ? null : ev.stopReason, ...(ev.answer ? { content: ev.answer } : {}), empty: ev.empty });
        this.#host.items = [...this.#host.items];
        break;
      case 'error':
        reply.error = explainError(ev.code, ev.message);
        this.#host.items = [...this.#host.items];
        break;
    }
  };

  /** The reply ended (however): calls still open failed with it. */
  finish(): void {
    endThinking(this.#reply);
    for (const card of this.#cards.values()) {
      if (card.call.status === 'pending' || card.call.status === 'running' || card.call.status === 'approved') card.call = { ...card.call, status: 'error', error: 'The reply stopped before this call finished.' };
    }
    this.#reply.streaming = false;
    this.#host.items = [...this.#host.items];
  }
}
