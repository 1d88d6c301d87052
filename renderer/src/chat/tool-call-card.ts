// <wf-tool-call-card>: a function call of the model. Properties: `call` ({ id, name, arguments, status,
// result?, error?, mutates? }). Events: `confirm-tool` and `deny-tool` ({ id }), for calls awaiting the
// user's confirmation (status 'pending'). Arguments and results are shown as formatted JSON, whatever their
// shape.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { icons } from '../shared/icons.js';
import { baseStyles } from '../shared/styles.js';

export type ToolCallStatus = 'pending' | 'approved' | 'denied' | 'running' | 'done' | 'error';

export interface ToolCallView {
  id: string;
  name: string;
  arguments: unknown;
  status: ToolCallStatus;
  mutates?: boolean;
  result?: unknown;
  error?: string;
}

const STATUS_TEXT: Record<ToolCallStatus, string> = {
  pending: 'Needs your confirmation',
  approved: 'Approved',
  denied: 'Denied',
  running: 'Running…',
  done: 'Done',
  error: 'Failed',
};

function pretty(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') {
    try {
      return JSON.stringify(JSON.parse(v), null, 2);
    } catch {
      return v;
    }
  }
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

export class ToolCallCard extends LitElement {
  static override properties: PropertyDeclarations = {
    call: { attribute: false },
  };

  call: ToolCallView | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        margin: 0.25rem 0 0.25rem 2.6rem;
        max-width: min(760px, 85%);
      }
      .card {
        padding: 0.6rem 0.8rem;
        border-left: 4px solid var(--wf-accent);
      }
      .card.pending {
        border-left-color: var(--wf-warning);
      }
      .card.error,
      .card.denied {
        border-left-color: var(--wf-danger);
      }
      .card.done {
        border-left-color: var(--wf-success);
      }
      header {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
      }
      code.name {
        font-family: var(--wf-mono);
        font-weight: 600;
      }
      pre {
        font-family: var(--wf-mono);
        font-size: 0.8rem;
        background: var(--wf-code-bg);
        border-radius: 6px;
        padding: 0.5rem;
        overflow: auto;
        max-height: 14rem;
        margin: 0.4rem 0 0;
      }
      details summary {
        cursor: pointer;
        font-size: 0.8rem;
        color: var(--wf-muted);
        margin-top: 0.4rem;
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        margin-top: 0.5rem;
      }
    `,
  ];

  #emit(name: string): void {
    this.dispatchEvent(new CustomEvent(name, { detail: { id: this.call?.id }, bubbles: true, composed: true }));
  }

  override render() {
    const c = this.call;
    if (!c) return nothing;
    const badge = c.status === 'done' ? 'ok' : c.status === 'pending' ? 'warn' : c.status === 'error' || c.status === 'denied' ? 'err' : '';
    return html`<section class="card ${c.status}" role="group" aria-label="Tool call ${c.name}: ${STATUS_TEXT[c.status]}" data-testid="tool-call">
      <header>
        ${icons.tool}
        <code class="name">${c.name}</code>
        ${c.mutates ? html`<span class="badge warn" title="Changes your data">changes data</span>` : nothing}
        <span class="badge ${badge}" data-testid="tool-status">${STATUS_TEXT[c.status]}</span>
      </header>
      <pre aria-label="Arguments">${pretty(c.arguments) || '{}'}</pre>
      ${c.status === 'pending'
        ? html`<div class="actions">
            <button class="primary" @click=${() => this.#emit('confirm-tool')} data-testid="tool-confirm">Allow</button>
            <button class="danger" @click=${() => this.#emit('deny-tool')} data-testid="tool-deny">Deny</button>
          </div>`
        : nothing}
      ${c.error ? html`<p class="error-text small" role="alert">${c.error}</p>` : nothing}
      ${c.result !== undefined
        ? html`<details>
            <summary>Result</summary>
            <pre>${pretty(c.result)}</pre>
          </details>`
        : nothing}
    </section>`;
  }
}

customElements.define('wf-tool-call-card', ToolCallCard);
