// <wf-library-folders>: the library's folders, adding one and rescanning. In the desktop app a native
// folder dialog (window.westfall.chooseFolder) picks the folder; in a browser, which cannot hand a page a
// real path, the user types it: "~/Music" or a path relative to the home folder is fine, the backend
// expands it and says clearly when it does not exist (folder_not_found).
// Properties: `folders`, `scanning`. Events: `folder-add` ({ path, done(error | null) }), `folder-remove`
// ({ folder }), `rescan`.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { desktopApi } from '../shared/desktop.js';
import { baseStyles } from '../shared/styles.js';
import type { LibraryFolder } from '../../../src/tools/music/types.js';

export class LibraryFolders extends LitElement {
  static override properties: PropertyDeclarations = {
    folders: { attribute: false },
    scanning: { type: Boolean },
    _error: { state: true },
  };

  folders: LibraryFolder[] = [];
  scanning = false;
  _error: string | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      ul {
        margin: 0 0 0.5rem;
        padding-left: 1.2rem;
      }
      form {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        align-items: end;
      }
      form label {
        flex: 1;
        min-width: 14rem;
      }
      li .mono {
        overflow-wrap: anywhere;
      }
      .error {
        color: var(--wf-danger, #b00020);
      }
    `,
  ];

  #add(path: string, form?: HTMLFormElement): void {
    this._error = null;
    this.dispatchEvent(
      new CustomEvent('folder-add', {
        detail: {
          path,
          done: (error: string | null) => {
            this._error = error;
            if (!error) form?.reset();
          },
        },
      }),
    );
  }

  #submit(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const path = String(new FormData(form).get('path') ?? '').trim();
    if (path) this.#add(path, form);
  }

  async #choose(): Promise<void> {
    try {
      const path = await desktopApi()?.chooseFolder?.({ title: 'Add a music folder' });
      if (path) this.#add(path);
    } catch (err) {
      this._error = err instanceof Error ? err.message : String(err);
    }
  }

  override render() {
    const native = typeof desktopApi()?.chooseFolder === 'function';
    return html`${this.folders.length
        ? html`<ul>
            ${this.folders.map(
              (f) => html`<li>
                <span class="mono small">${f.path}</span> <span class="muted small">· ${f.tracks} tracks</span>
                <button class="ghost small" @click=${() => this.dispatchEvent(new CustomEvent('folder-remove', { detail: { folder: f } }))} aria-label="Remove folder ${f.path}">✕</button>
              </li>`,
            )}
          </ul>`
        : nothing}
      <form @submit=${(e: Event) => this.#submit(e)}>
        ${native ? html`<button class="primary" type="button" @click=${() => void this.#choose()} ?disabled=${this.scanning}>Choose folder…</button>` : nothing}
        <label
          >Folder on this computer
          <input name="path" required placeholder="~/Music" aria-describedby="folder-help" autocomplete="off" spellcheck="false" />
        </label>
        <button class=${native ? '' : 'primary'} type="submit" ?disabled=${this.scanning}>${this.scanning ? 'Scanning…' : 'Add folder'}</button>
        ${this.folders.length ? html`<button type="button" @click=${() => this.dispatchEvent(new CustomEvent('rescan'))} ?disabled=${this.scanning}>Rescan</button>` : nothing}
      </form>
      <p id="folder-help" class="muted small">~ is your home folder; a path without a leading / starts there too.</p>
      ${this._error ? html`<p class="error small" role="alert" data-testid="folder-error">${this._error}</p>` : nothing}`;
  }
}

customElements.define('wf-library-folders', LibraryFolders);

declare global {
  interface HTMLElementTagNameMap {
    'wf-library-folders': LibraryFolders;
  }
}
