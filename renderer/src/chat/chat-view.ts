// <wf-chat-view>: the chat. Streams replies over the WebSocket protocol (reasoning/token → done | error), shows
// a thinking model's thinking apart from the answer, renders the answer as markdown while it arrives, and
// offers stop, regenerate and copy. Conversations are saved through the conversations routes when the
// backend has them (list, search, open, delete with a few seconds to undo); otherwise they live in this
// window. A reply stays with its own conversation (live-chat.ts): it keeps streaming and is saved there
// when the user starts a new chat or opens another, and shows again where they come back. Tool calls of the
// assistant (when the backend runs tools) appear as cards with Allow/Deny. Thinking (on/off, budget) is set
// per chat in the header and sent with every request.
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { newId } from '../api/chat-socket.js';
import type { ThinkingOptions } from '../api/types.js';
import { ApiError } from '../api/client.js';
import { DEFAULT_CHAT_SETTINGS, StoreController, api, forgetThinking, moveThinking, reportError, setThinking, thinkingFor, type ThinkingSetting } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import { deleteWithUndo } from '../shared/undo.js';
import { AgentTurn } from './agent-turn.js';
import { explainError, thinkingToSave, type ChatItem, type MessageItem, type ToolItem } from './chat-items.js';
import type { ChatHeader } from './chat-header.js';
import type { ChatLog } from './chat-log.js';
import type { Composer } from './composer.js';
import { ConversationSource, titleFrom, type ConversationSummary } from './conversations.js';
import { LiveChat, RunningChats } from './live-chat.js';
import { FrameBatch, streamReply } from './stream-turn.js';
import { ToolRunner } from './tool-runner.js';
import './chat-header.js';
import './chat-log.js';
import './composer.js';
import './conversation-list.js';

export type { ChatItem, MessageItem, ToolItem } from './chat-items.js';

/** A chat's thinking setting as the backend takes it. */
function thinkingRequest(t: ThinkingSetting): Pick<ThinkingOptions, 'enabled' | 'budget'> {
  return { enabled: t.enabled, ...(t.enabled && t.budget !== null ? { budget: t.budget } : {}) };
}

export class ChatView extends LitElement {
  static override properties: PropertyDeclarations = {
    compact: { type: Boolean, reflect: true },
    _items: { state: true },
    _busy: { state: true },
    _conversations: { state: true },
    _activeId: { state: true },
    _query: { state: true },
    _persistent: { state: true },
    _toolsAvailable: { state: true },
    _replying: { state: true },
  };

  compact = false;
  _items: ChatItem[] = [];
  _busy = false;
  _conversations: ConversationSummary[] = [];
  _activeId: string | null = null;
  _query = '';
  _persistent = false;
  _toolsAvailable = false;
  /** Saved conversations with a reply in flight (marked in the list). */
  _replying: string[] = [];

  readonly #store = new StoreController(this);
  #source: ConversationSource | null = null;
  #tools: ToolRunner | null = null;
  /** The chat shown; `_items`, `_busy` and `_activeId` mirror it. */
  #chat = new LiveChat();
  readonly #running = new RunningChats();
  /** Conversations deleted but still undoable: kept out of the list. */
  readonly #deleting = new Set<string>();
  /** Bumped by every open or new chat, so that a slow open does not replace a later choice. */
  #opening = 0;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: grid;
        grid-template-columns: 250px 1fr;
        height: 100%;
        min-height: 0;
      }
      :host([compact]) {
        grid-template-columns: 1fr;
      }
      aside {
        border-right: 1px solid var(--wf-border);
        background: var(--wf-surface);
        min-height: 0;
        display: flex;
        flex-direction: column;
      }
      :host([compact]) aside {
        display: none;
      }
      wf-conversation-list {
        flex: 1;
      }
      section.main {
        display: flex;
        flex-direction: column;
        min-height: 0;
        height: 100vh;
      }
      wf-composer {
        padding: 0.75rem 1.25rem 1rem;
      }
      @media (max-width: 900px) {
        :host {
          grid-template-columns: 1fr;
        }
        aside {
          display: none;
        }
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('wf-quick-ask', this.#onQuickAsk as EventListener);
    void this.#init();
  }

  override disconnectedCallback(): void {
    window.removeEventListener('wf-quick-ask', this.#onQuickAsk as EventListener);
    this.#running.cancelAll();
    super.disconnectedCallback();
  }

  async #init(): Promise<void> {
    this.#source = new ConversationSource(api());
    this.#tools = new ToolRunner(api());
    this._persistent = await this.#source.detect();
    this._toolsAvailable = await this.#tools.available();
    await this.#refreshList();
  }

  /** The view's title (the shell focuses it after navigation). */
  override focus(): void {
    this.renderRoot.querySelector<ChatHeader>('wf-chat-header')?.focus();
  }

  protected override firstUpdated(): void {
    if (this.compact) void this.updateComplete.then(() => this.renderRoot.querySelector<Composer>('wf-composer')?.focus());
  }

  #onQuickAsk = (e: CustomEvent<{ text: string }>): void => {
    const text = e.detail?.text?.trim();
    if (!text) {
      this.renderRoot.querySelector<Composer>('wf-composer')?.focus();
      return;
    }
    if (this._busy) {
      this.renderRoot.querySelector<Composer>('wf-composer')?.fill(text);
      return;
    }
    void this.#send(text);
  };

  async #refreshList(): Promise<void> {
    if (!this.#source) return;
    try {
      const list = this._query ? await this.#source.search(this._query) : await this.#source.list();
      this._conversations = list.filter((c) => !this.#deleting.has(c.id));
    } catch (err) {
      reportError(err, 'Could not load conversations');
    }
  }

  /** Shows a chat: its items, whether it is replying, its id. */
  #show(chat: LiveChat): void {
    this.#chat = chat;
    this._items = chat.items;
    this._busy = chat.busy;
    this._activeId = chat.id;
    this.#log()?.stick();
  }

  /** Replaces a chat's items; re-renders if it is the one shown. */
  #setItems(chat: LiveChat, items: ChatItem[]): void {
    chat.items = items;
    if (chat === this.#chat) this._items = items;
  }

  #setBusy(chat: LiveChat, busy: boolean): void {
    chat.busy = busy;
    if (busy) this.#running.add(chat);
    else {
      chat.handle = null;
      this.#running.delete(chat);
    }
    if (chat === this.#chat) this._busy = busy;
    this._replying = this.#running.ids();
  }

  #update(chat: LiveChat, item: MessageItem, patch: Partial<MessageItem>): void {
    Object.assign(item, patch);
    this.#setItems(chat, [...chat.items]);
  }

  /** A chat got its id from a save (or a new one): its thinking setting goes with it. */
  #adopt(chat: LiveChat, id: string | null): void {
    if (chat === this.#chat) {
      moveThinking(chat.id, id);
      this._activeId = id;
    }
    chat.id = id;
    this._replying = this.#running.ids();
  }

  #log(): ChatLog | null {
    return this.renderRoot.querySelector<ChatLog>('wf-chat-log');
  }

  /** Streamed text re-renders at most once per animation frame (long replies re-parse markdown). */
  readonly #frames = new FrameBatch(() => (this._items = [...this.#chat.items]));

  /** Streamed text arrived in `chat`: re-rendered soon if it is the one shown. */
  #touch(chat: LiveChat): void {
    if (chat === this.#chat) this.#frames.request();
  }

  /** Whether this turn goes through the backend's tool-using agent. */
  async #agentMode(): Promise<boolean> {
    return this.#store.state.chat.useTools && this.#tools !== null && (await this.#tools.available());
  }

  async #send(text: string): Promise<void> {
    const chat = this.#chat;
    if (chat.busy) return;
    this.#setBusy(chat, true);
    const user: MessageItem = { kind: 'message', key: newId('m'), role: 'user', content: text };
    this.#setItems(chat, [...chat.items, user]);
    this.#log()?.stick();
    const agent = await this.#agentMode();
    let conversation = chat.id;
    try {
      if (agent) {
        // The agent saves the turn itself; a new conversation is created first so its id is known.
        if (!conversation && this._persistent) {
          conversation = await this.#source!.create(titleFrom(text));
          void this.#refreshList();
        }
      } else {
        conversation = await this.#source!.append(conversation, { role: 'user', content: text }, chat.items);
      }
    } catch (err) {
      reportError(err, 'Could not save the message');
    }
    // The reply goes on even if the user moved to another chat meanwhile: it belongs to this one.
    const created = conversation !== chat.id;
    this.#adopt(chat, conversation);
    if (created) void this.#refreshList(); // listed (and marked as replying) from now on
    await (agent ? this.#generateWithTools(chat, text) : this.#generate(chat));
    void this.#refreshList();
  }

  #newReply(chat: LiveChat): MessageItem {
    const reply: MessageItem = { kind: 'message', key: newId('m'), role: 'assistant', content: '', streaming: true };
    this.#setItems(chat, [...chat.items, reply]);
    this.#setBusy(chat, true);
    if (chat === this.#chat) this.#log()?.stick();
    return reply;
  }

  /** A plain reply over the WebSocket stream, saved into `chat`'s conversation when it ends. */
  async #generate(chat: LiveChat): Promise<void> {
    const settings = this.#store.state.chat;
    const messages = chat.history(settings.systemPrompt);
    const thinking = thinkingRequest(thinkingFor(chat.id));
    const reply = this.#newReply(chat);
    // The conversation id lets the backend drop the chat's saved KV state when the chat is deleted.
    const request = { messages, params: { temperature: settings.temperature, maxTokens: settings.maxTokens }, thinking, ...(chat.id ? { conversationId: chat.id } : {}) };
    await streamReply(request, reply, {
      touch: () => this.#touch(chat),
      changed: () => this.#setItems(chat, [...chat.items]),
      setHandle: (h) => (chat.handle = h),
    });
    // A reply that only thought (stopped, or out of tokens before the answer) is kept for its thinking.
    if ((reply.content || reply.reasoning) && !reply.error && !chat.deleted) {
      try {
        this.#adopt(chat, await this.#source!.append(chat.id, { role: 'assistant', content: reply.content, ...thinkingToSave(reply) }, chat.items));
      } catch (err) {
        reportError(err, 'Could not save the reply');
      }
    }
    // Busy until the reply is saved, so a regenerate cannot race the save.
    this.#setBusy(chat, false);
    void this.#refreshList();
  }

  /** A turn through the backend's tool-using agent (which saves it): its events drive the reply's thinking and text and the tool cards. */
  async #generateWithTools(chat: LiveChat, message: string, withoutTools = false): Promise<void> {
    const settings = this.#store.state.chat;
    const thinking = thinkingRequest(thinkingFor(chat.id));
    const reply = this.#newReply(chat);
    const controller = new AbortController();
    chat.handle = { id: reply.key, cancel: () => controller.abort() };
    const view = this;
    const turn = new AgentTurn(
      {
        get items() {
          return chat.items;
        },
        set items(items: ChatItem[]) {
          view.#setItems(chat, items);
        },
        touch: () => this.#touch(chat),
      },
      reply,
    );
    const custom = settings.systemPrompt.trim() !== DEFAULT_CHAT_SETTINGS.systemPrompt ? settings.systemPrompt.trim() : '';
    try {
      await this.#tools!.run(
        {
          message,
          conversationId: chat.id,
          ...(custom ? { systemPrompt: custom } : {}),
          params: { temperature: settings.temperature, maxTokens: settings.maxTokens },
          thinking,
          withoutTools,
        },
        turn.onEvent,
        controller.signal,
      );
    } catch (err) {
      if ((err as Error).name === 'AbortError') this.#update(chat, reply, { stopReason: 'aborted' });
      else this.#update(chat, reply, { error: err instanceof ApiError ? explainError(err.code, err.message) : (err as Error).message });
    }
    if (turn.conversationId) this.#adopt(chat, turn.conversationId);
    turn.finish();
    this.#setBusy(chat, false);
  }

  #stop(): void {
    this.#chat.handle?.cancel();
  }

  /** `withoutTools`: the agent offers no tools this time (after an empty reply). */
  async #regenerate(options: { withoutTools?: boolean } = {}): Promise<void> {
    const chat = this.#chat;
    const lastUser = chat.items.findLastIndex((i) => i.kind === 'message' && i.role === 'user');
    if (chat.busy || lastUser < 0) return;
    this.#setBusy(chat, true);
    const userText = (chat.items[lastUser] as MessageItem).content;
    // Everything after the last question (its reply and tool cards) goes.
    this.#setItems(chat, chat.items.slice(0, lastUser + 1));
    const agent = await this.#agentMode();
    try {
      if (agent) this.#adopt(chat, await this.#source!.truncateBeforeLastUser(chat.id));
      else this.#adopt(chat, await this.#source!.dropLastReply(chat.id, chat.items));
    } catch (err) {
      reportError(err, 'Could not update the saved conversation');
    }
    await (agent ? this.#generateWithTools(chat, userText, options.withoutTools === true) : this.#generate(chat));
    void this.#refreshList();
  }

  async #confirmTool(id: string, allow: boolean, args?: Record<string, unknown>): Promise<void> {
    const chat = this.#chat;
    const card = chat.items.find((i): i is ToolItem => i.kind === 'tool' && i.call.id === id);
    try {
      await this.#tools!.decide(id, allow, args);
      if (card && card.call.status === 'pending') {
        card.call = { ...card.call, status: allow ? 'approved' : 'denied' };
        this.#setItems(chat, [...chat.items]);
      }
    } catch (err) {
      reportError(err, allow ? 'Could not run the tool' : 'Could not deny the tool call');
    }
  }

  /** A new, empty chat; a reply still streaming in the one shown goes on in its own conversation. */
  #newConversation(): void {
    this.#opening++;
    this.#show(new LiveChat());
    forgetThinking(null); // a new chat starts from the default
    this.renderRoot.querySelector<Composer>('wf-composer')?.focus();
  }

  async #open(id: string): Promise<void> {
    const seq = ++this.#opening;
    // A chat with a reply in flight is shown as it is, still streaming.
    const running = this.#running.byId(id);
    if (running) return this.#show(running);
    try {
      const items = await this.#source!.open(id);
      if (seq !== this.#opening) return;
      this.#show(this.#running.byId(id) ?? new LiveChat(id, items));
    } catch (err) {
      reportError(err, 'Could not open the conversation');
    }
  }

  /** Deletes after a few seconds unless undone (a single click or Tab+Enter must not lose a chat). */
  #delete(id: string): void {
    const title = this._conversations.find((c) => c.id === id)?.title ?? 'the conversation';
    let placeholder: LiveChat | null = null;
    deleteWithUndo({
      message: `Deleted "${title}".`,
      failure: 'Could not delete the conversation',
      hide: () => {
        this.#deleting.add(id);
        this._conversations = this._conversations.filter((c) => c.id !== id);
        if (this._activeId === id) {
          this.#newConversation();
          placeholder = this.#chat;
        }
      },
      restore: () => {
        this.#deleting.delete(id);
        void this.#refreshList();
        // Back where the user was, unless they went on to something else meanwhile.
        if (placeholder && this.#chat === placeholder && placeholder.items.length === 0) void this.#open(id);
      },
      commit: async () => {
        const running = this.#running.byId(id);
        if (running) {
          running.deleted = true;
          running.handle?.cancel();
        }
        await this.#source!.remove(id);
        this.#deleting.delete(id);
        forgetThinking(id);
        await this.#refreshList();
      },
    });
  }

  override render() {
    const title = this._conversations.find((c) => c.id === this._activeId)?.title ?? 'New chat';
    return html`
      <aside aria-label="Conversations">
        <wf-conversation-list
          .conversations=${this._conversations}
          .activeId=${this._activeId}
          .query=${this._query}
          .replying=${this._replying}
          ?persistent=${this._persistent}
          @new-conversation=${this.#newConversation}
          @select-conversation=${(e: CustomEvent<{ id: string }>) => void this.#open(e.detail.id)}
          @delete-conversation=${(e: CustomEvent<{ id: string }>) => this.#delete(e.detail.id)}
          @search=${(e: CustomEvent<{ query: string }>) => {
            this._query = e.detail.query;
            void this.#refreshList();
          }}
        ></wf-conversation-list>
      </aside>
      <section class="main">
        <wf-chat-header
          heading=${this.compact ? 'Quick ask' : title}
          .thinking=${thinkingFor(this._activeId)}
          ?tools-available=${this._toolsAvailable}
          @thinking-change=${(e: CustomEvent<Partial<ThinkingSetting>>) => setThinking(this._activeId, e.detail)}
        ></wf-chat-header>
        <wf-chat-log
          .items=${this._items}
          ?busy=${this._busy}
          @regenerate=${() => void this.#regenerate()}
          @confirm-tool=${(e: CustomEvent<{ id: string; arguments?: Record<string, unknown> }>) => void this.#confirmTool(e.detail.id, true, e.detail.arguments)}
          @retry-reply=${(e: CustomEvent<{ withoutTools: boolean }>) => void this.#regenerate({ withoutTools: e.detail.withoutTools })}
          @deny-tool=${(e: CustomEvent<{ id: string }>) => void this.#confirmTool(e.detail.id, false)}
        ></wf-chat-log>
        <wf-composer ?busy=${this._busy} @send=${(e: CustomEvent<{ text: string }>) => void this.#send(e.detail.text)} @stop=${this.#stop}></wf-composer>
      </section>
    `;
  }
}

customElements.define('wf-chat-view', ChatView);
