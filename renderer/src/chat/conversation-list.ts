// <wf-conversation-list>: saved conversations with search. Properties: `conversations`
// ([{ id, title, updatedAt, snippet? }]), `activeId`, `query`, `persistent` (false: conversations live only
// in this window), `replying` (ids of conversations with a reply in flight). Events: `select-conversation` ({ id }), `new-conversation`, `search` ({ query }),
// `delete-conversation` ({ id }).
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
  };

  conversations: ConversationItem[] = [];
  activeId: string | null = null;
  query = '';
  persistent = false;
  replying: string[] = [];
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
      li button.del {
        visibility: hidden;
        padding: 0.2rem 0.4rem;
      }
      li:hover button.del,
      li:focus-within button.del {
        visibility: visible;
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

  override render() {
    return html`
      <button class="primary" @click=${() => this.#emit('new-conversation')} data-testid="new-chat">+ New chat</button>
      <label class="visually-hidden" for="q">Search conversations</label>
      <input id="q" type="search" placeholder="Search conversations" .value=${this.query} @input=${this.#onSearch} />
      ${this.persistent ? nothing : html`<p class="small muted">Conversations are kept in this window only.</p>`}
      <ul aria-label="Conversations">
        ${this.conversations.length === 0 ? html`<li class="muted small">${this.query ? 'No matches' : 'No conversations yet'}</li>` : nothing}
        ${this.conversations.map(
          (c) => html`<li aria-current=${c.id === this.activeId ? 'true' : 'false'}>
            <button class="open" @click=${() => this.#emit('select-conversation', { id: c.id })} aria-label="Open conversation ${c.title}">
              <span class="title">${c.title || 'Untitled'}</span>
              ${this.replying.includes(c.id)
                ? html`<span class="meta" data-testid="replying">Replying…</span>`
                : c.snippet
                  ? html`<span class="snippet">${c.snippet}</span>`
                  : html`<span class="meta">${formatDateTime(c.updatedAt)}</span>`}
            </button>
            <button class="ghost del" aria-label="Delete conversation ${c.title}" @click=${() => this.#emit('delete-conversation', { id: c.id })}>✕</button>
          </li>`,
        )}
      </ul>
    `;
  }
}

customElements.define('wf-conversation-list', ConversationList);
