// <wf-catalog-card>: one catalog model. Properties: `model` (a CatalogModel from /api/models/catalog),
// `downloading` (its download is running), `memoryContext` (the context its memory figure is for).
// Event: `download-model` ({ catalogId, name }), bubbling and composed, when its Download button is pressed.
// Badges say what the model does (thinks, tools), what it needs (memory, and whether this computer has it),
// and its licence, linked to the licence text.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import type { CatalogModel } from '../api/types.js';
import { formatBytes } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';

export interface DownloadModelDetail {
  catalogId: string;
  name: string;
}

export class CatalogCard extends LitElement {
  static override properties: PropertyDeclarations = {
    model: { attribute: false },
    downloading: { type: Boolean },
    memoryContext: { type: Number, attribute: 'memory-context' },
  };

  model: CatalogModel | null = null;
  downloading = false;
  memoryContext = 8192;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      article {
        display: flex;
        flex-direction: column;
        gap: 0.35rem;
        height: 100%;
        box-sizing: border-box;
      }
      article.recommended {
        border-left: 4px solid var(--wf-accent);
      }
      h3 {
        margin: 0;
      }
      .mark {
        color: var(--wf-accent);
        font-size: 0.8rem;
        font-weight: 600;
      }
      .badges {
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem;
      }
      p {
        flex: 1;
        font-size: 0.88rem;
        margin: 0;
      }
      a.licence {
        color: inherit;
      }
    `,
  ];

  #download(): void {
    const m = this.model;
    if (!m) return;
    this.dispatchEvent(
      new CustomEvent<DownloadModelDetail>('download-model', { detail: { catalogId: m.id, name: m.name }, bubbles: true, composed: true }),
    );
  }

  #memoryBadge(m: CatalogModel) {
    const ctx = `${Math.round(this.memoryContext / 1024)}k`;
    const title = `About ${formatBytes(m.memoryBytes)} of memory (RAM or GPU) at a ${ctx}-token context`;
    return m.fits
      ? html`<span class="badge" data-badge="memory" title=${title}>needs ${formatBytes(m.memoryBytes)}</span>`
      : html`<span class="badge warn" data-badge="memory" title="${title}: more than this computer has to spare">needs ${formatBytes(m.memoryBytes)}</span>`;
  }

  override render() {
    const m = this.model;
    if (!m) return nothing;
    return html`<article class="card ${m.recommended ? 'recommended' : ''}" aria-label=${m.name} data-catalog-id=${m.id}>
      ${m.recommended ? html`<span class="mark" data-testid="recommended-mark">★ Recommended for this computer</span>` : nothing}
      <h3>${m.name}</h3>
      <div class="small muted">${m.parameters} · ${m.quantization} · ${formatBytes(m.sizeBytes)} download · ${m.contextLength.toLocaleString()} ctx</div>
      <div class="badges">
        ${m.thinks ? html`<span class="badge ok" data-badge="thinks" title="Reasons step by step before it answers">thinks</span>` : nothing}
        ${m.toolCalls ? html`<span class="badge ok" data-badge="tools" title="Can call the assistant's tools">tools</span>` : nothing}
        ${this.#memoryBadge(m)}
        ${m.fits ? nothing : html`<span class="badge warn" data-badge="too-big">may not fit</span>`}
      </div>
      <p>${m.description}</p>
      <div class="row">
        <span class="small muted grow" data-badge="licence">
          ${m.licenseUrl ? html`<a class="licence" href=${m.licenseUrl} target="_blank" rel="noopener noreferrer">${m.license}</a>` : m.license}
        </span>
        ${m.installed
          ? html`<span class="badge ok">installed</span>`
          : html`<button ?disabled=${this.downloading} @click=${() => this.#download()} aria-label="Download ${m.name}">
              ${this.downloading ? 'Downloading…' : 'Download'}
            </button>`}
      </div>
    </article>`;
  }
}

customElements.define('wf-catalog-card', CatalogCard);
