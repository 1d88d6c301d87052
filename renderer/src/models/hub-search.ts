// <wf-hub-search>: finds GGUF models on the model hub by name (GET /api/models/hub/search) and lists each
// repository's files with their quantization, size and whether they fit this computer. Properties:
// `installed` and `downloading` (file names). Event: `download-hub-file` ({ url, fileName, sha256?,
// expectedSize? }), which the models view turns into a download job with the hub's published hash.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import type { HubFile, HubModel, HubSearchResult } from '../api/types.js';
import { formatBytes } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import { api } from '../store.js';

export interface DownloadHubFileDetail {
  url: string;
  fileName: string;
  sha256?: string;
  expectedSize?: number;
}

export class HubSearch extends LitElement {
  static override properties: PropertyDeclarations = {
    installed: { attribute: false },
    downloading: { attribute: false },
    _result: { state: true },
    _searching: { state: true },
    _error: { state: true },
  };

  installed: ReadonlySet<string> = new Set();
  downloading: ReadonlySet<string> = new Set();
  _result: HubSearchResult | null = null;
  _searching = false;
  _error: string | null = null;
  #abort: AbortController | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      form {
        display: flex;
        gap: 0.5rem;
        align-items: end;
        flex-wrap: wrap;
      }
      form label {
        flex: 1;
        min-width: 12rem;
      }
      .repo {
        margin-top: 0.75rem;
      }
      .repo h3 {
        margin: 0 0 0.35rem;
        font-size: 1rem;
        overflow-wrap: anywhere;
      }
      .table-wrap {
        overflow-x: auto;
      }
      td.file {
        font-family: var(--wf-mono);
        font-size: 0.85rem;
        overflow-wrap: anywhere;
      }
    `,
  ];

  async #search(e: Event): Promise<void> {
    e.preventDefault();
    const q = String(new FormData(e.target as HTMLFormElement).get('q') ?? '').trim();
    if (!q) return;
    this.#abort?.abort();
    const abort = (this.#abort = new AbortController());
    this._searching = true;
    this._error = null;
    try {
      this._result = await api().get<HubSearchResult>('/api/models/hub/search', { query: { q }, signal: abort.signal });
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this._error = (err as Error).message;
    } finally {
      if (this.#abort === abort) this._searching = false;
    }
  }

  #download(f: HubFile): void {
    const detail: DownloadHubFileDetail = {
      url: f.url,
      fileName: f.fileName,
      ...(f.sha256 ? { sha256: f.sha256 } : {}),
      ...(f.sizeBytes !== null ? { expectedSize: f.sizeBytes } : {}),
    };
    this.dispatchEvent(new CustomEvent('download-hub-file', { detail }));
  }

  #fit(f: HubFile) {
    if (f.fits === undefined || f.memoryBytes === undefined) return html`<span class="badge">size unknown</span>`;
    const title = `About ${formatBytes(f.memoryBytes)} of memory for an 8k-token conversation`;
    return f.fits
      ? html`<span class="badge ok" data-fit="fits" title=${title}>fits your machine</span>`
      : html`<span class="badge warn" data-fit="too-big" title="${title}: more than this computer has to spare">too big</span>`;
  }

  #action(f: HubFile) {
    if (this.installed.has(f.fileName)) return html`<span class="badge ok">installed</span>`;
    if (!f.downloadable) return html`<span class="small muted" title="Its name has characters the models folder does not accept">not downloadable</span>`;
    const running = this.downloading.has(f.fileName);
    return html`<button ?disabled=${running} @click=${() => this.#download(f)} aria-label="Download ${f.fileName}">
      ${running ? 'Downloading…' : 'Download'}
    </button>`;
  }

  #repo(m: HubModel) {
    return html`<div class="card repo" data-repo=${m.repo}>
      <h3>${m.repo}</h3>
      ${m.downloads !== undefined ? html`<div class="small muted">${m.downloads.toLocaleString()} downloads</div>` : nothing}
      ${m.error ? html`<p class="error-text small">Its files could not be listed: ${m.error}</p>` : nothing}
      ${m.files.length
        ? html`<div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>File</th>
                  <th>Quantization</th>
                  <th class="num">Size</th>
                  <th>This computer</th>
                  <th><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${m.files.map(
                  (f) => html`<tr data-hub-file=${f.fileName}>
                    <td class="file">${f.fileName}</td>
                    <td>${f.quantization ?? '?'}</td>
                    <td class="num" data-testid="hub-size">${f.sizeBytes !== null ? formatBytes(f.sizeBytes) : '?'}</td>
                    <td>${this.#fit(f)}</td>
                    <td>${this.#action(f)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : m.error
          ? nothing
          : html`<p class="small muted">No single-file GGUF models here.</p>`}
      ${m.skippedSplit ? html`<p class="small muted">${m.skippedSplit} parts of split models are not shown: they cannot be used as one file.</p>` : nothing}
    </div>`;
  }

  override render() {
    const r = this._result;
    return html`<form @submit=${(e: Event) => void this.#search(e)} role="search">
        <label>Model name <input name="q" type="search" required placeholder="e.g. qwen3 4b" /></label>
        <button class="primary" type="submit" ?disabled=${this._searching}>${this._searching ? 'Searching…' : 'Search'}</button>
      </form>
      ${this._error ? html`<p class="error-text" role="alert">${this._error}</p>` : nothing}
      ${r
        ? html`<p class="small muted" data-testid="hub-summary">
              ${r.models.length ? `${r.models.length} result${r.models.length === 1 ? '' : 's'} for “${r.query}”` : `Nothing found for “${r.query}”`}.
              A model may use about ${formatBytes(r.budgetBytes)} of memory here.
            </p>
            ${r.models.map((m) => this.#repo(m))}`
        : nothing}`;
  }
}

customElements.define('wf-hub-search', HubSearch);
