// <wf-conversation-list>: saved conversations with search. Properties: `conversations`
// ([{ id, title, updatedAt, snippet? }]), `activeId`, `query`, `persistent` (false: conversations live only
// in this window), `replying` (ids of conversations with a reply in flight). Events: `select-conversation` ({ id }), `new-conversation`, `search` ({ query }),
// `delete-conversation` ({ id }), `rename-conversation` ({ id, title }: renamed in place with ✎ or F2, Enter
// saves and Escape cancels), `import-conversation` ({ text }: a chat exported as JSON, read from the chosen file).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { formatDateTime } from '../shared/format.js';

export interface ConversationItem {
  id: string;
  title: string;
  updatedAt: string;
  snippet?: string;
}

export class ConversationList extends LitElement {
  static override properties: PropertyDeclarations = {
    conversations: { attribute: false },
    activeId: { type: String, attribute: 'active-id' },
    query: { type: String },
    persistent: { type: Boolean },
    replying: { attribute: false },
    _renaming: { state: true },
  };

  conversations: ConversationItem[] = [];
  activeId: string | null = null;
  query = '';
  persistent = false;
  replying: string[] = [];
  /** The conversation being renamed. */
  _renaming: string | null = null;
  #debounce: ReturnType<typeof setTimeout> | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
        padding: 0.75rem;
        min-height: 0;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        overflow-y: auto;
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      li {
        display: flex;
        align-items: center;
        border-radius: var(--wf-radius);
      }
      li[aria-current='true'] {
        background: var(--wf-accent-soft);
      }
      li button.open {
        flex: 1;
        text-align: left;
        border: none;
        background: transparent;
        display: block;
        padding: 0.45rem 0.5rem;
        min-width: 0;
      }
      .title {
        display: block;
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      .meta,
      .snippet {
        display: block;
        font-size: 0.75rem;
        color: var(--wf-muted);
        white-space: nowrap;
        overflow: hidden;
        text-overflow: ellipsis;
      }
      li button.del,
      li button.ren {
        visibility: hidden;
        padding: 0.2rem 0.4rem;
      }
      li:hover button.del,
      li:focus-within button.del,
      li:hover button.ren,
      li:focus-within button.ren {
        visibility: visible;
      }
      li input.rename {
        flex: 1;
        min-width: 0;
        margin: 0.2rem;
      }
      .import {
        align-self: flex-start;
      }
      input[type='search'] {
        width: 100%;
      }
    `,
  ];

  #emit(name: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  #onSearch(e: Event): void {
    const q = (e.target as HTMLInputElement).value;
    if (this.#debounce) clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => this.#emit('search', { query: q }), 200);
  }

  #commitRename(id: string, input: HTMLInputElement): void {
    if (this._renaming !== id) return;
    this._renaming = null;
    const title = input.value.trim();
    const was = this.conversations.find((c) => c.id === id)?.title ?? '';
    if (title && title !== was) this.#emit('rename-conversation', { id, title });
  }

  #rename(c: ConversationItem) {
    return html`<li aria-current=${c.id === this.activeId ? 'true' : 'false'}>
      <input
        class="rename"
        aria-label="New name for ${c.title}"
        maxlength="500"
        .value=${c.title}
        @keydown=${(e: KeyboardEvent) => {
          if (e.key === 'Enter') this.#commitRename(c.id, e.target as HTMLInputElement);
          else if (e.key === 'Escape') this._renaming = null;
        }}
        @blur=${(e: FocusEvent) => this.#commitRename(c.id, e.target as HTMLInputElement)}
      />
    </li>`;
  }

  protected override updated(changed: Map<string, unknown>): void {
    if (changed.has('_renaming') && this._renaming) {
      const input = this.renderRoot.querySelector<HTMLInputElement>('input.rename');
      input?.focus();
      input?.select();
    }
  }

  async #import(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = ''; // the same file can be chosen again
    if (file) this.#emit('import-conversation', { text: await file.text() });
  }

  override render() {
    return html`
      <button class="primary" @click=${() => this.#emit('new-conversation')} data-testid="new-chat">+ New chat</button>
      <label class="visually-hidden" for="q">Search conversations</label>
      <input id="q" type="search" placeholder="Search conversations" .value=${this.query} @input=${this.#onSearch} />
      ${this.persistent ? nothing : html`<p class="small muted">Conversations are kept in this window only.</p>`}
      <ul aria-label="Conversations">
        ${this.conversations.length === 0 ? html`<li class="muted small">${this.query ? 'No matches' : 'No conversations yet'}</li>` : nothing}
        ${this.conversations.map((c) =>
          c.id === this._renaming
            ? this.#rename(c)
            : html`<li aria-current=${c.id === this.activeId ? 'true' : 'false'}>
            <button
              class="open"
              @click=${() => this.#emit('select-conversation', { id: c.id })}
              @keydown=${(e: KeyboardEvent) => {
                if (e.key === 'F2' && this.persistent) this._renaming = c.id;
              }}
              aria-label="Open conversation ${c.title}"
            >
              <span class="title">${c.title || 'Untitled'}</span>
              ${this.replying.includes(c.id)
                ? html`<span class="meta" data-testid="replying">Replying…</span>`
                : c.snippet
                  ? html`<span class="snippet">${c.snippet}</span>`
                  : html`<span class="meta">${formatDateTime(c.updatedAt)}</span>`}
            </button>
            <button class="ghost del" aria-label="Delete conversation ${c.title}" @click=${() => this.#emit('delete-conversation', { id: c.id })}>✕</button>
            ${this.persistent ? html`<button class="ghost ren" aria-label="Rename conversation ${c.title}" title="Rename (F2)" @click=${() => (this._renaming = c.id)}>✎</button>` : nothing}
          </li>`,
        )}
      </ul>
      ${this.persistent
        ? html`<button class="ghost small import" title="A chat exported as JSON" @click=${() => this.renderRoot.querySelector<HTMLInputElement>('input[type=file]')?.click()}>
              Import chat…
            </button>
            <input type="file" hidden accept="application/json,.json" data-testid="import-chat" @change=${(e: Event) => void this.#import(e)} />`
        : nothing}
    `;
  }
}

customElements.define('wf-conversation-list', ConversationList);
