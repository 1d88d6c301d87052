// <wf-mcp-confirmations>: while the app is open it keeps /api/mcp/host/confirmations/events open, which
// tells the backend that someone can confirm; a call from another MCP client that changes data appears
// here in plain words (the sentence the confirmation mechanism writes) with Allow and Decline, answered at
// /api/agent/confirmations/:id like a chat's own calls. The stream reopens after a drop.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { api, reportError } from '../store.js';

interface Pending {
  id: string;
  sentence?: string;
  origin?: string;
  call: { name: string; arguments: unknown };
}

export class McpConfirmations extends LitElement {
  static override properties: PropertyDeclarations = { _pending: { state: true } };

  _pending: Pending[] = [];
  #abort: AbortController | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        position: fixed;
        right: 1rem;
        bottom: 1rem;
        z-index: 50;
        display: grid;
        gap: 0.5rem;
        max-width: 26rem;
      }
      .row {
        display: flex;
        gap: 0.5rem;
        justify-content: flex-end;
      }
      .origin {
        color: var(--wf-muted);
        font-size: 0.85rem;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.#listen();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#abort?.abort();
    this.#abort = null;
  }

  async #listen(): Promise<void> {
    let delay = 1000;
    while (this.isConnected) {
      const abort = new AbortController();
      this.#abort = abort;
      try {
        await api().sse(
          '/api/mcp/host/confirmations/events',
          (e) => {
            delay = 1000;
            let data: { confirmation?: Pending; pending?: Pending[] };
            try {
              data = JSON.parse(e.data) as typeof data;
            } catch {
              return;
            }
            if (e.event === 'ready') this._pending = data.pending ?? [];
            if (e.event === 'confirmation_required' && data.confirmation) this._pending = [...this._pending, data.confirmation];
          },
          abort.signal,
        );
      } catch {
        if (abort.signal.aborted) return;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 30_000);
    }
  }

  async #answer(p: Pending, approved: boolean): Promise<void> {
    this._pending = this._pending.filter((x) => x.id !== p.id);
    try {
      await api().post(`/api/agent/confirmations/${p.id}`, { approved });
    } catch (err) {
      reportError(err, 'Could not answer the request');
    }
  }

  override render() {
    if (this._pending.length === 0) return nothing;
    return this._pending.map(
      (p) => html`<div class="card stack" role="alertdialog" aria-label="Confirm a call from another app" data-testid="mcp-confirmation">
        <div class="origin">${p.origin ?? 'An MCP client'} asks:</div>
        <div>${p.sentence ?? `Use ${p.call.name}?`}</div>
        <div class="row">
          <button class="ghost" @click=${() => void this.#answer(p, false)}>Decline</button>
          <button @click=${() => void this.#answer(p, true)}>Allow</button>
        </div>
      </div>`,
    );
  }
}

customElements.define('wf-mcp-confirmations', McpConfirmations);
