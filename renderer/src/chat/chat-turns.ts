// The turns of a chat: ask (a new question, or an edited one saved next to the original), regenerate (a
// new reply saved next to the old one), and the reply itself, plain over the WebSocket stream or through
// the tool-using agent. Every reply is sent the branch shown, with the chat's own system prompt and
// sampling, and asks the backend to leave the oldest turns out when the chat outgrows the window (the reply
// says how many it left out). A reply belongs to its chat (live-chat.ts) and is saved under the question
// it answers, whatever the view shows meanwhile. After a turn the items get their saved ids and siblings,
// so the branch arrows show at once.
import { newId } from '../api/chat-socket.js';
import type { ThinkingOptions } from '../api/types.js';
import { ApiError } from '../api/client.js';
import { DEFAULT_CHAT_SETTINGS, getState, reportError, thinkingFor, type ThinkingSetting } from '../store.js';
import { withDocuments } from '../documents/chat-documents.js';
import { AgentTurn } from './agent-turn.js';
import { modelFor } from './chat-model.js';
import { explainError, thinkingToSave, type ChatItem, type MessageItem } from './chat-items.js';
import { agentParams, effectiveSettings, requestParams, systemPromptOf } from './chat-settings.js';
import { attachIds, titleFrom, type ConversationSource } from './conversations.js';
import type { LiveChat } from './live-chat.js';
import { streamReply } from './stream-turn.js';
import type { ToolRunner } from './tool-runner.js';

/** What the turns need of the view. */
export interface TurnsHost {
  source(): ConversationSource;
  tools(): ToolRunner | null;
  /** Conversations are saved on the backend. */
  persistent(): boolean;
  setItems(chat: LiveChat, items: ChatItem[]): void;
  setBusy(chat: LiveChat, busy: boolean): void;
  /** The chat got (or changed) its saved id. */
  adopt(chat: LiveChat, id: string | null): void;
  /** Streamed text arrived (re-render soon). */
  touch(chat: LiveChat): void;
  /** Follow the end of the log (if `chat` is shown). */
  stick(chat: LiveChat): void;
  refreshList(): void;
  /** Whether this turn goes through the tool-using agent. */
  agentMode(): Promise<boolean>;
  /** A turn ended (to count the context again). */
  ended(chat: LiveChat): void;
}

/** A chat's thinking setting as the backend takes it. */
function thinkingRequest(t: ThinkingSetting): Pick<ThinkingOptions, 'enabled' | 'budget'> {
  return { enabled: t.enabled, ...(t.enabled && t.budget !== null ? { budget: t.budget } : {}) };
}

export class ChatTurns {
  readonly #host: TurnsHost;

  constructor(host: TurnsHost) {
    this.#host = host;
  }

  /** A new question after the branch shown. */
  async send(chat: LiveChat, text: string): Promise<void> {
    if (chat.busy) return;
    this.#host.setBusy(chat, true);
    const user: MessageItem = { kind: 'message', key: newId('m'), role: 'user', content: text };
    this.#host.setItems(chat, [...chat.items, user]);
    this.#host.stick(chat);
    await this.#ask(chat, user, undefined);
  }

  /** An edited question: saved next to the original (which stays, as a sibling), then answered. */
  async edit(chat: LiveChat, key: string, text: string): Promise<void> {
    const at = chat.items.findIndex((i) => i.key === key);
    const old = chat.items[at];
    if (chat.busy || !old || old.kind !== 'message' || old.role !== 'user') return;
    this.#host.setBusy(chat, true);
    const user: MessageItem = { kind: 'message', key: newId('m'), role: 'user', content: text };
    this.#host.setItems(chat, [...chat.items.slice(0, at), user]);
    this.#host.stick(chat);
    await this.#ask(chat, user, old.id !== undefined ? (old.parentId ?? null) : undefined);
  }

  /** A new reply to the last question; the old one stays as a sibling. `withoutTools`: the agent offers none this time. */
  async regenerate(chat: LiveChat, options: { withoutTools?: boolean } = {}): Promise<void> {
    const lastUser = chat.items.findLastIndex((i) => i.kind === 'message' && i.role === 'user');
    if (chat.busy || lastUser < 0) return;
    this.#host.setBusy(chat, true);
    const user = chat.items[lastUser] as MessageItem;
    // Everything after the question (its reply and tool cards) leaves the view; the saved branch keeps it.
    this.#host.setItems(chat, chat.items.slice(0, lastUser + 1));
    const agent = await this.#host.agentMode();
    if (chat.id && user.id === undefined && this.#host.persistent()) await this.#attachSaved(chat); // e.g. an earlier sync failed
    if (chat.id && user.id !== undefined && this.#host.persistent()) {
      try {
        // The branch shown ends at the question (plain) or before it (the agent saves the question again).
        await this.#host.source().selectBranch(chat.id, agent ? (user.parentId ?? null) : user.id, false);
      } catch (err) {
        reportError(err, 'Could not update the saved conversation');
      }
    }
    await (agent ? this.#withTools(chat, user.content, options.withoutTools === true) : this.#plain(chat, user.id));
    await this.#finish(chat);
  }

  /** Saves the question under `parentId` (undefined: after the branch shown) and gets the reply. */
  async #ask(chat: LiveChat, user: MessageItem, parentId: number | null | undefined): Promise<void> {
    const host = this.#host;
    const agent = await host.agentMode();
    let conversation = chat.id;
    try {
      if (agent) {
        // The agent saves the turn itself: a new conversation is created first so its id is known, and an
        // edit first shows the branch the new question goes under.
        if (!conversation && host.persistent()) conversation = await host.source().create(titleFrom(user.content), chat.settings);
        else if (conversation && parentId !== undefined && host.persistent()) await host.source().selectBranch(conversation, parentId, false);
      } else {
        const r = await host.source().append(conversation, { role: 'user', content: user.content }, chat.items, {
          ...(conversation && parentId !== undefined ? { parentId } : {}),
          settings: chat.settings,
        });
        conversation = r.conversationId;
        if (r.saved) Object.assign(user, r.saved);
      }
    } catch (err) {
      reportError(err, 'Could not save the message');
    }
    // The reply goes on even if the user moved to another chat meanwhile: it belongs to this one.
    const created = conversation !== chat.id;
    host.adopt(chat, conversation);
    if (created) host.refreshList(); // listed (and marked as replying) from now on
    await (agent ? this.#withTools(chat, user.content) : this.#plain(chat, user.id));
    await this.#finish(chat);
  }

  async #finish(chat: LiveChat): Promise<void> {
    // The saved ids and siblings of what is shown (the agent saved its turn; a regenerate added a sibling).
    if (!chat.deleted && !chat.busy) await this.#attachSaved(chat);
    this.#host.ended(chat);
    this.#host.refreshList();
  }

  async #attachSaved(chat: LiveChat): Promise<void> {
    if (!chat.id) return;
    try {
      const saved = await this.#host.source().savedItems(chat.id);
      if (saved && attachIds(chat.items, saved)) this.#host.setItems(chat, [...chat.items]);
    } catch {
      /* the arrows show on the next open */
    }
  }

  #newReply(chat: LiveChat): MessageItem {
    const reply: MessageItem = { kind: 'message', key: newId('m'), role: 'assistant', content: '', streaming: true };
    this.#host.setItems(chat, [...chat.items, reply]);
    this.#host.setBusy(chat, true);
    this.#host.stick(chat);
    return reply;
  }

  /** A plain reply over the WebSocket stream, saved under `parentId` (the question) when it ends. */
  async #plain(chat: LiveChat, parentId: number | undefined): Promise<void> {
    const app = getState().chat;
    const settings = effectiveSettings(chat.settings, app);
    const history = chat.history(systemPromptOf(settings, app));
    // The chat's document collections: the question goes with the passages that may answer it.
    const docs = await withDocuments(chat.id, history);
    const messages = docs?.messages ?? history;
    const params = requestParams(settings.sampling);
    const reply = this.#newReply(chat);
    if (docs) reply.citations = docs.citations;
    const request = {
      messages,
      params,
      thinking: thinkingRequest(thinkingFor(chat.id)),
      // The chat's model (the picker in its header); none: the default model.
      ...(modelFor(chat.id) ? { model: modelFor(chat.id)! } : {}),
      // A chat that outgrows the window goes on without its oldest turns; the reply says how many.
      contextOverflow: 'drop_oldest' as const,
      ...(settings.sampling.contextTokens !== null ? { contextTokens: settings.sampling.contextTokens } : {}),
      // The conversation id lets the backend drop the chat's saved KV state when the chat is deleted.
      ...(chat.id ? { conversationId: chat.id } : {}),
    };
    await streamReply(request, reply, {
      touch: () => this.#host.touch(chat),
      changed: () => this.#host.setItems(chat, [...chat.items]),
      setHandle: (h) => (chat.handle = h),
    });
    // A reply that only thought (stopped, or out of tokens before the answer) is kept for its thinking.
    if ((reply.content || reply.reasoning) && !reply.error && !chat.deleted) {
      const model = getState().model?.model?.id;
      const meta = {
        ...(model ? { model } : {}),
        params: { ...params, preset: settings.preset },
        ...(reply.stats ? { completionTokens: reply.stats.completionTokens } : {}),
        ...(reply.dropped ? { droppedMessages: reply.dropped } : {}),
      };
      try {
        const r = await this.#host.source().append(chat.id, { role: 'assistant', content: reply.content, ...thinkingToSave(reply), meta }, chat.items, {
          ...(chat.id && parentId !== undefined ? { parentId } : {}),
          settings: chat.settings,
        });
        this.#host.adopt(chat, r.conversationId);
        if (r.saved) Object.assign(reply, r.saved);
      } catch (err) {
        reportError(err, 'Could not save the reply');
      }
    }
    // Busy until the reply is saved, so a regenerate cannot race the save.
    this.#host.setBusy(chat, false);
  }

  /** A turn through the backend's tool-using agent (which saves it): its events drive the reply's thinking and text and the tool cards. */
  async #withTools(chat: LiveChat, message: string, withoutTools = false): Promise<void> {
    const app = getState().chat;
    const settings = effectiveSettings(chat.settings, app);
    const reply = this.#newReply(chat);
    const controller = new AbortController();
    chat.handle = { id: reply.key, cancel: () => controller.abort() };
    const host = this.#host;
    const turn = new AgentTurn(
      {
        get items() {
          return chat.items;
        },
        set items(items: ChatItem[]) {
          host.setItems(chat, items);
        },
        touch: () => host.touch(chat),
      },
      reply,
    );
    // The agent's own prompt (which explains its tools) unless the chat or the app has another.
    const appPrompt = app.systemPrompt.trim() !== DEFAULT_CHAT_SETTINGS.systemPrompt ? app.systemPrompt.trim() : '';
    const custom = settings.systemPrompt?.trim() || appPrompt;
    try {
      await host.tools()!.run(
        {
          message,
          model: modelFor(chat.id),
          conversationId: chat.id,
          ...(custom ? { systemPrompt: custom } : {}),
          params: agentParams(settings.sampling),
          thinking: thinkingRequest(thinkingFor(chat.id)),
          withoutTools,
        },
        turn.onEvent,
        controller.signal,
      );
    } catch (err) {
      if ((err as Error).name === 'AbortError') Object.assign(reply, { stopReason: 'aborted' });
      else Object.assign(reply, { error: err instanceof ApiError ? explainError(err.code, err.message) : (err as Error).message });
      host.setItems(chat, [...chat.items]);
    }
    if (turn.conversationId) host.adopt(chat, turn.conversationId);
    turn.finish();
    host.setBusy(chat, false);
  }
}
