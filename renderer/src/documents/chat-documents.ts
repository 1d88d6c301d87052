// The chat's side of documents. <wf-chat-documents>: which collections this chat answers from (saved per
// conversation by the backend; a new chat's choice is kept here until the chat has an id). The hook
// withDocuments(chatId, messages): when the chat uses collections, the last question is sent with the best
// passages (hybrid search, within a token budget) and an instruction to cite them as [1], [2]; it returns
// the citations for the reply, which <wf-doc-citations> lists under the answer and opens in the viewer.
// Only the request carries the passages: the saved question stays as the user typed it.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { reportError } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import { COLLECTIONS_CHANGED, documentsApi, placeOf, type Citation, type Collection } from './documents-api.js';
import './passage-viewer.js';

/** Tokens of passages a question may bring (a quarter of a small 8k context). */
export const CONTEXT_BUDGET_TOKENS = 2000;

const chosen = new Map<string, number[]>();
/** A new chat's choice, until it gets its id. */
let pending: number[] | null = null;

async function choiceFor(chatId: string | null): Promise<number[]> {
  if (!chatId) return pending ?? [];
  if (pending !== null) {
    const ids = pending;
    pending = null;
    chosen.set(chatId, await documentsApi.setChatCollections(chatId, ids));
  }
  let ids = chosen.get(chatId);
  if (!ids) {
    ids = await documentsApi.chatCollections(chatId).catch(() => []);
    chosen.set(chatId, ids);
  }
  return ids;
}

interface Message {
  role: string;
  content: string;
}

/** The request's messages with passages for the last question, and their citations; null when the chat uses no collections. */
export async function withDocuments<M extends Message>(chatId: string | null, messages: M[]): Promise<{ messages: M[]; citations: Citation[] } | null> {
  let ids: number[];
  try {
    ids = await choiceFor(chatId);
  } catch {
    return null;
  }
  const last = messages.findLastIndex((m) => m.role === 'user');
  if (ids.length === 0 || last < 0) return null;
  try {
    const ctx = await documentsApi.context(messages[last]!.content, ids, CONTEXT_BUDGET_TOKENS);
    if (ctx.citations.length === 0) return null;
    const out = [...messages];
    out[last] = { ...messages[last]!, content: `${ctx.message}\n\nQuestion: ${messages[last]!.content}` };
    return { messages: out, citations: ctx.citations };
  } catch (err) {
    reportError(err, 'Could not search the documents; answering without them');
    return null;
  }
}

export class ChatDocuments extends LitElement {
  static override properties: PropertyDeclarations = {
    conversationId: { attribute: false },
    _collections: { state: true },
    _selected: { state: true },
    _open: { state: true },
  };

  conversationId: string | null = null;
  _collections: Collection[] = [];
  _selected: number[] = [];
  _open = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        padding: 0 1rem;
      }
      details summary {
        cursor: pointer;
        font-size: 0.85rem;
        color: var(--wf-muted);
      }
      .list {
        display: flex;
        gap: 0.75rem;
        flex-wrap: wrap;
        padding: 0.4rem 0;
      }
    `,
  ];

  readonly #onCollections = (): void => void this.#load();

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener(COLLECTIONS_CHANGED, this.#onCollections);
  }

  override disconnectedCallback(): void {
    window.removeEventListener(COLLECTIONS_CHANGED, this.#onCollections);
    super.disconnectedCallback();
  }

  protected override async updated(changed: Map<string, unknown>): Promise<void> {
    if (!changed.has('conversationId')) return;
    const before = changed.get('conversationId') as string | null | undefined;
    if (this.conversationId === null && before) pending = null;
    await this.#load();
  }

  async #load(): Promise<void> {
    try {
      this._collections = await documentsApi.list();
      this._selected = await choiceFor(this.conversationId);
    } catch {
      this._collections = []; // a backend without documents: nothing to choose
    }
  }

  async #toggle(id: number, on: boolean): Promise<void> {
    const next = on ? [...new Set([...this._selected, id])] : this._selected.filter((x) => x !== id);
    this._selected = next;
    if (!this.conversationId) {
      pending = next;
      return;
    }
    try {
      chosen.set(this.conversationId, await documentsApi.setChatCollections(this.conversationId, next));
    } catch (err) {
      reportError(err, 'Could not save the chat\'s documents');
    }
  }

  override render() {
    if (this._collections.length === 0) return nothing;
    const names = this._collections.filter((c) => this._selected.includes(c.id)).map((c) => c.name);
    return html`<details data-testid="chat-documents">
      <summary>Documents: ${names.length > 0 ? names.join(', ') : 'none'}</summary>
      <div class="list" role="group" aria-label="Collections this chat answers from">
        ${this._collections.map(
          (c) => html`<label class="small"><input type="checkbox" .checked=${this._selected.includes(c.id)} @change=${(e: Event) => void this.#toggle(c.id, (e.target as HTMLInputElement).checked)} /> ${c.name}</label>`,
        )}
      </div>
    </details>`;
  }
}

/** <wf-doc-citations>: the sources of an answer, [n] file · place; choosing one opens the passage. */
export class DocCitations extends LitElement {
  static override properties: PropertyDeclarations = { citations: { attribute: false }, _viewing: { state: true } };
  citations: Citation[] = [];
  _viewing: number | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        margin-top: 0.4rem;
      }
      ol {
        list-style: none;
        padding: 0;
        margin: 0;
        display: flex;
        flex-wrap: wrap;
        gap: 0.35rem;
      }
      button {
        font-size: 0.8rem;
        padding: 0.15rem 0.5rem;
      }
    `,
  ];

  override render() {
    return html`<ol aria-label="Sources" data-testid="citations">
        ${this.citations.map(
          (c) => html`<li><button class="ghost" title=${c.path} @click=${() => (this._viewing = c.chunkId)}>[${c.n}] ${c.fileName}${placeOf(c) ? ` · ${placeOf(c)}` : ''}</button></li>`,
        )}
      </ol>
      <wf-passage-viewer .chunkId=${this._viewing} @close=${() => (this._viewing = null)}></wf-passage-viewer>`;
  }
}

customElements.define('wf-chat-documents', ChatDocuments);
customElements.define('wf-doc-citations', DocCitations);
