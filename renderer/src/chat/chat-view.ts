// <wf-chat-view>: the chat. Streams replies over the WebSocket protocol (token → done | error), renders them
// as markdown while they arrive, and offers stop, regenerate and copy. Conversations are saved through the
// conversations routes when the backend has them (list, search, open, delete); otherwise they live in this
// window. Tool calls of the assistant (when the backend runs tools) appear as cards with Allow/Deny.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { StreamHandle } from '../api/chat-socket.js';
import { newId } from '../api/chat-socket.js';
import type { ChatMessage, WsDoneMessage } from '../api/types.js';
import { ApiError } from '../api/client.js';
import { DEFAULT_CHAT_SETTINGS, StoreController, api, navigate, notify, reportError, setChatSettings } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import type { MessageStats } from './chat-message.js';
import type { Composer } from './composer.js';
import { ConversationSource, titleFrom, type ConversationSummary } from './conversations.js';
import { ToolRunner, type ToolEvent } from './tool-runner.js';
import type { ToolCallView } from './tool-call-card.js';
import './chat-message.js';
import './composer.js';
import './conversation-list.js';
import './tool-call-card.js';

export interface MessageItem {
  kind: 'message';
  key: string;
  role: 'user' | 'assistant';
  content: string;
  streaming?: boolean;
  stopReason?: string | null;
  error?: string | null;
  stats?: MessageStats | null;
}

export interface ToolItem {
  kind: 'tool';
  key: string;
  call: ToolCallView;
}

export type ChatItem = MessageItem | ToolItem;

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
  #stickToBottom = true;
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
      header {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        padding: 0.75rem 1.25rem;
        border-bottom: 1px solid var(--wf-border);
      }
      header h1 {
        margin: 0;
        font-size: 1.1rem;
      }
      .log {
        flex: 1;
        overflow-y: auto;
        padding: 1rem 1.25rem;
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
      }
      .empty {
        margin: auto;
        text-align: center;
        color: var(--wf-muted);
        max-width: 420px;
      }
      .banner {
        margin: 0.75rem 1.25rem 0;
        padding: 0.6rem 0.8rem;
        border-radius: var(--wf-radius);
        background: var(--wf-surface-2);
        border: 1px solid var(--wf-border);
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
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
      if (it.role === 'assistant' && (it.error || !it.content)) continue;
      msgs.push({ role: it.role, content: it.content });
    }
    return msgs;
  }

  #update(item: MessageItem, patch: Partial<MessageItem>): void {
    Object.assign(item, patch);
    this._items = [...this._items];
  }

  #frame: number | null = null;

  /** Appends streamed text; the view re-renders at most once per animation frame (long replies re-parse markdown). */
  #append(item: MessageItem, text: string): void {
    item.content += text;
    if (this.#frame !== null) return;
    const flush = () => {
      if (this.#frame === null) return;
      cancelAnimationFrame(this.#frame);
      clearTimeout(fallback);
      this.#frame = null;
      this._items = [...this._items];
    };
    // rAF does not run in a hidden window; the timeout keeps the text coming there.
    const fallback = setTimeout(flush, 120);
    this.#frame = requestAnimationFrame(flush);
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
    this.#stickToBottom = true;
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
    this._activeId = conversation;
    await (agent ? this.#generateWithTools(text) : this.#generate());
    void this.#refreshList();
  }

  #newReply(): MessageItem {
    const reply: MessageItem = { kind: 'message', key: newId('m'), role: 'assistant', content: '', streaming: true };
    this._items = [...this._items, reply];
    this._busy = true;
    this.#stickToBottom = true;
    return reply;
  }

  /** A plain reply over the WebSocket stream. */
  async #generate(): Promise<void> {
    const settings = this.#store.state.chat;
    const messages = this.#history();
    const epoch = this.#epoch;
    let conversation = this._activeId;
    const reply = this.#newReply();
    await new Promise<void>((resolve) => {
      const finish = (patch: Partial<MessageItem>) => {
        this.#update(reply, { ...patch, streaming: false });
        this.#handle = null;
        resolve();
      };
      api()
        .chat.start(
          { messages, params: { temperature: settings.temperature, maxTokens: settings.maxTokens } },
          {
            onToken: (t) => this.#append(reply, t),
            onDone: (d: WsDoneMessage) =>
              finish({
                stopReason: d.stopReason,
                stats: {
                  completionTokens: d.usage.completionTokens,
                  tokensPerSecond: d.timings.generationTokensPerSecond,
                  timeToFirstTokenMs: d.timings.timeToFirstTokenMs,
                },
              }),
            onError: (e) => finish({ error: explainError(e.code, e.message) }),
          },
        )
        .then(
          (h) => {
            this.#handle = h;
          },
          (err: Error) => finish({ error: err.message }),
        );
    });
    if (reply.content && !reply.error) {
      try {
        const items = epoch === this.#epoch ? this._items : [];
        conversation = await this.#source!.append(conversation, { role: 'assistant', content: reply.content }, items);
        if (epoch === this.#epoch) this._activeId = conversation;
      } catch (err) {
        reportError(err, 'Could not save the reply');
      }
    }
    // Busy until the reply is saved, so a regenerate cannot race the save.
    this._busy = false;
    void this.#refreshList();
  }

  /** A turn through the backend's tool-using agent: its events drive the reply text and the tool cards. */
  async #generateWithTools(message: string): Promise<void> {
    const settings = this.#store.state.chat;
    const epoch = this.#epoch;
    const conversation = this._activeId;
    const reply = this.#newReply();
    const controller = new AbortController();
    this.#handle = { id: reply.key, cancel: () => controller.abort() };
    const cards = new Map<string, ToolItem>();
    const onEvent = (ev: ToolEvent) => {
      switch (ev.type) {
        case 'token':
          this.#append(reply, ev.text);
          break;
        case 'tool_call': {
          const existing = cards.get(ev.call.id);
          if (existing) {
            const patch = Object.fromEntries(Object.entries(ev.call).filter(([, v]) => v !== undefined)) as Partial<ToolCallView>;
            existing.call = { ...existing.call, ...patch };
            this._items = [...this._items];
          } else {
            const item: ToolItem = { kind: 'tool', key: newId('t'), call: ev.call };
            cards.set(ev.call.id, item);
            // the card goes before the reply it leads to
            const at = this._items.indexOf(reply);
            this._items = [...this._items.slice(0, at), item, ...this._items.slice(at)];
          }
          break;
        }
        case 'done':
          if (ev.conversationId && epoch === this.#epoch) this._activeId = ev.conversationId;
          this.#update(reply, { stopReason: ev.stopReason === 'answer' ? null : ev.stopReason, ...(ev.answer ? { content: ev.answer } : {}) });
          break;
        case 'error':
          this.#update(reply, { error: explainError(ev.code, ev.message) });
          break;
      }
    };
    const custom = settings.systemPrompt.trim() !== DEFAULT_CHAT_SETTINGS.systemPrompt ? settings.systemPrompt.trim() : '';
    try {
      await this.#tools!.run(
        {
          message,
          conversationId: conversation,
          ...(custom ? { systemPrompt: custom } : {}),
          params: { temperature: settings.temperature, maxTokens: settings.maxTokens },
        },
        onEvent,
        controller.signal,
      );
    } catch (err) {
      if ((err as Error).name === 'AbortError') this.#update(reply, { stopReason: 'aborted' });
      else this.#update(reply, { error: err instanceof ApiError ? explainError(err.code, err.message) : (err as Error).message });
    }
    for (const card of cards.values()) {
      if (card.call.status === 'pending' || card.call.status === 'running' || card.call.status === 'approved') card.call = { ...card.call, status: 'error', error: 'The reply stopped before this call finished.' };
    }
    this.#update(reply, { streaming: false });
    this._busy = false;
    this.#handle = null;
  }

  #stop(): void {
    this.#handle?.cancel();
  }

  async #regenerate(): Promise<void> {
    if (this._busy) return;
    this._busy = true;
    const epoch = this.#epoch;
    const lastUser = this._items.findLastIndex((i) => i.kind === 'message' && i.role === 'user');
    if (lastUser < 0) return;
    const userText = (this._items[lastUser] as MessageItem).content;
    // Everything after the last question (its reply and tool cards) goes.
    this._items = this._items.slice(0, lastUser + 1);
    const agent = await this.#agentMode();
    try {
      if (agent) this._activeId = await this.#source!.truncateBeforeLastUser(this._activeId);
      else this._activeId = await this.#source!.dropLastReply(this._activeId, this._items);
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

  async #copy(item: MessageItem): Promise<void> {
    try {
      await navigator.clipboard.writeText(item.content);
      notify('success', 'Copied to the clipboard');
    } catch {
      notify('error', 'The clipboard is not available');
    }
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
    this.renderRoot.querySelector<Composer>('wf-composer')?.focus();
  }

  async #open(id: string): Promise<void> {
    this.#epoch++;
    if (this._busy) this.#stop();
    try {
      const items = await this.#source!.open(id);
      this._items = items;
      this._activeId = id;
      this.#stickToBottom = true;
    } catch (err) {
      reportError(err, 'Could not open the conversation');
    }
  }

  async #delete(id: string): Promise<void> {
    try {
      await this.#source!.remove(id);
      if (this._activeId === id) this.#newConversation();
      await this.#refreshList();
    } catch (err) {
      reportError(err, 'Could not delete the conversation');
    }
  }

  #onScroll(e: Event): void {
    const el = e.target as HTMLElement;
    this.#stickToBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
  }

  protected override updated(): void {
    if (this.#stickToBottom) {
      const log = this.renderRoot.querySelector('.log');
      if (log) log.scrollTop = log.scrollHeight;
    }
  }

  #banner() {
    const m = this.#store.state.model;
    if (!m || m.state === 'ready') return nothing;
    const text =
      m.state === 'loading'
        ? `The model is loading (${Math.round((m.progress ?? 0) * 100)}%)…`
        : m.state === 'error'
          ? `The model failed to load: ${m.error?.message ?? 'unknown error'}`
          : 'No model is loaded. Pick one in the model manager to start chatting.';
    return html`<div class="banner" role="status">
      <span class="grow">${text}</span>
      ${m.state !== 'loading' ? html`<button @click=${() => navigate('models')}>Open models</button>` : nothing}
    </div>`;
  }

  override render() {
    const lastAssistant = this._items.findLastIndex((i) => i.kind === 'message' && i.role === 'assistant');
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
        <header>
          <h1 tabindex="-1" class="grow">${this.compact ? 'Quick ask' : title}</h1>
          ${this._toolsAvailable
            ? html`<label class="inline small" title="Let the assistant read and change your finances, time, vault and music (changes ask you first)"
                ><input type="checkbox" .checked=${this.#store.state.chat.useTools} @change=${(e: Event) => setChatSettings({ useTools: (e.target as HTMLInputElement).checked })} />Use
                tools</label
              >`
            : nothing}
        </header>
        ${this.#banner()}
        <div class="log" role="log" aria-label="Messages" aria-live="polite" aria-relevant="additions" @scroll=${this.#onScroll}>
          ${this._items.length === 0
            ? html`<div class="empty">
                <h2>How can I help?</h2>
                <p>Everything stays on this machine. Ask a question, or have the assistant look at your finances, time or music.</p>
              </div>`
            : nothing}
          ${repeat(
            this._items,
            (it) => it.key,
            (it, i) =>
              it.kind === 'tool'
                ? html`<wf-tool-call-card
                    .call=${it.call}
                    @confirm-tool=${() => void this.#confirmTool(it.call.id, true)}
                    @deny-tool=${() => void this.#confirmTool(it.call.id, false)}
                  ></wf-tool-call-card>`
                : html`<wf-chat-message
                    sender=${it.role}
                    .content=${it.content}
                    ?streaming=${it.streaming === true}
                    .stopReason=${it.stopReason ?? null}
                    .error=${it.error ?? null}
                    .stats=${it.stats ?? null}
                    ?can-regenerate=${i === lastAssistant && !this._busy}
                    @copy-message=${() => void this.#copy(it)}
                    @regenerate=${() => void this.#regenerate()}
                  ></wf-chat-message>`,
          )}
        </div>
        <wf-composer ?busy=${this._busy} @send=${(e: CustomEvent<{ text: string }>) => void this.#send(e.detail.text)} @stop=${this.#stop}></wf-composer>
      </section>
    `;
  }
}

function explainError(code: string, message: string): string {
  switch (code) {
    case 'model_not_loaded':
      return 'No model is loaded. Load one in the model manager.';
    case 'queue_full':
      return 'The assistant is busy with other requests. Try again in a moment.';
    case 'shutting_down':
      return 'The assistant service is shutting down.';
    default:
      return message;
  }
}

customElements.define('wf-chat-view', ChatView);
