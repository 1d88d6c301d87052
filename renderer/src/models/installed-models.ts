// <wf-installed-models>: the models in the models folder, with the settings a load uses. Properties:
// `listing` (GET /api/models), `busy` (the running action: 'load:<file>', 'unload', …, or null),
// `contextSize` (the loaded model's, as the starting value). Events: `load-model` ({ model, contextSize,
// gpuLayers }), `unload-model`, `delete-model` ({ model }).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import type { InstalledModel, ModelsResponse } from '../api/types.js';
import { formatBytes } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';

export interface LoadModelDetail {
  model: InstalledModel;
  contextSize: number;
  gpuLayers: number | 'auto';
}

/** What the GPU layers field means: "auto" (or empty), or a layer count of -1 (all) and up. */
export function parseGpuLayers(text: string): number | 'auto' {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'auto') return 'auto';
  const n = Number(t);
  return Number.isInteger(n) && n >= -1 ? n : 'auto';
}

export class InstalledModels extends LitElement {
  static override properties: PropertyDeclarations = {
    listing: { attribute: false },
    busy: { attribute: false },
    contextSize: { type: Number },
    _gpuLayers: { state: true },
  };

  listing: ModelsResponse | null = null;
  busy: string | null = null;
  contextSize = 4096;
  /** 'auto': the backend offloads what fits in the GPU's free memory (nothing without a GPU). */
  _gpuLayers: number | 'auto' = 'auto';

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
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
      .table-wrap {
        overflow-x: auto;
      }
      td .actions {
        display: flex;
        flex-wrap: wrap;
        gap: 0.35rem;
        justify-content: flex-end;
      }
    `,
  ];

  #fire<T>(type: string, detail?: T): void {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  #row(m: InstalledModel & { loaded: boolean }) {
    const busy = this.busy !== null;
    return html`<tr data-file=${m.fileName}>
      <td>
        <div>
          ${m.name ?? m.fileName} ${m.loaded ? html`<span class="badge ok">loaded</span>` : nothing}
          ${!m.valid ? html`<span class="badge err" title=${m.error ?? ''}>cannot be used</span>` : nothing}
        </div>
        <div class="small muted mono">${m.fileName}</div>
      </td>
      <td>${m.architecture ?? '?'}${m.parameterCount ? html` · ${(m.parameterCount / 1e9).toFixed(2)}B parameters` : nothing}</td>
      <td>${m.quantization ?? '?'}</td>
      <td class="num">${formatBytes(m.sizeBytes)}</td>
      <td>
        <div class="actions">
          ${m.loaded
            ? html`<button @click=${() => this.#fire('unload-model')} ?disabled=${busy}>Unload</button>`
            : html`<button
                class="primary"
                @click=${() => this.#fire<LoadModelDetail>('load-model', { model: m, contextSize: this.contextSize, gpuLayers: this._gpuLayers })}
                ?disabled=${busy || !m.valid}
                aria-label="Load ${m.fileName}"
              >
                ${this.busy === `load:${m.fileName}` ? 'Loading…' : 'Load'}
              </button>`}
          <button class="danger" @click=${() => this.#fire('delete-model', { model: m })} ?disabled=${busy} aria-label="Delete ${m.fileName}">Delete</button>
        </div>
      </td>
    </tr>`;
  }

  override render() {
    const models = this.listing?.models ?? [];
    return html`<div class="settings" role="group" aria-label="Load settings">
        <label
          >Context size (tokens)
          <input
            type="number"
            min="256"
            max="1048576"
            step="256"
            .value=${String(this.contextSize)}
            @change=${(e: Event) => (this.contextSize = Number((e.target as HTMLInputElement).value) || 4096)}
          />
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
        ? html`<p class="muted">No models in ${this.listing?.modelsDir ?? 'the models folder'}.</p>`
        : html`<div class="card table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Model</th>
                  <th>Kind</th>
                  <th>Quantization</th>
                  <th class="num">Size</th>
                  <th><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${models.map((m) => this.#row(m))}
              </tbody>
            </table>
          </div>`}`;
  }
}

customElements.define('wf-installed-models', InstalledModels);
