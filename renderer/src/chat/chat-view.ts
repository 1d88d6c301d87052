// <wf-chat-view>: the chat: the conversation list, the header (thinking, tools, this chat's settings,
// export), the log and the composer. The turns themselves (ask, edit and resend, regenerate; plain or with
// tools) are chat-turns.ts; where conversations are kept is conversations.ts; a reply belongs to its own
// conversation (live-chat.ts): it keeps streaming and is saved there when the user starts a new chat or
// opens another, and shows again where they come back. Saved conversations are trees: the arrows under a
// message switch between its versions, and the branch shown is what the model is sent. Deleting can be
// undone for a few seconds; a chat can be renamed in the list, exported (Markdown, JSON) and imported
// (JSON). Under the log, how much of the model's context window the branch shown takes. In a narrow window
// the conversation list is a drawer, opened by the "Chats" button in the header.
import { LitElement, html, nothing, type PropertyDeclarations } from 'lit';
import { StoreController, api, forgetThinking, moveThinking, notify, reportError, setThinking, thinkingFor, type ThinkingSetting } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import { saveFile } from '../shared/save-file.js';
import { deleteWithUndo } from '../shared/undo.js';
import type { ChatItem, ToolItem } from './chat-items.js';
import type { ChatHeader } from './chat-header.js';
import type { ChatLog } from './chat-log.js';
import { chatViewStyles } from './chat-view-styles.js';
import { effectiveSettings, type ChatSettings } from './chat-settings.js';
import { ChatTurns } from './chat-turns.js';
import { forgetModel, modelFor, moveModel, setModelFor } from './chat-model.js';
import type { Composer } from './composer.js';
import { ContextCounter, type ContextFill } from './context-count.js';
import { ConversationSource, type ConversationSummary, type OpenedConversation } from './conversations.js';
import { LiveChat, RunningChats } from './live-chat.js';
import { FrameBatch } from './stream-turn.js';
import { ToolRunner } from './tool-runner.js';
import './chat-header.js';
import './chat-log.js';
import './chat-settings-panel.js';
import './mcp-chat-servers.js';
import './composer.js';
import './context-meter.js';
import './conversation-list.js';
import '../documents/chat-documents.js';

export type { ChatItem, MessageItem, ToolItem } from './chat-items.js';

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
    _settingsOpen: { state: true },
    _settings: { state: true },
    _fill: { state: true },
    _listOpen: { state: true },
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
  _settingsOpen = false;
  /** The shown chat's own settings (null: the app's). */
  _settings: ChatSettings | null = null;
  _fill: ContextFill | null = null;
  /** The conversation list's drawer (narrow windows only; wide ones always show the list). */
  _listOpen = false;

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
  readonly #counter = new ContextCounter(api, (fill) => (this._fill = fill));
  readonly #turns = new ChatTurns({
    source: () => this.#source!,
    tools: () => this.#tools,
    persistent: () => this._persistent,
    setItems: (chat, items) => this.#setItems(chat, items),
    setBusy: (chat, busy) => this.#setBusy(chat, busy),
    adopt: (chat, id) => this.#adopt(chat, id),
    touch: (chat) => this.#touch(chat),
    stick: (chat) => {
      if (chat === this.#chat) this.#log()?.stick();
    },
    refreshList: () => void this.#refreshList(),
    agentMode: () => this.#agentMode(),
    ended: (chat) => {
      if (chat === this.#chat) this.#recount();
    },
  });

  static override styles = [baseStyles, chatViewStyles];

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
    void this.#turns.send(this.#chat, text);
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

  /** Shows a chat: its items, whether it is replying, its id, its settings. */
  #show(chat: LiveChat): void {
    this.#chat = chat;
    this._items = chat.items;
    this._busy = chat.busy;
    this._activeId = chat.id;
    this._settings = chat.settings;
    this.#log()?.stick();
    this.#recount();
  }

  /** Counts the context the branch shown takes (not while a reply streams: its end counts again). */
  #recount(): void {
    if (!this.#chat.busy) void this.#counter.countChat(this.#chat, this.#store.state.chat);
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

  /** A chat got its id from a save (or a new one): its thinking setting goes with it. */
  #adopt(chat: LiveChat, id: string | null): void {
    if (chat === this.#chat) {
      moveThinking(chat.id, id);
      moveModel(chat.id, id);
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

  #stop(): void {
    this.#chat.handle?.cancel();
  }

  /** `withoutTools`: the agent offers no tools this time (after an empty reply). */
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
    forgetModel(null);
    this.renderRoot.querySelector<Composer>('wf-composer')?.focus();
  }

  async #open(id: string): Promise<void> {
    const seq = ++this.#opening;
    // A chat with a reply in flight is shown as it is, still streaming.
    const running = this.#running.byId(id);
    if (running) return this.#show(running);
    try {
      const c = await this.#source!.open(id);
      if (seq !== this.#opening) return;
      this.#show(this.#running.byId(id) ?? this.#live(c));
    } catch (err) {
      reportError(err, 'Could not open the conversation');
    }
  }

  #live(c: OpenedConversation): LiveChat {
    return new LiveChat(c.id, c.items, c.settings);
  }

  /** The arrows under a message: show its sibling's branch. */
  async #switchBranch(messageId: number): Promise<void> {
    const chat = this.#chat;
    if (chat.busy || !chat.id) return;
    const seq = ++this.#opening;
    try {
      const c = await this.#source!.selectBranch(chat.id, messageId);
      if (seq !== this.#opening || this.#chat !== chat) return;
      chat.items = c.items;
      this.#show(chat);
    } catch (err) {
      reportError(err, 'Could not show that version');
    }
  }

  /** This chat's settings changed in the panel (null: back to the app's). */
  async #setSettings(settings: ChatSettings | null): Promise<void> {
    const chat = this.#chat;
    chat.settings = settings;
    this._settings = settings;
    this.#recount();
    if (!chat.id) return; // saved with the chat's first message
    try {
      await this.#source!.saveSettings(chat.id, settings);
    } catch (err) {
      reportError(err, 'Could not save the chat settings');
    }
  }

  async #rename(id: string, title: string): Promise<void> {
    try {
      await this.#source!.rename(id, title);
    } catch (err) {
      reportError(err, 'Could not rename the conversation');
    }
    await this.#refreshList();
  }

  async #export(format: 'markdown' | 'json'): Promise<void> {
    const id = this.#chat.id;
    if (!id) return;
    try {
      saveFile(await this.#source!.exportFile(id, format));
    } catch (err) {
      reportError(err, 'Could not export the chat');
    }
  }

  async #import(text: string): Promise<void> {
    try {
      const c = await this.#source!.importJson(text);
      notify('success', `Imported "${c.title || 'Untitled'}".`);
      this.#opening++;
      this.#show(this.#live(c));
      await this.#refreshList();
    } catch (err) {
      reportError(err, 'Could not import the chat');
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
        forgetModel(id);
        await this.#refreshList();
      },
    });
  }

  #closeList(focusToggle = false): void {
    if (!this._listOpen) return;
    this._listOpen = false;
    if (focusToggle) this.renderRoot.querySelector<HTMLButtonElement>('.list-toggle')?.focus();
  }

  override render() {
    const title = this._conversations.find((c) => c.id === this._activeId)?.title ?? 'New chat';
    const app = this.#store.state.chat;
    return html`
      <div class="scrim" ?hidden=${!this._listOpen} @click=${() => this.#closeList()}></div>
      <aside
        id="chat-list"
        aria-label="Conversations"
        class=${this._listOpen ? 'open' : ''}
        @keydown=${(e: KeyboardEvent) => {
          if (e.key === 'Escape') this.#closeList(true);
        }}
      >
        <wf-conversation-list
          .conversations=${this._conversations}
          .activeId=${this._activeId}
          .query=${this._query}
          .replying=${this._replying}
          ?persistent=${this._persistent}
          @new-conversation=${() => {
            this.#closeList();
            this.#newConversation();
          }}
          @select-conversation=${(e: CustomEvent<{ id: string }>) => {
            this.#closeList();
            void this.#open(e.detail.id);
          }}
          @delete-conversation=${(e: CustomEvent<{ id: string }>) => this.#delete(e.detail.id)}
          @rename-conversation=${(e: CustomEvent<{ id: string; title: string }>) => void this.#rename(e.detail.id, e.detail.title)}
          @import-conversation=${(e: CustomEvent<{ text: string }>) => void this.#import(e.detail.text)}
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
          .model=${modelFor(this._activeId)}
          @model-change=${(e: CustomEvent<{ model: string | null }>) => {
            setModelFor(this._activeId, e.detail.model);
            this.requestUpdate();
            this.#recount(); // the window and template are the new model's once it is loaded
          }}
          ?tools-available=${this._toolsAvailable}
          ?settings-open=${this._settingsOpen}
          ?can-export=${this._persistent && this._activeId !== null}
          @thinking-change=${(e: CustomEvent<Partial<ThinkingSetting>>) => {
            setThinking(this._activeId, e.detail);
            this.#recount();
          }}
          @toggle-settings=${() => (this._settingsOpen = !this._settingsOpen)}
          @export-chat=${(e: CustomEvent<{ format: 'markdown' | 'json' }>) => void this.#export(e.detail.format)}
          ><button
            slot="start"
            class="ghost small list-toggle"
            aria-expanded=${this._listOpen ? 'true' : 'false'}
            aria-controls="chat-list"
            data-testid="chats-toggle"
            @click=${() => (this._listOpen = !this._listOpen)}
          >
            ☰ Chats
          </button></wf-chat-header
        >
        ${this._settingsOpen
          ? html`<wf-chat-settings-panel
              .settings=${effectiveSettings(this._settings, app)}
              ?own=${this._settings !== null}
              default-prompt=${app.systemPrompt}
              @settings-change=${(e: CustomEvent<{ settings: ChatSettings }>) => void this.#setSettings(e.detail.settings)}
              @settings-reset=${() => void this.#setSettings(null)}
            ></wf-chat-settings-panel>
            <wf-mcp-chat-servers .conversationId=${this._activeId}></wf-mcp-chat-servers>`
          : nothing}
        <wf-chat-documents .conversationId=${this._activeId}></wf-chat-documents>
        <wf-chat-log
          .items=${this._items}
          ?busy=${this._busy}
          @regenerate=${() => void this.#turns.regenerate(this.#chat)}
          @edit-message=${(e: CustomEvent<{ key: string; text: string }>) => void this.#turns.edit(this.#chat, e.detail.key, e.detail.text)}
          @switch-branch=${(e: CustomEvent<{ messageId: number }>) => void this.#switchBranch(e.detail.messageId)}
          @confirm-tool=${(e: CustomEvent<{ id: string; arguments?: Record<string, unknown> }>) => void this.#confirmTool(e.detail.id, true, e.detail.arguments)}
          @retry-reply=${(e: CustomEvent<{ withoutTools: boolean }>) => void this.#turns.regenerate(this.#chat, { withoutTools: e.detail.withoutTools })}
          @deny-tool=${(e: CustomEvent<{ id: string }>) => void this.#confirmTool(e.detail.id, false)}
        ></wf-chat-log>
        <wf-context-meter .used=${this._fill?.used ?? null} .window=${this._fill?.window ?? 0} .dropped=${this._fill?.dropped ?? 0} .reserve=${this._fill?.reserve ?? 0}></wf-context-meter>
        <wf-composer ?busy=${this._busy} @send=${(e: CustomEvent<{ text: string }>) => void this.#turns.send(this.#chat, e.detail.text)} @stop=${this.#stop}></wf-composer>
      </section>
    `;
  }
}

customElements.define('wf-chat-view', ChatView);
