// <wf-first-run-offer>: when nothing is installed, the model to start with: the one recommended for this
// computer, else the catalog's default. Properties: `listing`, `catalog`, `downloading` (file names being
// downloaded), `busy`. Event: `download-model` ({ catalogId, name }, as the catalog cards send it).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import type { CatalogResponse, ModelsResponse } from '../api/types.js';
import { formatBytes } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import type { DownloadModelDetail } from './catalog-card.js';

export class FirstRunOffer extends LitElement {
  static override properties: PropertyDeclarations = {
    listing: { attribute: false },
    catalog: { attribute: false },
    downloading: { attribute: false },
    busy: { type: Boolean },
  };

  listing: ModelsResponse | null = null;
  catalog: CatalogResponse | null = null;
  downloading: ReadonlySet<string> = new Set();
  busy = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      section {
        border-left: 4px solid var(--wf-accent);
      }
    `,
  ];

  override render() {
    const m = this.listing;
    if (!m?.firstRun) return nothing;
    const models = this.catalog?.models;
    const def = models?.find((c) => c.recommended) ?? models?.find((c) => c.id === m.defaultModel) ?? models?.find((c) => c.default);
    if (!def) return nothing;
    const running = this.downloading.has(def.fileName);
    const detail: DownloadModelDetail = { catalogId: def.id, name: def.name };
    return html`<section class="card" aria-labelledby="first-run-title" data-testid="first-run">
      <h2 id="first-run-title">Get your first model</h2>
      <p>
        No model is installed yet. The recommended start ${def.recommended ? 'for this computer ' : ''}is <strong>${def.name}</strong>
        (${def.parameters}, ${def.quantization}, about ${formatBytes(def.sizeBytes)}, needs about ${formatBytes(def.memoryBytes)} of memory):
        ${def.description}
      </p>
      <button class="primary" ?disabled=${running || this.busy} @click=${() => this.dispatchEvent(new CustomEvent('download-model', { detail }))}>
        ${running ? 'Downloading…' : `Download ${def.name}`}
      </button>
      <span class="small muted">Licence: ${def.license}</span>
    </section>`;
  }
}

customElements.define('wf-first-run-offer', FirstRunOffer);
