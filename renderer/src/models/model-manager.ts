// <wf-model-manager>: installed models (load with context size and GPU layers, unload, delete), the
// catalog (<wf-model-catalog>: badges, what fits this computer), downloads with live progress (SSE from
// /api/models/downloads/:id/events), a download-from-URL form, and the first-run offer when nothing is
// installed: the model recommended for this computer, else the catalog's default.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import type { CatalogResponse, DownloadRequest, DownloadSnapshot, InstalledModel, ModelsResponse } from '../api/types.js';
import { StoreController, api, notify, refreshModelStatus, reportError } from '../store.js';
import { formatBytes } from '../shared/format.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { baseStyles } from '../shared/styles.js';
import type { DownloadModelDetail } from './catalog-card.js';
import './download-progress.js';
import './model-catalog.js';

export class ModelManager extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _models: { state: true },
    _catalog: { state: true },
    _downloads: { state: true },
    _busy: { state: true },
    _contextSize: { state: true },
    _gpuLayers: { state: true },
    _unavailable: { state: true },
  };

  active = false;
  _models: ModelsResponse | null = null;
  _catalog: CatalogResponse | null = null;
  _downloads = new Map<string, DownloadSnapshot>();
  _busy: string | null = null;
  _contextSize = 4096;
  /** 'auto': the backend offloads what fits in the GPU's free memory (nothing without a GPU). */
  _gpuLayers: number | 'auto' = 'auto';
  _unavailable = false;

  readonly #store = new StoreController(this);
  readonly #subscriptions = new Map<string, AbortController>();
  #loaded = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      section {
        margin-bottom: 1.5rem;
      }
      .first-run {
        border-left: 4px solid var(--wf-accent);
      }
      .downloads {
        display: flex;
        flex-direction: column;
        gap: 0.75rem;
      }
      .settings {
        display: flex;
        gap: 1rem;
        flex-wrap: wrap;
        align-items: flex-end;
        margin-bottom: 0.75rem;
      }
      .settings input {
        width: 9rem;
      }
      form.url {
        display: grid;
        gap: 0.5rem;
        grid-template-columns: 2fr 1fr 1.5fr auto;
        align-items: end;
      }
      @media (max-width: 900px) {
        form.url {
          grid-template-columns: 1fr;
        }
      }
      .status-card {
        display: flex;
        gap: 1rem;
        align-items: center;
        flex-wrap: wrap;
      }
      td .actions {
        display: flex;
        gap: 0.35rem;
        justify-content: flex-end;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) {
      void this.refresh(!this.#loaded);
      this.#loaded = true;
    }
  }

  override disconnectedCallback(): void {
    for (const c of this.#subscriptions.values()) c.abort();
    this.#subscriptions.clear();
    super.disconnectedCallback();
  }

  async refresh(withDownloads = false): Promise<void> {
    try {
      const [models, catalog] = await Promise.all([api().get<ModelsResponse>('/api/models'), api().get<CatalogResponse>('/api/models/catalog')]);
      this._models = models;
      this._catalog = catalog;
      if (models.loaded?.context) this._contextSize = models.loaded.context.contextSize;
      if (withDownloads) {
        const { downloads } = await api().get<{ downloads: DownloadSnapshot[] }>('/api/models/downloads');
        for (const d of downloads) this.#track(d);
      }
    } catch (err) {
      if (err instanceof ApiError && err.isMissingRoute) this._unavailable = true;
      else reportError(err, 'Could not list the models');
    }
  }

  #track(d: DownloadSnapshot): void {
    this._downloads = new Map(this._downloads).set(d.id, d);
    if (d.state !== 'downloading' || this.#subscriptions.has(d.id)) return;
    const controller = new AbortController();
    this.#subscriptions.set(d.id, controller);
    const update = (snap: DownloadSnapshot) => {
      this._downloads = new Map(this._downloads).set(snap.id, snap);
    };
    api()
      .sse(
        `/api/models/downloads/${encodeURIComponent(d.id)}/events`,
        (ev) => {
          let snap: DownloadSnapshot;
          try {
            snap = JSON.parse(ev.data) as DownloadSnapshot;
          } catch {
            return;
          }
          update(snap);
          if (ev.event === 'verified') {
            notify('success', `${snap.fileName} is downloaded and verified.`);
            void this.refresh();
          } else if (ev.event === 'error' && snap.state !== 'cancelled') {
            notify('error', `Download of ${snap.fileName} failed: ${snap.error?.message ?? 'unknown error'}`);
          }
        },
        controller.signal,
      )
      .catch((err: unknown) => {
        if ((err as Error).name !== 'AbortError') reportError(err, 'Lost the download progress');
      })
      .finally(() => this.#subscriptions.delete(d.id));
  }

  async #download(req: DownloadRequest, label: string): Promise<void> {
    this._busy = `download:${label}`;
    try {
      const r = await api().post<{ id: string; download: DownloadSnapshot }>('/api/models/downloads', req);
      this.#track(r.download);
      // Show the new download's progress (the form may be far below).
      await this.updateComplete;
      this.renderRoot.querySelector(`[data-download="${CSS.escape(r.id)}"]`)?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    } catch (err) {
      reportError(err, `Could not start the download of ${label}`);
    } finally {
      this._busy = null;
    }
  }

  /** Cancel keeps the partial file, so the download can be resumed; Discard deletes it. */
  async #cancel(id: string, discard = false): Promise<void> {
    try {
      const snap = await api().delete<DownloadSnapshot>(`/api/models/downloads/${encodeURIComponent(id)}`, discard ? { query: { discard: 'true' } } : {});
      if (snap && typeof snap === 'object' && 'id' in snap) this._downloads = new Map(this._downloads).set(id, snap);
    } catch (err) {
      reportError(err, discard ? 'Could not discard the download' : 'Could not cancel the download');
    }
  }

  async #resume(id: string): Promise<void> {
    try {
      const r = await api().post<{ id: string; download: DownloadSnapshot }>(`/api/models/downloads/${encodeURIComponent(id)}/resume`);
      this.#track(r.download);
    } catch (err) {
      reportError(err, 'Could not resume the download');
    }
  }

  async #load(m: InstalledModel): Promise<void> {
    this._busy = `load:${m.fileName}`;
    try {
      const promise = api().post('/api/models/load', { fileName: m.fileName, contextSize: this._contextSize, gpuLayers: this._gpuLayers });
      // the shell's status line follows the loading progress meanwhile
      setTimeout(() => void refreshModelStatus(), 100);
      await promise;
      notify('success', `${m.name ?? m.fileName} is loaded.`);
    } catch (err) {
      reportError(err, `Could not load ${m.fileName}`);
    } finally {
      this._busy = null;
      await refreshModelStatus();
      await this.refresh();
    }
  }

  async #unload(): Promise<void> {
    this._busy = 'unload';
    try {
      await api().post('/api/models/unload');
      notify('info', 'The model is unloaded.');
    } catch (err) {
      reportError(err, 'Could not unload the model');
    } finally {
      this._busy = null;
      await refreshModelStatus();
      await this.refresh();
    }
  }

  async #delete(m: InstalledModel): Promise<void> {
    if (!(await askConfirm({ title: 'Delete model', message: `Delete ${m.fileName} (${formatBytes(m.sizeBytes)}) from disk?`, confirmLabel: 'Delete', danger: true }))) return;
    try {
      await api().delete(`/api/models/${encodeURIComponent(m.fileName)}`);
      notify('info', `${m.fileName} is deleted.`);
    } catch (err) {
      reportError(err, `Could not delete ${m.fileName}`);
    }
    await this.refresh();
  }

  #submitUrl(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const url = String(data.get('url') ?? '').trim();
    const fileName = String(data.get('fileName') ?? '').trim();
    const sha256 = String(data.get('sha256') ?? '').trim();
    if (!url) return;
    void this.#download({ url, ...(fileName ? { fileName } : {}), ...(sha256 ? { sha256 } : {}) }, fileName || url.split('/').pop() || url).then(() => form.reset());
  }

  #downloading(fileName: string): boolean {
    return this.#downloadingFiles().has(fileName);
  }

  #downloadingFiles(): Set<string> {
    return new Set([...this._downloads.values()].filter((d) => d.state === 'downloading').map((d) => d.fileName));
  }

  #firstRun() {
    const m = this._models;
    if (!m?.firstRun) return nothing;
    const models = this._catalog?.models;
    const def = models?.find((c) => c.recommended) ?? models?.find((c) => c.id === m.defaultModel) ?? models?.find((c) => c.default);
    if (!def) return nothing;
    const busy = this.#downloading(def.fileName);
    return html`<section class="card first-run" aria-labelledby="first-run-title" data-testid="first-run">
      <h2 id="first-run-title">Get your first model</h2>
      <p>
        No model is installed yet. The recommended start ${def.recommended ? 'for this computer ' : ''}is <strong>${def.name}</strong> (${def.parameters},
        ${def.quantization}, about ${formatBytes(def.sizeBytes)}, needs about ${formatBytes(def.memoryBytes)} of memory): ${def.description}
      </p>
      <button class="primary" ?disabled=${busy || this._busy !== null} @click=${() => void this.#download({ catalogId: def.id }, def.name)}>
        ${busy ? 'Downloading…' : `Download ${def.name}`}
      </button>
      <span class="small muted">Licence: ${def.license}</span>
    </section>`;
  }

  #loadedCard() {
    const st = this.#store.state.model;
    if (!st) return nothing;
    return html`<section class="card status-card" aria-label="Loaded model" data-testid="loaded-model">
      <div class="grow">
        <h2>Loaded model</h2>
        ${st.state === 'ready' && st.model
          ? html`<p><strong>${st.model.name ?? st.model.id}</strong> · ${st.model.architecture} · context ${st.context?.contextSize ?? '?'} tokens
                (${st.context?.sequences ?? '?'} × ${st.context?.contextSizePerSequence ?? '?'}) · ${st.context?.threads ?? '?'} threads</p>`
          : st.state === 'loading'
            ? html`<p>Loading… ${Math.round((st.progress ?? 0) * 100)}%</p>`
            : st.state === 'error'
              ? html`<p class="error-text">Failed: ${st.error?.message}</p>`
              : html`<p class="muted">None. Load an installed model below.</p>`}
      </div>
      ${st.state === 'ready' ? html`<button @click=${() => void this.#unload()} ?disabled=${this._busy !== null}>Unload</button>` : nothing}
    </section>`;
  }

  #installed() {
    const models = this._models?.models ?? [];
    return html`<section aria-labelledby="installed-title">
      <h2 id="installed-title">Installed</h2>
      <div class="settings" role="group" aria-label="Load settings">
        <label
          >Context size (tokens)
          <input type="number" min="256" max="1048576" step="256" .value=${String(this._contextSize)} @change=${(e: Event) => (this._contextSize = Number((e.target as HTMLInputElement).value) || 4096)} />
        </label>
        <label
          >GPU layers (auto, -1 = all, 0 = none)
          <input
            type="text"
            inputmode="numeric"
            pattern="auto|-1|[0-9]+"
            .value=${String(this._gpuLayers)}
            @change=${(e: Event) => (this._gpuLayers = parseGpuLayers((e.target as HTMLInputElement).value))}
          />
        </label>
        <span class="small muted">Used when you load a model.</span>
      </div>
      ${models.length === 0
        ? html`<p class="muted">No models in ${this._models?.modelsDir ?? 'the models folder'}.</p>`
        : html`<div class="card">
            <table>
              <thead>
                <tr>
                  <th>Model</th>
                  <th>Architecture</th>
                  <th>Quantization</th>
                  <th class="num">Size</th>
                  <th><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${models.map(
                  (m) => html`<tr data-file=${m.fileName}>
                    <td>
                      <div>${m.name ?? m.fileName} ${m.loaded ? html`<span class="badge ok">loaded</span>` : nothing}
                        ${!m.valid ? html`<span class="badge err" title=${m.error ?? ''}>invalid</span>` : nothing}</div>
                      <div class="small muted mono">${m.fileName}</div>
                    </td>
                    <td>${m.architecture ?? '?'}${m.parameterCount ? html` · ${(m.parameterCount / 1e9).toFixed(2)}B` : nothing}</td>
                    <td>${m.quantization ?? '?'}</td>
                    <td class="num">${formatBytes(m.sizeBytes)}</td>
                    <td>
                      <div class="actions">
                        ${m.loaded
                          ? html`<button @click=${() => void this.#unload()} ?disabled=${this._busy !== null}>Unload</button>`
                          : html`<button class="primary" @click=${() => void this.#load(m)} ?disabled=${this._busy !== null || !m.valid} aria-label="Load ${m.fileName}">
                              ${this._busy === `load:${m.fileName}` ? 'Loading…' : 'Load'}
                            </button>`}
                        <button class="danger" @click=${() => void this.#delete(m)} ?disabled=${m.loaded} aria-label="Delete ${m.fileName}">Delete</button>
                      </div>
                    </td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`}
    </section>`;
  }

  override render() {
    if (this._unavailable) return html`<div class="view"><h1 tabindex="-1">Models</h1><p class="unavailable">Model management is not available in this backend.</p></div>`;
    const downloads = [...this._downloads.values()].reverse();
    return html`<div class="view stack">
      <h1 tabindex="-1">Models</h1>
      ${this.#firstRun()} ${this.#loadedCard()}
      ${downloads.length
        ? html`<section aria-labelledby="dl-title">
            <h2 id="dl-title">Downloads</h2>
            <div class="downloads">
              ${downloads.map(
                (d) => html`<div class="card" data-download=${d.id}><wf-download-progress
                    .download=${d}
                    @cancel-download=${() => void this.#cancel(d.id)}
                    @resume-download=${() => void this.#resume(d.id)}
                    @discard-download=${() => void this.#cancel(d.id, true)}
                  ></wf-download-progress></div>`,
              )}
            </div>
          </section>`
        : nothing}
      ${this.#installed()}
      <section aria-labelledby="catalog-title">
        <h2 id="catalog-title">Catalog</h2>
        <wf-model-catalog
          .catalog=${this._catalog}
          .downloading=${this.#downloadingFiles()}
          @download-model=${(e: CustomEvent<DownloadModelDetail>) => void this.#download({ catalogId: e.detail.catalogId }, e.detail.name)}
        ></wf-model-catalog>
      </section>
      <section aria-labelledby="url-title" class="card">
        <h2 id="url-title">Download from a URL</h2>
        <p class="small muted">Any GGUF file over HTTP(S). Give its SHA-256 unless the server announces it (Hugging Face does).</p>
        <form class="url" @submit=${this.#submitUrl}>
          <label>URL <input name="url" type="url" required placeholder="https://…/model.gguf" /></label>
          <label>File name (optional) <input name="fileName" placeholder="model.gguf" pattern="[A-Za-z0-9._\\-]+\\.gguf" /></label>
          <label>SHA-256 (optional) <input name="sha256" placeholder="64 hex digits" pattern="[0-9a-fA-F]{64}" /></label>
          <button class="primary" type="submit" ?disabled=${this._busy !== null}>Download</button>
        </form>
      </section>
    </div>`;
  }
}

customElements.define('wf-model-manager', ModelManager);

/** What the GPU layers field means: "auto" (or empty), or a layer count of -1 (all) and up. */
export function parseGpuLayers(text: string): number | 'auto' {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'auto') return 'auto';
  const n = Number(t);
  return Number.isInteger(n) && n >= -1 ? n : 'auto';
}
