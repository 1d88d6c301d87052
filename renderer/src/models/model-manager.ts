// <wf-model-manager>: the Models screen. It holds the state (installed models, catalog, downloads followed
// over SSE from /api/models/downloads/:id/events) and the actions; each section is its own component:
// <wf-first-run-offer>, <wf-loaded-model-card>, <wf-download-progress> per download, <wf-installed-models>,
// <wf-model-import> (a file from disk), <wf-hub-search> (the model hub), <wf-model-catalog> and
// <wf-url-download-form>.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import type { CatalogResponse, DownloadRequest, DownloadSnapshot, InstalledModel, ModelsResponse } from '../api/types.js';
import { StoreController, api, notify, refreshModelStatus, reportError } from '../store.js';
import { formatBytes } from '../shared/format.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { baseStyles } from '../shared/styles.js';
import type { DownloadModelDetail } from './catalog-card.js';
import type { DownloadHubFileDetail } from './hub-search.js';
import type { LoadModelDetail } from './installed-models.js';
import type { DownloadUrlDetail } from './url-download-form.js';
import './download-progress.js';
import './first-run-offer.js';
import './hub-search.js';
import './installed-models.js';
import './loaded-model-card.js';
import './model-catalog.js';
import './model-import.js';
import './url-download-form.js';

export { parseGpuLayers } from './installed-models.js';

export class ModelManager extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _models: { state: true },
    _catalog: { state: true },
    _downloads: { state: true },
    _busy: { state: true },
    _unavailable: { state: true },
    _dragging: { state: true },
  };

  active = false;
  _models: ModelsResponse | null = null;
  _catalog: CatalogResponse | null = null;
  _downloads = new Map<string, DownloadSnapshot>();
  _busy: string | null = null;
  _unavailable = false;
  /** A file is being dragged over the screen: the import area lights up wherever it will be dropped. */
  _dragging = false;

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
      .downloads {
        display: flex;
        flex-direction: column;
        gap: 0.75rem;
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
          this._downloads = new Map(this._downloads).set(snap.id, snap);
          if (ev.event === 'verified') {
            notify('success', `${snap.fileName} is downloaded${snap.hashSource === 'none' ? ' (not verified: no fingerprint is published)' : ' and checked'}.`);
            void this.refresh();
          } else if (ev.event === 'error' && snap.state !== 'cancelled') {
            notify('error', `The download of ${snap.fileName} stopped${snap.resumable ? '; it can be resumed' : ''}.`);
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

  async #load({ model: m, contextSize, gpuLayers }: LoadModelDetail): Promise<void> {
    this._busy = `load:${m.fileName}`;
    try {
      const promise = api().post('/api/models/load', { fileName: m.fileName, contextSize, gpuLayers });
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

  async #delete(m: InstalledModel & { loaded?: boolean }): Promise<void> {
    const message = m.loaded
      ? `${m.fileName} is the loaded model. It will be unloaded (chats stop until you load another model), then deleted from disk (${formatBytes(m.sizeBytes)}).`
      : `Delete ${m.fileName} (${formatBytes(m.sizeBytes)}) from disk?`;
    if (!(await askConfirm({ title: m.loaded ? 'Unload and delete model' : 'Delete model', message, confirmLabel: m.loaded ? 'Unload and delete' : 'Delete', danger: true }))) return;
    this._busy = `delete:${m.fileName}`;
    try {
      const r = await api().delete<{ unloaded?: boolean }>(`/api/models/${encodeURIComponent(m.fileName)}`);
      notify('info', r?.unloaded ? `${m.fileName} is unloaded and deleted.` : `${m.fileName} is deleted.`);
    } catch (err) {
      reportError(err, `Could not delete ${m.fileName}`);
    } finally {
      this._busy = null;
      await refreshModelStatus();
      await this.refresh();
    }
  }

  // A file dropped anywhere on the screen is imported (the import area handles drops on itself first).
  #dragOver(e: DragEvent): void {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault();
    this._dragging = true;
  }

  #drop(e: DragEvent): void {
    this._dragging = false;
    const file = e.dataTransfer?.files[0];
    if (e.defaultPrevented || !file) return;
    e.preventDefault();
    const importer = this.renderRoot.querySelector<HTMLElement & { import(f: File): Promise<void> }>('wf-model-import');
    importer?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    void importer?.import(file);
  }

  #downloadingFiles(): Set<string> {
    return new Set([...this._downloads.values()].filter((d) => d.state === 'downloading').map((d) => d.fileName));
  }

  #downloads() {
    const downloads = [...this._downloads.values()].reverse();
    if (!downloads.length) return nothing;
    return html`<section aria-labelledby="dl-title">
      <h2 id="dl-title">Downloads</h2>
      <div class="downloads">
        ${downloads.map(
          (d) => html`<div class="card" data-download=${d.id}>
            <wf-download-progress
              .download=${d}
              @cancel-download=${() => void this.#cancel(d.id)}
              @resume-download=${() => void this.#resume(d.id)}
              @discard-download=${() => void this.#cancel(d.id, true)}
            ></wf-download-progress>
          </div>`,
        )}
      </div>
    </section>`;
  }

  override render() {
    if (this._unavailable) return html`<div class="view"><h1 tabindex="-1">Models</h1><p class="unavailable">Model management is not available in this backend.</p></div>`;
    const downloading = this.#downloadingFiles();
    const installed = new Set((this._models?.models ?? []).map((m) => m.fileName));
    const busy = this._busy !== null;
    return html`<div
      class="view stack"
      data-testid="models-screen"
      @dragover=${this.#dragOver}
      @dragleave=${(e: DragEvent) => {
        if (e.relatedTarget === null) this._dragging = false;
      }}
      @drop=${this.#drop}
    >
      <h1 tabindex="-1">Models</h1>
      <wf-first-run-offer
        .listing=${this._models}
        .catalog=${this._catalog}
        .downloading=${downloading}
        ?busy=${busy}
        @download-model=${(e: CustomEvent<DownloadModelDetail>) => void this.#download({ catalogId: e.detail.catalogId }, e.detail.name)}
      ></wf-first-run-offer>
      <wf-loaded-model-card .status=${this.#store.state.model} ?busy=${busy} @unload-model=${() => void this.#unload()}></wf-loaded-model-card>
      ${this.#downloads()}
      <section aria-labelledby="installed-title">
        <h2 id="installed-title">Installed</h2>
        <wf-installed-models
          .listing=${this._models}
          .busy=${this._busy}
          .contextSize=${this._models?.loaded?.context?.contextSize ?? 4096}
          @load-model=${(e: CustomEvent<LoadModelDetail>) => void this.#load(e.detail)}
          @unload-model=${() => void this.#unload()}
          @delete-model=${(e: CustomEvent<{ model: InstalledModel }>) => void this.#delete(e.detail.model)}
        ></wf-installed-models>
      </section>
      <section aria-labelledby="import-title" class="card">
        <h2 id="import-title">Add a model file from this computer</h2>
        <wf-model-import
          .installed=${installed}
          ?highlight=${this._dragging}
          @model-imported=${(e: CustomEvent<{ fileName: string }>) => {
            notify('success', `${e.detail.fileName} is checked and added.`);
            void this.refresh();
          }}
        ></wf-model-import>
      </section>
      <section aria-labelledby="hub-title" class="card">
        <h2 id="hub-title">Find a model on the hub</h2>
        <wf-hub-search
          .installed=${installed}
          .downloading=${downloading}
          @download-hub-file=${(e: CustomEvent<DownloadHubFileDetail>) => void this.#download(e.detail, e.detail.fileName)}
        ></wf-hub-search>
      </section>
      <section aria-labelledby="catalog-title">
        <h2 id="catalog-title">Catalog</h2>
        <wf-model-catalog
          .catalog=${this._catalog}
          .downloading=${downloading}
          @download-model=${(e: CustomEvent<DownloadModelDetail>) => void this.#download({ catalogId: e.detail.catalogId }, e.detail.name)}
        ></wf-model-catalog>
      </section>
      <section aria-labelledby="url-title" class="card">
        <h2 id="url-title">Download from a web address</h2>
        <wf-url-download-form
          ?busy=${busy}
          @download-url=${(e: CustomEvent<DownloadUrlDetail>) => void this.#download(e.detail, e.detail.fileName || e.detail.url.split('/').pop() || e.detail.url)}
        ></wf-url-download-form>
      </section>
    </div>`;
  }
}

customElements.define('wf-model-manager', ModelManager);
