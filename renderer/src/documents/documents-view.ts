// <wf-documents-view>: the user's document collections. A list of collections with a form to make one from
// a folder (typed: "~/Documents" or a path from the home folder; the desktop app's folder dialog is not
// wired here yet), the chosen collection's panel (folders, watching, indexing with progress, skipped files)
// and a search over it whose results open the cited passage in the viewer. While a job runs the view polls
// its collection every 700 ms.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { reportError } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import { COLLECTIONS_CHANGED, documentsApi, isActive, type Collection, type DocFile } from './documents-api.js';
import './collection-panel.js';
import './doc-search.js';
import './passage-viewer.js';

export class DocumentsView extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _collections: { state: true },
    _selected: { state: true },
    _files: { state: true },
    _viewing: { state: true },
    _createError: { state: true },
    _unavailable: { state: true },
  };

  active = false;
  _collections: Collection[] = [];
  _selected: number | null = null;
  _files: DocFile[] = [];
  _viewing: number | null = null;
  _createError: string | null = null;
  _unavailable = false;
  #timer: ReturnType<typeof setTimeout> | null = null;

  static override styles = [
    baseStyles,
    css`
      .layout {
        display: grid;
        grid-template-columns: minmax(200px, 260px) 1fr;
        gap: 1rem;
        align-items: start;
      }
      @media (max-width: 860px) {
        .layout {
          grid-template-columns: 1fr;
        }
      }
      nav ul {
        list-style: none;
        padding: 0;
        margin: 0;
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      nav button {
        width: 100%;
        text-align: left;
        background: none;
        border: none;
        padding: 0.45rem 0.6rem;
        border-radius: var(--wf-radius);
        color: inherit;
      }
      nav button[aria-current='true'] {
        background: var(--wf-accent-soft);
        color: var(--wf-accent);
        font-weight: 600;
      }
      form.create {
        display: flex;
        flex-direction: column;
        gap: 0.4rem;
      }
    `,
  ];

  protected override updated(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) void this.#reload();
  }

  override disconnectedCallback(): void {
    if (this.#timer) clearTimeout(this.#timer);
    super.disconnectedCallback();
  }

  async #reload(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    try {
      const before = this._collections.map((c) => `${c.id}:${c.name}`).join();
      this._collections = await documentsApi.list();
      // The chat's chooser lists the collections too.
      if (this._collections.map((c) => `${c.id}:${c.name}`).join() !== before) window.dispatchEvent(new CustomEvent(COLLECTIONS_CHANGED));
      if (this._selected === null || !this._collections.some((c) => c.id === this._selected)) this._selected = this._collections[0]?.id ?? null;
      this._files = this._selected !== null ? (await documentsApi.get(this._selected)).files : [];
    } catch (err) {
      if ((err as { isMissingRoute?: boolean }).isMissingRoute) this._unavailable = true;
      else reportError(err, 'Could not load the collections');
      return;
    }
    if (this.active && this._collections.some((c) => isActive(c.job))) this.#timer = setTimeout(() => void this.#reload(), 700);
  }

  async #create(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const name = data.get('name')?.toString().trim() ?? '';
    const folder = data.get('folder')?.toString().trim() ?? '';
    if (!name) return;
    this._createError = null;
    try {
      const { collection } = await documentsApi.create(name, folder ? [folder] : []);
      form.reset();
      this._selected = collection.id;
    } catch (err) {
      this._createError = (err as Error).message;
    }
    await this.#reload();
  }

  override render() {
    if (this._unavailable) return html`<div class="view"><h1 tabindex="-1">Documents</h1><p class="unavailable">Documents are not available in this backend.</p></div>`;
    const selected = this._collections.find((c) => c.id === this._selected) ?? null;
    return html`<div class="view stack">
      <h1 tabindex="-1">Documents</h1>
      <p class="muted">Ask questions over your own files. They are read, split into passages and indexed on this computer; nothing leaves it.</p>
      <div class="layout">
        <div class="stack">
          <nav class="card" aria-label="Collections">
            ${this._collections.length === 0
              ? html`<p class="muted small">No collections yet.</p>`
              : html`<ul>
                  ${this._collections.map(
                    (c) => html`<li>
                      <button aria-current=${c.id === this._selected ? 'true' : 'false'} @click=${() => {
                        this._selected = c.id;
                        void this.#reload();
                      }}>
                        ${c.name} <span class="muted small">${isActive(c.job) ? 'indexing…' : `${c.files} files`}</span>
                      </button>
                    </li>`,
                  )}
                </ul>`}
          </nav>
          <form class="card create" @submit=${(e: Event) => void this.#create(e)} aria-labelledby="new-title">
            <h2 id="new-title" class="small">New collection</h2>
            <label>Name <input name="name" required maxlength="100" autocomplete="off" /></label>
            <label>Folder <input name="folder" placeholder="~/Documents" autocomplete="off" /></label>
            <button class="primary">Create and index</button>
            ${this._createError ? html`<p class="error-text small" role="alert">${this._createError}</p>` : nothing}
          </form>
        </div>
        <div class="stack">
          ${selected
            ? html`<wf-collection-panel .collection=${selected} .files=${this._files} @changed=${() => void this.#reload()} @deleted=${() => {
                this._selected = null;
                void this.#reload();
              }}></wf-collection-panel>
                <section class="card" aria-label="Search">
                  <wf-doc-search .collections=${[selected.id]} @open-passage=${(e: CustomEvent<{ chunkId: number }>) => (this._viewing = e.detail.chunkId)}></wf-doc-search>
                </section>`
            : html`<p class="muted">Make a collection from a folder to begin.</p>`}
        </div>
      </div>
      <wf-passage-viewer .chunkId=${this._viewing} @close=${() => (this._viewing = null)}></wf-passage-viewer>
    </div>`;
  }
}

customElements.define('wf-documents-view', DocumentsView);

declare global {
  interface HTMLElementTagNameMap {
    'wf-documents-view': DocumentsView;
  }
}
