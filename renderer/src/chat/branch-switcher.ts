// <wf-branch-switcher>: "‹ 2/3 ›" under a message that has alternatives (an edited question, a regenerated
// reply). Properties: `index` (0-based), `count`, `disabled`. Event: `branch-step` ({ delta: -1 | 1 };
// bubbles, composed).
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';

export class BranchSwitcher extends LitElement {
  static override properties: PropertyDeclarations = {
    index: { type: Number },
    count: { type: Number },
    disabled: { type: Boolean },
  };

  index = 0;
  count = 1;
  disabled = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: inline-flex;
        align-items: center;
        gap: 0.1rem;
        font-size: 0.78rem;
        color: var(--wf-muted);
      }
      button {
        padding: 0.05rem 0.4rem;
        font-size: 0.85rem;
      }
      span {
        font-variant-numeric: tabular-nums;
      }
    `,
  ];

  #step(delta: -1 | 1): void {
    this.dispatchEvent(new CustomEvent('branch-step', { detail: { delta }, bubbles: true, composed: true }));
  }

  override render() {
    return html`<button class="ghost" aria-label="Previous version" ?disabled=${this.disabled || this.index <= 0} @click=${() => this.#step(-1)}>‹</button
      ><span data-testid="branch-position" aria-label="Version ${this.index + 1} of ${this.count}">${this.index + 1}/${this.count}</span
      ><button class="ghost" aria-label="Next version" ?disabled=${this.disabled || this.index >= this.count - 1} @click=${() => this.#step(1)}>›</button>`;
  }
}

customElements.define('wf-branch-switcher', BranchSwitcher);
