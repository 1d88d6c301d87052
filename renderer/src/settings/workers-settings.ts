// <wf-workers-settings active>: the other computers a model can be split over (`westfall worker` there;
// /api/workers, docs/rpc.md). Add or remove addresses, turn splitting on or off, test one, and see what
// each offers and holds. Renders nothing where the backend cannot split (no route).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { formatBytes } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import { api, notify, reportError } from '../store.js';

export interface WorkerStatus {
  endpoint: string;
  reachable: boolean;
  inUse: boolean;
  version: string | null;
  memoryFree: number | null;
  memoryTotal: number | null;
  layers: number | null;
  error: { code: string; message: string } | null;
}

export interface WorkersInfo {
  enabled: boolean;
  split: number[] | null;
  workers: WorkerStatus[];
  model: { model: string | null; state: string; placement: { localLayers: number } | null; error: { message: string } | null };
}

/** One line about a worker, in the user's words. */
export function describeWorker(w: WorkerStatus): string {
  if (w.inUse) return `in use: ${w.layers ?? 0} layer${w.layers === 1 ? '' : 's'} of the model${w.memoryFree !== null ? `, ${formatBytes(w.memoryFree)} offered` : ''}`;
  if (w.reachable) return `ready, ${formatBytes(w.memoryFree ?? 0)} free of ${formatBytes(w.memoryTotal ?? 0)}`;
  if (w.error) return w.error.code === 'rpc_worker_busy' ? 'busy with another computer' : 'not reachable';
  return 'not checked yet';
}

export class WorkersSettings extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _info: { state: true },
    _busy: { state: true },
  };

  active = false;
  _info: WorkersInfo | null = null;
  _busy = false;
  #loads = 0;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      :host([hidden]) {
        display: none;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 0.4rem;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem;
      }
      .endpoint {
        font-family: var(--mono, monospace);
        overflow-wrap: anywhere;
      }
      .dot {
        width: 0.6rem;
        height: 0.6rem;
        border-radius: 50%;
        background: var(--muted, #888);
        flex: none;
      }
      .dot.ok {
        background: var(--ok, #2a7);
      }
      .dot.bad {
        background: var(--danger, #c33);
      }
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
      }
      input[type='text'] {
        flex: 1 1 12rem;
        min-width: 0;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) void this.refresh();
  }

  async refresh(): Promise<void> {
    const load = ++this.#loads;
    try {
      const info = await api().get<WorkersInfo>('/api/workers');
      if (load === this.#loads) this._info = info;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) this._info = null;
      else reportError(err, 'Could not read the workers');
    }
  }

  async #put(body: Partial<{ enabled: boolean; workers: string[]; split: number[] | null }>, done: string): Promise<boolean> {
    this._busy = true;
    ++this.#loads;
    try {
      this._info = await api().put<WorkersInfo>('/api/workers', body);
      notify('success', done);
      return true;
    } catch (err) {
      reportError(err, 'Could not change the workers');
      return false;
    } finally {
      this._busy = false;
    }
  }

  async #add(e: Event): Promise<void> {
    e.preventDefault();
    const input = (e.target as HTMLFormElement).querySelector('input')!;
    const address = input.value.trim();
    if (!address || !this._info) return;
    if (await this.#put({ workers: [...this._info.workers.map((w) => w.endpoint), address] }, `Added ${address}.`)) input.value = '';
  }

  async #remove(endpoint: string): Promise<void> {
    if (!this._info) return;
    const inUse = this._info.workers.find((w) => w.endpoint === endpoint)?.inUse;
    if (
      inUse &&
      !(await askConfirm({
        title: 'Remove a worker in use',
        message: `${endpoint} holds part of the loaded model. Removing it unloads the model; the next message loads it again without this computer.`,
        confirmLabel: 'Remove',
        danger: true,
      }))
    )
      return;
    await this.#put({ workers: this._info.workers.map((w) => w.endpoint).filter((w) => w !== endpoint) }, `Removed ${endpoint}.`);
  }

  async #test(endpoint: string): Promise<void> {
    try {
      const p = await api().post<{ version: string; memoryFree: number; memoryTotal: number }>('/api/workers/probe', { endpoint });
      notify('success', `${endpoint} answers (protocol ${p.version}), ${formatBytes(p.memoryFree)} free.`);
    } catch (err) {
      reportError(err, `${endpoint} did not answer`);
    }
    void this.refresh();
  }

  protected override updated(): void {
    this.hidden = this._info === null;
  }

  override render() {
    const info = this._info;
    if (!info) return nothing;
    return html`<section class="card stack" aria-labelledby="workers-title">
      <h2 id="workers-title">Workers</h2>
      <p class="small muted">
        Split a model that does not fit here over other computers running <code>westfall worker</code> (or "Share this computer's memory" in
        their tray). The connection is not encrypted: use it on a network you trust, or through an SSH tunnel.
      </p>
      <label class="inline"
        ><input
          type="checkbox"
          data-testid="workers-enabled"
          .checked=${info.enabled}
          ?disabled=${this._busy || info.workers.length === 0}
          @change=${(e: Event) => {
            const on = (e.target as HTMLInputElement).checked;
            void this.#put({ enabled: on }, on ? 'Models now load split over the workers.' : 'Models now load on this computer alone.');
          }}
        />Split models over these workers</label
      >
      ${info.workers.length
        ? html`<ul data-testid="workers-list">
            ${info.workers.map(
              (w) => html`<li data-testid="worker">
                <span class="dot ${w.reachable ? 'ok' : w.error ? 'bad' : ''}" aria-hidden="true"></span>
                <span class="endpoint">${w.endpoint}</span>
                <span class="small muted" data-testid="worker-state">${describeWorker(w)}</span>
                <button class="small" @click=${() => void this.#test(w.endpoint)}>Test</button>
                <button class="small danger" ?disabled=${this._busy} @click=${() => void this.#remove(w.endpoint)} aria-label="Remove ${w.endpoint}">
                  Remove
                </button>
              </li>`,
            )}
          </ul>`
        : html`<p class="small">No workers yet.</p>`}
      ${info.model.model && info.model.placement
        ? html`<p class="small" data-testid="workers-model">
            ${info.model.model}: ${info.model.placement.localLayers} layer${info.model.placement.localLayers === 1 ? '' : 's'} on this computer, the rest on
            the workers.
          </p>`
        : nothing}
      ${info.model.error ? html`<p class="small error" role="alert">${info.model.error.message}</p>` : nothing}
      <form @submit=${(e: Event) => void this.#add(e)}>
        <input type="text" placeholder="192.168.1.20:50052" aria-label="Worker address (host:port)" data-testid="worker-address" ?disabled=${this._busy} />
        <button type="submit" ?disabled=${this._busy}>Add worker</button>
      </form>
    </section>`;
  }
}

customElements.define('wf-workers-settings', WorkersSettings);

declare global {
  interface HTMLElementTagNameMap {
    'wf-workers-settings': WorkersSettings;
  }
}
