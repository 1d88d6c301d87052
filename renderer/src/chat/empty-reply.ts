// <wf-empty-reply>: shown under a reply of the tool-using assistant that came back with neither an answer
// nor a tool call (its thinking aside). Says so plainly, and why where known. Properties: `reason`
// ('thinking_used_all_tokens' | 'max_tokens' | 'ended'), `disabled`. Event: `retry-reply`
// ({ withoutTools }), bubbling: Retry, or Retry without tools (a shorter prompt; small models often do
// better without the tool definitions).
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';

const REASONS: Record<string, string> = {
  thinking_used_all_tokens: 'The model used all its tokens thinking and gave no answer.',
  max_tokens: 'The model reached its token limit without an answer.',
  ended: 'The model ended without an answer.',
};

export class EmptyReply extends LitElement {
  static override properties: PropertyDeclarations = {
    reason: { type: String },
    disabled: { type: Boolean },
  };

  reason = 'ended';
  disabled = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        margin: 0 0 0.25rem 2.6rem;
        max-width: min(760px, 85%);
      }
      .notice {
        border-left: 4px solid var(--wf-warning);
        padding: 0.5rem 0.8rem;
      }
      p {
        margin: 0;
      }
      .hint {
        font-size: 0.8rem;
        color: var(--wf-muted);
        margin-top: 0.2rem;
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        margin-top: 0.45rem;
        flex-wrap: wrap;
      }
    `,
  ];

  #retry(withoutTools: boolean): void {
    this.dispatchEvent(new CustomEvent('retry-reply', { detail: { withoutTools }, bubbles: true, composed: true }));
  }

  override render() {
    return html`<div class="card notice" role="status" data-testid="empty-reply">
      <p>${REASONS[this.reason] ?? REASONS.ended}</p>
      <p class="hint">With tools on, their descriptions make the prompt longer; a small model may answer better without them.</p>
      <div class="actions">
        <button class="primary" ?disabled=${this.disabled} @click=${() => this.#retry(false)}>Retry</button>
        <button ?disabled=${this.disabled} @click=${() => this.#retry(true)}>Retry without tools</button>
      </div>
    </div>`;
  }
}

customElements.define('wf-empty-reply', EmptyReply);
