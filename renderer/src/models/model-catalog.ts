// <wf-model-catalog>: the catalog section of the models view. Properties: `catalog` (the /api/models/catalog
// response), `downloading` (file names whose download is running). Events: `download-model` from its cards
// (see catalog-card.ts). The recommended model comes first, then the ones that fit this computer, then the
// rest, each group in catalog order; a line above says how much memory the recommendation assumed.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import type { CatalogModel, CatalogResponse } from '../api/types.js';
import { formatBytes } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import './catalog-card.js';

/** Recommended first, then what fits, then the rest; stable within each group. */
export function catalogDisplayOrder(models: readonly CatalogModel[]): CatalogModel[] {
  const rank = (m: CatalogModel) => (m.recommended ? 0 : m.fits ? 1 : 2);
  return models
    .map((m, i) => ({ m, i }))
    .sort((a, b) => rank(a.m) - rank(b.m) || a.i - b.i)
    .map(({ m }) => m);
}

export class ModelCatalog extends LitElement {
  static override properties: PropertyDeclarations = {
    catalog: { attribute: false },
    downloading: { attribute: false },
  };

  catalog: CatalogResponse | null = null;
  downloading: ReadonlySet<string> = new Set();

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .grid {
        display: grid;
        gap: 0.75rem;
        grid-template-columns: repeat(auto-fill, minmax(260px, 1fr));
      }
      .machine {
        margin: 0 0 0.75rem;
      }
    `,
  ];

  #machine() {
    const c = this.catalog;
    if (!c?.machine) return nothing;
    const gpu = c.machine.gpuMemoryBytes ? html` and a GPU with ${formatBytes(c.machine.gpuMemoryBytes)}` : nothing;
    return html`<p class="small muted machine" data-testid="catalog-machine">
      This computer has ${formatBytes(c.machine.totalMemoryBytes)} of memory${gpu}; a model may use about
      ${formatBytes(c.machine.budgetBytes)}. Memory needs are for a ${Math.round(c.memoryContext / 1024)}k-token context.
    </p>`;
  }

  override render() {
    const models = catalogDisplayOrder(this.catalog?.models ?? []);
    return html`${this.#machine()}
      <div class="grid">
        ${models.map(
          (m) =>
            html`<wf-catalog-card
              .model=${m}
              .memoryContext=${this.catalog?.memoryContext ?? 8192}
              ?downloading=${this.downloading.has(m.fileName)}
            ></wf-catalog-card>`,
        )}
      </div>`;
  }
}

customElements.define('wf-model-catalog', ModelCatalog);
