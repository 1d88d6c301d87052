// <wf-collection-panel>: one collection: its folders and files (add, remove), whether its folders are
// watched, Index now / Stop with the job's progress, the files that could not be read with the reason, and
// deleting the collection with everything indexed from it.
// Properties: `collection`, `files`. Events: `changed` (reload), `deleted`.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { askConfirm } from '../shared/confirm-dialog.js';
import { reportError } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import { documentsApi, isActive, type Collection, type DocFile } from './documents-api.js';
import './job-progress.js';

export class CollectionPanel extends LitElement {
  static override properties: PropertyDeclarations = {
    collection: { attribute: false },
    files: { attribute: false },
    _error: { state: true },
  };

  collection: Collection | null = null;
  files: DocFile[] = [];
  _error: string | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      h2 {
        margin: 0;
        font-size: 1.15rem;
      }
      ul {
        margin: 0;
        padding-left: 1.2rem;
      }
      .mono {
        overflow-wrap: anywhere;
      }
      form {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
      }
      form input {
        flex: 1;
        min-width: 14rem;
      }
      .actions label {
        display: inline-flex;
        flex-direction: row;
        align-items: center;
        gap: 0.35rem;
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        align-items: center;
      }
    `,
  ];

  #changed(): void {
    this.dispatchEvent(new CustomEvent('changed'));
  }

  async #do(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      reportError(err, what);
    }
    this.#changed();
  }

  async #addPath(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const path = new FormData(form).get('path')?.toString().trim() ?? '';
    if (!path || !this.collection) return;
    this._error = null;
    try {
      await documentsApi.addPath(this.collection.id, path);
      form.reset();
    } catch (err) {
      this._error = (err as Error).message;
    }
    this.#changed();
  }

  async #delete(): Promise<void> {
    const c = this.collection;
    if (!c) return;
    const ok = await askConfirm({ title: `Delete "${c.name}"?`, message: 'Its index (passages and vectors) is removed. Your files stay where they are.', confirmLabel: 'Delete', danger: true });
    if (!ok) return;
    try {
      await documentsApi.remove(c.id);
      this.dispatchEvent(new CustomEvent('deleted'));
    } catch (err) {
      reportError(err, 'Could not delete the collection');
    }
  }

  override render() {
    const c = this.collection;
    if (!c) return nothing;
    const active = isActive(c.job);
    const failed = this.files.filter((f) => f.status === 'failed');
    return html`<section class="card stack" aria-labelledby="collection-title">
      <h2 id="collection-title">${c.name}</h2>
      <p class="muted small" data-testid="collection-counts">
        ${c.files} files, ${c.pages} pages, ${c.chunks} passages${c.failed ? html`, <strong>${c.failed} could not be read</strong>` : nothing} ·
        ${c.embedModel ? html`embedded with <span class="mono">${c.embedModel}</span>` : 'not embedded yet'}
      </p>
      <wf-job-progress .job=${c.job}></wf-job-progress>
      <div class="actions">
        ${active
          ? html`<button @click=${() => void this.#do('Could not stop indexing', () => documentsApi.stop(c.id))}>Stop</button>`
          : html`<button class="primary" @click=${() => void this.#do('Could not start indexing', () => documentsApi.index(c.id))}>Index now</button>`}
        <label class="small"
          ><input type="checkbox" .checked=${c.watch} @change=${(e: Event) => void this.#do('Could not change watching', () => documentsApi.update(c.id, { watch: (e.target as HTMLInputElement).checked }))} />
          Watch folders for changes</label
        >
        <button class="ghost" @click=${() => void this.#delete()}>Delete collection</button>
      </div>
      <h3 class="small">Folders and files</h3>
      ${c.sources.length === 0
        ? html`<p class="muted small">None yet.</p>`
        : html`<ul>
            ${c.sources.map(
              (s) => html`<li>
                <span class="mono">${s.path}</span>
                <button class="ghost small" aria-label="Remove ${s.path}" @click=${() => void this.#do('Could not remove the folder', () => documentsApi.removeSource(c.id, s.id))}>Remove</button>
              </li>`,
            )}
          </ul>`}
      <form @submit=${(e: Event) => void this.#addPath(e)}>
        <label class="visually-hidden" for="add-path">Folder or file to add</label>
        <input id="add-path" name="path" placeholder="~/Documents/Taxes or a file" autocomplete="off" />
        <button>Add</button>
      </form>
      ${this._error ? html`<p class="error-text small" role="alert">${this._error}</p>` : nothing}
      ${failed.length > 0
        ? html`<h3 class="small">Skipped files</h3>
            <ul data-testid="failed-files">
              ${failed.map((f) => html`<li><span class="mono">${f.path}</span>: ${f.error}</li>`)}
            </ul>`
        : nothing}
    </section>`;
  }
}

customElements.define('wf-collection-panel', CollectionPanel);
