// <wf-thinking-controls>: thinking for this chat (models that think): on/off and a budget in tokens
// (empty: no limit). Property: `setting` ({ enabled, budget }). Event: `thinking-change` (the changed
// fields). Models that do not think ignore both.
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import type { ThinkingSetting } from '../store.js';
import { baseStyles } from '../shared/styles.js';

const MAX_BUDGET = 1 << 20;

export class ThinkingControls extends LitElement {
  static override properties: PropertyDeclarations = {
    setting: { attribute: false },
  };

  setting: ThinkingSetting = { enabled: true, budget: null };

  static override styles = [
    baseStyles,
    css`
      :host {
        display: flex;
        align-items: center;
        gap: 0.6rem;
      }
      input[type='number'] {
        width: 6.5rem;
        padding: 0.2rem 0.4rem;
      }
    `,
  ];

  #emit(patch: Partial<ThinkingSetting>): void {
    this.dispatchEvent(new CustomEvent('thinking-change', { detail: patch, bubbles: true, composed: true }));
  }

  #onBudget(e: Event): void {
    const input = e.target as HTMLInputElement;
    const raw = input.value.trim();
    if (raw === '') {
      this.#emit({ budget: null });
      return;
    }
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) {
      input.value = this.setting.budget === null ? '' : String(this.setting.budget); // not a budget: back to what it was
      return;
    }
    this.#emit({ budget: Math.min(MAX_BUDGET, Math.round(n)) });
  }

  override render() {
    const { enabled, budget } = this.setting;
    return html`<label class="inline small" title="Let a model that thinks reason before it answers (this chat only)"
        ><input type="checkbox" data-testid="think-toggle" .checked=${enabled} @change=${(e: Event) => this.#emit({ enabled: (e.target as HTMLInputElement).checked })} />Think</label
      >
      <label class="inline small" title="The most tokens of thinking per reply (empty: no limit)"
        >Budget
        <input
          type="number"
          min="0"
          max=${MAX_BUDGET}
          step="64"
          inputmode="numeric"
          placeholder="no limit"
          aria-label="Thinking budget in tokens (empty: no limit)"
          data-testid="think-budget"
          .value=${budget === null ? '' : String(budget)}
          ?disabled=${!enabled}
          @change=${this.#onBudget}
      /></label>`;
  }
}

customElements.define('wf-thinking-controls', ThinkingControls);
