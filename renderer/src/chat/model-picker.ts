// <wf-model-picker>: the model this chat talks to, from GET /api/models/available (this computer's models
// with their load state, and remote ones with their host), and whether it is loaded. Property: `value`
// (a model id, or null for the default model). Event: `model-change` ({ model: string | null }). While a
// model loads, the list is read again every second so the picker shows the progress and then "loaded".
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import type { ModelListEntry } from '../../../src/server/schemas.js';
import { api } from '../store.js';
import { baseStyles } from '../shared/styles.js';

interface Available {
  models: ModelListEntry[];
}

const FAST_MS = 1000;
const SLOW_MS = 10_000;

export function stateLabel(m: ModelListEntry): string {
  if (m.kind === 'remote') return `remote · ${m.location}`;
  if (m.state === 'ready') return 'loaded';
  if (m.state === 'loading') return m.progress != null ? `loading ${Math.round(m.progress * 100)}%` : 'loading';
  if (m.state === 'error') return 'failed to load';
  return 'not loaded';
}

export class ModelPicker extends LitElement {
  static override properties: PropertyDeclarations = {
    value: { attribute: false },
    _models: { state: true },
    _error: { state: true },
  };

  value: string | null = null;
  _models: ModelListEntry[] = [];
  _error: string | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = true;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: inline-flex;
        align-items: center;
        gap: 0.4rem;
      }
      select {
        max-width: 16rem;
      }
      .state {
        font-size: 0.8rem;
        padding: 0.1rem 0.45rem;
        border-radius: 999px;
        border: 1px solid var(--wf-border);
        color: var(--wf-muted, inherit);
        white-space: nowrap;
      }
      .state[data-state='ready'] {
        border-color: var(--wf-success, #2a7);
      }
      .state[data-state='loading'] {
        border-color: var(--wf-accent, #47c);
      }
      .state[data-state='error'],
      .state[data-kind='remote'] {
        border-color: var(--wf-warning, #c83);
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.#stopped = false;
    void this.refresh();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Reads the list now (and again soon while something loads). */
  async refresh(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    try {
      const r = await api().request<Available>('GET', '/api/models/available');
      this._models = r.models;
      this._error = null;
    } catch (err) {
      this._error = err instanceof Error ? err.message : String(err);
    }
    if (this.#stopped) return;
    const busy = this._models.some((m) => m.state === 'loading') || (this.value !== null && this.#selected()?.state !== 'ready' && this.#selected()?.kind === 'local');
    this.#timer = setTimeout(() => void this.refresh(), busy ? FAST_MS : SLOW_MS);
  }

  override updated(): void {
    // The select's value, not the options' `selected` attributes: once the user has picked, the browser no
    // longer follows those attributes, and another chat's choice would not show.
    const select = this.renderRoot.querySelector('select');
    if (select && select.value !== (this.value ?? '')) select.value = this.value ?? '';
  }

  #selected(): ModelListEntry | undefined {
    const id = this.value ?? this._models.find((m) => m.default)?.id;
    return this._models.find((m) => m.id === id);
  }

  #onChange(e: Event): void {
    const v = (e.target as HTMLSelectElement).value;
    const model = v === '' ? null : v;
    this.dispatchEvent(new CustomEvent('model-change', { detail: { model }, bubbles: true, composed: true }));
    // Loading starts with the first message; the state is read again quickly until then.
    queueMicrotask(() => void this.refresh());
  }

  override render() {
    const def = this._models.find((m) => m.default);
    const selected = this.#selected();
    const unknown = this.value !== null && !this._models.some((m) => m.id === this.value);
    return html`
      <select aria-label="Model for this chat" data-testid="model-picker" @change=${(e: Event) => this.#onChange(e)}>
        <option value="" ?selected=${this.value === null}>Default${def ? ` (${def.id})` : ' (none loaded)'}</option>
        ${this._models.map(
          (m) => html`<option value=${m.id} ?selected=${this.value === m.id} data-state=${m.state}>${m.id} — ${stateLabel(m)}</option>`,
        )}
        ${unknown ? html`<option value=${this.value!} selected>${this.value} — not available</option>` : nothing}
      </select>
      ${selected
        ? html`<span class="state" data-testid="model-state" data-state=${selected.state} data-kind=${selected.kind} title=${selected.kind === 'remote'
              ? `Messages of this chat go to ${selected.location}`
              : selected.state === 'ready'
                ? 'Runs on this computer'
                : 'Runs on this computer; loads with the next message'}
            >${stateLabel(selected)}</span
          >`
        : this._error
          ? html`<span class="state" data-state="error" title=${this._error}>models unavailable</span>`
          : nothing}
    `;
  }
}

customElements.define('wf-model-picker', ModelPicker);
