// <wf-context-meter>: how much of the model's context window the branch shown takes, counted by the
// backend with the model's own template and tokenizer (POST /api/llm/tokens), and what happens when it is
// full: the oldest messages are left out of what the model sees (the system prompt and the last question
// always stay). Properties: `used` (tokens of the prompt; null while unknown), `window` (the chat's
// window), `dropped` (messages the next reply would not see), `reserve` (kept for the reply).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';

export class ContextMeter extends LitElement {
  static override properties: PropertyDeclarations = {
    used: { type: Number, attribute: false },
    window: { type: Number, attribute: false },
    dropped: { type: Number, attribute: false },
    reserve: { type: Number, attribute: false },
  };

  used: number | null = null;
  window = 0;
  dropped = 0;
  reserve = 0;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        font-size: 0.75rem;
        color: var(--wf-muted);
      }
      .bar {
        width: 90px;
        height: 6px;
        border-radius: 3px;
        background: var(--wf-surface-2);
        overflow: hidden;
        flex: none;
      }
      .fill {
        height: 100%;
        background: var(--wf-accent);
      }
      :host([full]) .fill {
        background: var(--wf-warning);
      }
    `,
  ];

  protected override updated(): void {
    this.toggleAttribute('full', this.dropped > 0);
    // Through the CSSOM: the CSP refuses style attributes (and styleMap writes one on its first render).
    const fill = this.renderRoot.querySelector<HTMLElement>('.fill');
    if (fill) fill.style.width = `${fill.dataset.pct ?? 0}%`;
  }

  override render() {
    if (this.used === null || this.window <= 0) return nothing;
    const pct = Math.min(100, Math.round((this.used / this.window) * 100));
    const fmt = (n: number) => n.toLocaleString();
    return html`<div class="bar" role="meter" aria-label="Context used" aria-valuemin="0" aria-valuemax=${this.window} aria-valuenow=${Math.min(this.used, this.window)}>
        <div class="fill" data-pct=${pct}></div>
      </div>
      <span data-testid="context-used" title="Tokens of this conversation (as the model reads it) of the model's context window; ${fmt(this.reserve)} are kept for the reply"
        >${fmt(this.used)} / ${fmt(this.window)} tokens</span
      >
      ${this.dropped > 0
        ? html`<span data-testid="context-full">· Full: the model will not see the ${this.dropped} oldest message${this.dropped === 1 ? '' : 's'}</span>`
        : nothing}`;
  }
}

customElements.define('wf-context-meter', ContextMeter);
