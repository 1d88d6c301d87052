// <wf-loaded-model-card>: what is loaded now (or loading, or why it failed). Properties: `status` (the
// store's ModelStatus), `busy` (another model action runs). Event: `unload-model`.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import type { ModelStatus } from '../api/types.js';
import { baseStyles } from '../shared/styles.js';

export class LoadedModelCard extends LitElement {
  static override properties: PropertyDeclarations = {
    status: { attribute: false },
    busy: { type: Boolean },
  };

  status: ModelStatus | null = null;
  busy = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      section {
        display: flex;
        gap: 1rem;
        align-items: center;
        flex-wrap: wrap;
      }
    `,
  ];

  override render() {
    const st = this.status;
    if (!st) return nothing;
    const ctx = st.context;
    return html`<section class="card" aria-label="Loaded model" data-testid="loaded-model">
      <div class="grow">
        <h2>Loaded model</h2>
        ${st.state === 'ready' && st.model
          ? html`<p>
              <strong>${st.model.name ?? st.model.id}</strong> · ${st.model.architecture} · context ${ctx?.contextSize ?? '?'} tokens
              (${ctx?.sequences ?? '?'} chats at once, ${ctx?.contextSizePerSequence ?? '?'} tokens each) · ${ctx?.threads ?? '?'} CPU threads
            </p>`
          : st.state === 'loading'
            ? html`<p>Loading… ${Math.round((st.progress ?? 0) * 100)}%</p>`
            : st.state === 'error'
              ? html`<p class="error-text">Could not load: ${st.error?.message}</p>`
              : html`<p class="muted">None. Load an installed model below.</p>`}
      </div>
      ${st.state === 'ready'
        ? html`<button @click=${() => this.dispatchEvent(new CustomEvent('unload-model'))} ?disabled=${this.busy}>Unload</button>`
        : nothing}
    </section>`;
  }
}

customElements.define('wf-loaded-model-card', LoadedModelCard);
