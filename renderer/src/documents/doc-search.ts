// <wf-doc-search>: searches the collections (hybrid: keywords and meaning) and lists the passages, each
// with its number, file and place; choosing one opens it in the viewer.
// Properties: `collections` (ids; empty: all). Events: `open-passage` ({ chunkId }).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { reportError } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import { documentsApi, placeOf, type SearchHit } from './documents-api.js';

export class DocSearch extends LitElement {
  static override properties: PropertyDeclarations = {
    collections: { attribute: false },
    _hits: { state: true },
    _note: { state: true },
    _busy: { state: true },
  };

  collections: number[] = [];
  _hits: SearchHit[] | null = null;
  _note: string | null = null;
  _busy = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      form {
        display: flex;
        gap: 0.5rem;
      }
      form input {
        flex: 1;
      }
      ol {
        padding-left: 0;
        list-style: none;
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
      }
      li button {
        text-align: left;
        width: 100%;
        display: block;
        background: var(--wf-surface-2);
        border: 1px solid var(--wf-border);
        border-radius: var(--wf-radius);
        padding: 0.5rem 0.75rem;
        color: inherit;
      }
      .cite {
        font-weight: 600;
        color: var(--wf-accent);
      }
      .snippet {
        display: -webkit-box;
        -webkit-line-clamp: 3;
        -webkit-box-orient: vertical;
        overflow: hidden;
        margin: 0.25rem 0 0;
      }
    `,
  ];

  async #search(e: Event): Promise<void> {
    e.preventDefault();
    const query = new FormData(e.target as HTMLFormElement).get('q')?.toString().trim() ?? '';
    if (!query) return;
    this._busy = true;
    try {
      const r = await documentsApi.search(query, this.collections.length > 0 ? this.collections : undefined);
      this._hits = r.hits;
      this._note = r.vectorSkipped ? `Keyword search only: ${r.vectorSkipped}.` : null;
    } catch (err) {
      reportError(err, 'Could not search the documents');
    } finally {
      this._busy = false;
    }
  }

  override render() {
    return html`<form role="search" @submit=${(e: Event) => void this.#search(e)}>
        <label class="visually-hidden" for="q">Search the documents</label>
        <input id="q" name="q" type="search" placeholder="Ask or search your documents" autocomplete="off" />
        <button class="primary" ?disabled=${this._busy}>Search</button>
      </form>
      ${this._note ? html`<p class="muted small">${this._note}</p>` : nothing}
      ${this._hits === null
        ? nothing
        : this._hits.length === 0
          ? html`<p class="muted">Nothing found.</p>`
          : html`<ol aria-label="Search results" data-testid="doc-results">
              ${this._hits.map(
                (h, i) => html`<li>
                  <button @click=${() => this.dispatchEvent(new CustomEvent('open-passage', { detail: { chunkId: h.chunkId } }))}>
                    <span class="cite">[${i + 1}]</span> <strong>${h.fileName}</strong> <span class="muted small">${placeOf(h)}</span>
                    <p class="snippet small">${h.text}</p>
                  </button>
                </li>`,
              )}
            </ol>`}`;
  }
}

customElements.define('wf-doc-search', DocSearch);
