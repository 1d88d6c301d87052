// <wf-chat-view>: the chat. Streams replies over the WebSocket protocol (reasoning/token → done | error), shows
// a thinking model's thinking apart from the answer, renders the answer as markdown while it arrives, and
// offers stop, regenerate and copy. Conversations are saved through the conversations routes when the
// backend has them (list, search, open, delete); otherwise they live in this window. Tool calls of the
// assistant (when the backend runs tools) appear as cards with Allow/Deny. Thinking (on/off, budget) is set
// per chat in the header and sent with every request.
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import type { StreamHandle } from '../api/chat-socket.js';
import { newId } from '../api/chat-socket.js';
import type { ChatMessage, ThinkingOptions } from '../api/types.js';
import { ApiError } from '../api/client.js';
import { DEFAULT_CHAT_SETTINGS, StoreController, api, forgetThinking, moveThinking, reportError, setThinking, thinkingFor, type ThinkingSetting } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import { AgentTurn } from './agent-turn.js';
import { explainError, thinkingToSave, type ChatItem, type MessageItem, type ToolItem } from './chat-items.js';
import type { ChatHeader } from './chat-header.js';
import type { ChatLog } from './chat-log.js';
import type { Composer } from './composer.js';
import { ConversationSource, titleFrom, type ConversationSummary } from './conversations.js';
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
  };

  compact = false;
  _items: ChatItem[] = [];
  _busy = false;
  _conversations: ConversationSummary[] = [];
  _activeId: string | null = null;
  _query = '';
  _persistent = false;
  _toolsAvailable = false;

  readonly #store = new StoreController(this);
  #handle: StreamHandle | null = null;
  #source: ConversationSource | null = null;
  #tools: ToolRunner | null = null;
  /** Bumped when another conversation is shown: a turn still finishing then saves into its own conversation only. */
  #epoch = 0;

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
    this.#handle?.cancel();
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
      this._conversations = this._query ? await this.#source.search(this._query) : await this.#source.list();
    } catch (err) {
      reportError(err, 'Could not load conversations');
    }
  }

  /** The transcript as protocol messages (system prompt first; failed or empty replies left out). */
  #history(): ChatMessage[] {
    const sys = this.#store.state.chat.systemPrompt.trim();
    const msgs: ChatMessage[] = sys ? [{ role: 'system', content: sys }] : [];
    for (const it of this._items) {
      if (it.kind !== 'message') continue;
      // Thinking is not sent back: templates drop earlier turns' thinking anyway.
      if (it.role === 'assistant' && (it.error || !it.content)) continue;
      msgs.push({ role: it.role, content: it.content });
    }
    return msgs;
  }

  #update(item: MessageItem, patch: Partial<MessageItem>): void {
    Object.assign(item, patch);
    this._items = [...this._items];
  }

  /** The shown conversation got its id from a save (or a new one): its thinking setting goes with it. */
  #adopt(id: string | null): void {
    moveThinking(this._activeId, id);
    this._activeId = id;
  }

  #log(): ChatLog | null {
    return this.renderRoot.querySelector<ChatLog>('wf-chat-log');
  }

  /** Streamed text re-renders at most once per animation frame (long replies re-parse markdown). */
  readonly #frames = new FrameBatch(() => (this._items = [...this._items]));

  #touch(): void {
    this.#frames.request();
  }

  /** Whether this turn goes through the backend's tool-using agent. */
  async #agentMode(): Promise<boolean> {
    return this.#store.state.chat.useTools && this.#tools !== null && (await this.#tools.available());
  }

  async #send(text: string): Promise<void> {
    if (this._busy) return;
    this._busy = true;
    const epoch = this.#epoch;
    const user: MessageItem = { kind: 'message', key: newId('m'), role: 'user', content: text };
    this._items = [...this._items, user];
    this.#log()?.stick();
    const agent = await this.#agentMode();
    let conversation = this._activeId;
    try {
      if (agent) {
        // The agent saves the turn itself; a new conversation is created first so its id is known.
        if (!conversation && this._persistent) {
          conversation = await this.#source!.create(titleFrom(text));
          void this.#refreshList();
        }
      } else {
        conversation = await this.#source!.append(conversation, { role: 'user', content: text }, this._items);
      }
    } catch (err) {
      reportError(err, 'Could not save the message');
    }
    if (epoch !== this.#epoch) {
      this._busy = false;
      return; // the user moved to another conversation meanwhile
    }
    this.#adopt(conversation);
    await (agent ? this.#generateWithTools(text) : this.#generate());
    void this.#refreshList();
  }

  #newReply(): MessageItem {
    const reply: MessageItem = { kind: 'message', key: newId('m'), role: 'assistant', content: '', streaming: true };
    this._items = [...this._items, reply];
    this._busy = true;
    this.#log()?.stick();
    return reply;
  }

  /** A plain reply over the WebSocket stream. */
  async #generate(): Promise<void> {
    const settings = this.#store.state.chat;
    const messages = this.#history();
    const epoch = this.#epoch;
    let conversation = this._activeId;
    const thinking = thinkingRequest(thinkingFor(conversation));
    const reply = this.#newReply();
    // The conversation id lets the backend drop the chat's saved KV state when the chat is deleted.
    const request = { messages, params: { temperature: settings.temperature, maxTokens: settings.maxTokens }, thinking, ...(conversation ? { conversationId: conversation } : {}) };
    await streamReply(request, reply, {
      touch: () => this.#touch(),
      changed: () => (this._items = [...this._items]),
      setHandle: (h) => (this.#handle = h),
    });
    // A reply that only thought (stopped, or out of tokens before the answer) is kept for its thinking.
    if ((reply.content || reply.reasoning) && !reply.error) {
      try {
        const items = epoch === this.#epoch ? this._items : [];
        conversation = await this.#source!.append(conversation, { role: 'assistant', content: reply.content, ...thinkingToSave(reply) }, items);
        if (epoch === this.#epoch) this.#adopt(conversation);
      } catch (err) {
        reportError(err, 'Could not save the reply');
      }
    }
    // Busy until the reply is saved, so a regenerate cannot race the save.
    this._busy = false;
    void this.#refreshList();
  }

  /** A turn through the backend's tool-using agent: its events drive the reply's thinking and text and the tool cards. */
  async #generateWithTools(message: string): Promise<void> {
    const settings = this.#store.state.chat;
    const epoch = this.#epoch;
    const conversation = this._activeId;
    const thinking = thinkingRequest(thinkingFor(conversation));
    const reply = this.#newReply();
    const controller = new AbortController();
    this.#handle = { id: reply.key, cancel: () => controller.abort() };
    const view = this;
    const turn = new AgentTurn(
      {
        get items() {
          return view._items;
        },
        set items(items: ChatItem[]) {
          view._items = items;
        },
        touch: () => this.#touch(),
      },
      reply,
    );
    const custom = settings.systemPrompt.trim() !== DEFAULT_CHAT_SETTINGS.systemPrompt ? settings.systemPrompt.trim() : '';
    try {
      await this.#tools!.run(
        {
          message,
          conversationId: conversation,
          ...(custom ? { systemPrompt: custom } : {}),
          params: { temperature: settings.temperature, maxTokens: settings.maxTokens },
          thinking,
        },
        turn.onEvent,
        controller.signal,
      );
    } catch (err) {
      if ((err as Error).name === 'AbortError') this.#update(reply, { stopReason: 'aborted' });
      else this.#update(reply, { error: err instanceof ApiError ? explainError(err.code, err.message) : (err as Error).message });
    }
    if (turn.conversationId && epoch === this.#epoch) this.#adopt(turn.conversationId);
    turn.finish();
    this._busy = false;
    this.#handle = null;
  }

  #stop(): void {
    this.#handle?.cancel();
  }

  async #regenerate(): Promise<void> {
    const lastUser = this._items.findLastIndex((i) => i.kind === 'message' && i.role === 'user');
    if (this._busy || lastUser < 0) return;
    this._busy = true;
    const epoch = this.#epoch;
    const userText = (this._items[lastUser] as MessageItem).content;
    // Everything after the last question (its reply and tool cards) goes.
    this._items = this._items.slice(0, lastUser + 1);
    const agent = await this.#agentMode();
    try {
      if (agent) this.#adopt(await this.#source!.truncateBeforeLastUser(this._activeId));
      else this.#adopt(await this.#source!.dropLastReply(this._activeId, this._items));
    } catch (err) {
      reportError(err, 'Could not update the saved conversation');
    }
    if (epoch !== this.#epoch) {
      this._busy = false;
      return;
    }
    await (agent ? this.#generateWithTools(userText) : this.#generate());
    void this.#refreshList();
  }

  async #confirmTool(id: string, allow: boolean): Promise<void> {
    const card = this._items.find((i): i is ToolItem => i.kind === 'tool' && i.call.id === id);
    try {
      await this.#tools!.decide(id, allow);
      if (card && card.call.status === 'pending') {
        card.call = { ...card.call, status: allow ? 'approved' : 'denied' };
        this._items = [...this._items];
      }
    } catch (err) {
      reportError(err, allow ? 'Could not run the tool' : 'Could not deny the tool call');
    }
  }

  #newConversation(): void {
    this.#epoch++;
    if (this._busy) this.#stop();
    this._items = [];
    this._activeId = null;
    forgetThinking(null); // a new chat starts from the default
    this.renderRoot.querySelector<Composer>('wf-composer')?.focus();
  }

  async #open(id: string): Promise<void> {
    this.#epoch++;
    if (this._busy) this.#stop();
    try {
      const items = await this.#source!.open(id);
      this._items = items;
      this._activeId = id;
      this.#log()?.stick();
    } catch (err) {
      reportError(err, 'Could not open the conversation');
    }
  }

  async #delete(id: string): Promise<void> {
    try {
      await this.#source!.remove(id);
      forgetThinking(id);
      if (this._activeId === id) this.#newConversation();
      await this.#refreshList();
    } catch (err) {
      reportError(err, 'Could not delete the conversation');
    }
  }

  override render() {
    const title = this._conversations.find((c) => c.id === this._activeId)?.title ?? 'New chat';
    return html`
      <aside aria-label="Conversations">
        <wf-conversation-list
          .conversations=${this._conversations}
          .activeId=${this._activeId}
          .query=${this._query}
          ?persistent=${this._persistent}
          @new-conversation=${this.#newConversation}
          @select-conversation=${(e: CustomEvent<{ id: string }>) => void this.#open(e.detail.id)}
          @delete-conversation=${(e: CustomEvent<{ id: string }>) => void this.#delete(e.detail.id)}
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
          @confirm-tool=${(e: CustomEvent<{ id: string }>) => void this.#confirmTool(e.detail.id, true)}
          @deny-tool=${(e: CustomEvent<{ id: string }>) => void this.#confirmTool(e.detail.id, false)}
        ></wf-chat-log>
        <wf-composer ?busy=${this._busy} @send=${(e: CustomEvent<{ text: string }>) => void this.#send(e.detail.text)} @stop=${this.#stop}></wf-composer>
      </section>
    `;
  }
}

customElements.define('wf-chat-view', ChatView);
