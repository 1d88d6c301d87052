// <wf-settings-view>: appearance (theme), chat defaults (system prompt, temperature, reply length), the
// service (version, engine, memory, scheduler), the locale of numbers, amounts and dates (shared/locale-picker.ts),
// start-up (load the last used model), conversation memory on
// disk (prompt-cache-settings.ts) and signing out (this browser, or every browser: a new session secret).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError, signOut } from '../api/client.js';
import type { SystemResponse } from '../api/types.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { DEFAULT_CHAT_SETTINGS, StoreController, api, endSession, notify, reportError, setChatSettings, setTheme, type ThemeChoice } from '../store.js';
import { formatBytes } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import './prompt-cache-settings.js';
import './providers-settings.js';
import './workers-settings.js';
import './mcp-servers.js';
import './mcp-exposed.js';
import '../shared/locale-picker.js';

export class SettingsView extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _system: { state: true },
    _backend: { state: true },
  };

  active = false;
  _system: SystemResponse | null = null;
  /** The settings the backend keeps (null until read, or when this backend has none). */
  _backend: { loadLastModel: boolean; lastModel: string | null } | null = null;
  readonly #store = new StoreController(this);

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      fieldset {
        border: none;
        padding: 0;
        margin: 0;
        display: flex;
        gap: 1rem;
        flex-wrap: wrap;
      }
      legend {
        font-weight: 600;
        margin-bottom: 0.5rem;
      }
      textarea {
        width: 100%;
        min-height: 4.5rem;
      }
      dl {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.3rem 1rem;
        margin: 0;
        font-size: 0.9rem;
      }
      dt {
        color: var(--wf-muted);
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) void this.#load();
  }

  async #load(): Promise<void> {
    try {
      this._system = await api().get<SystemResponse>('/api/system');
    } catch (err) {
      reportError(err, 'Could not read the service status');
    }
    try {
      this._backend = await api().get('/api/settings');
    } catch (err) {
      if (!(err instanceof ApiError && err.isMissingRoute)) reportError(err, 'Could not read the settings');
    }
  }

  async #setLoadLastModel(on: boolean): Promise<void> {
    try {
      this._backend = await api().patch('/api/settings', { loadLastModel: on });
    } catch (err) {
      reportError(err, 'Could not save the setting');
    }
  }

  async #signOut(everywhere: boolean): Promise<void> {
    if (
      everywhere &&
      !(await askConfirm({
        title: 'Sign out everywhere',
        message: 'Every browser signed in to this assistant is signed out, and unused login links stop working. You will need a new login link.',
        confirmLabel: 'Sign out everywhere',
        danger: true,
      }))
    )
      return;
    try {
      await signOut(api().baseUrl, everywhere);
    } catch (err) {
      reportError(err, 'Could not sign out');
      return;
    }
    if (everywhere) notify('success', 'Every browser is signed out.');
    endSession(everywhere ? 'You signed out everywhere.' : 'You signed out.');
  }

  override render() {
    const s = this.#store.state;
    const chat = s.chat;
    const sys = this._system;
    return html`<div class="view stack">
      <h1 tabindex="-1">Settings</h1>
      <section class="card">
        <fieldset>
          <legend>Appearance</legend>
          ${(['system', 'light', 'dark'] as ThemeChoice[]).map(
            (t) => html`<label class="inline"
              ><input type="radio" name="theme" value=${t} .checked=${s.theme === t} @change=${() => setTheme(t)} />${t === 'system' ? 'Follow the system' : t === 'light' ? 'Light' : 'Dark'}</label
            >`,
          )}
        </fieldset>
      </section>
      <section class="card stack" aria-labelledby="locale-title">
        <h2 id="locale-title">Numbers, amounts and dates</h2>
        <wf-locale-picker label="Locale"></wf-locale-picker>
      </section>
      <section class="card stack" aria-labelledby="chat-settings">
        <h2 id="chat-settings">Chat</h2>
        <label
          >System prompt
          <textarea .value=${chat.systemPrompt} @change=${(e: Event) => setChatSettings({ systemPrompt: (e.target as HTMLTextAreaElement).value })}></textarea>
        </label>
        <div class="row">
          <label
            >Temperature
            <input
              type="number"
              min="0"
              max="2"
              step="0.1"
              .value=${String(chat.temperature)}
              @change=${(e: Event) => setChatSettings({ temperature: clamp(Number((e.target as HTMLInputElement).value), 0, 2, DEFAULT_CHAT_SETTINGS.temperature) })}
            />
          </label>
          <label
            >Longest reply (tokens)
            <input
              type="number"
              min="1"
              max="65536"
              data-testid="max-tokens"
              .value=${String(chat.maxTokens)}
              @change=${(e: Event) => setChatSettings({ maxTokens: Math.round(clamp(Number((e.target as HTMLInputElement).value), 1, 65536, DEFAULT_CHAT_SETTINGS.maxTokens)) })}
            />
          </label>
          <button class="ghost" @click=${() => setChatSettings(DEFAULT_CHAT_SETTINGS)}>Reset</button>
        </div>
      </section>
      <section class="card" aria-labelledby="svc-title">
        <h2 id="svc-title">Service</h2>
        ${sys
          ? html`<dl>
              <dt>Version</dt>
              <dd>${sys.version}</dd>
              <dt>Address</dt>
              <dd>${s.api?.baseUrl}</dd>
              <dt>Engine</dt>
              <dd>llama.cpp ${sys.engine.llamaCppVersion} · ${sys.engine.backend}${sys.engine.gpuOffload ? ' · GPU offload' : ''}</dd>
              <dt>Devices</dt>
              <dd>${sys.engine.devices.map((d) => `${d.description || d.name} (${d.type})`).join(', ') || 'CPU'}</dd>
              <dt>CPU</dt>
              <dd>${sys.cpu.model} · ${sys.cpu.cores} cores</dd>
              <dt>Memory</dt>
              <dd>${formatBytes(sys.memory.freeBytes)} free of ${formatBytes(sys.memory.totalBytes)} · service uses ${formatBytes(sys.memory.process.rssBytes)}</dd>
              <dt>Scheduler</dt>
              <dd>${sys.scheduler.running} running, ${sys.scheduler.queued} queued, ${sys.scheduler.capacity} at once</dd>
              <dt>Platform</dt>
              <dd>${sys.platform.os} ${sys.platform.arch} · Node ${sys.platform.node}</dd>
            </dl>`
          : html`<p class="muted">Loading…</p>`}
      </section>
      ${this._backend
        ? html`<section class="card stack" aria-labelledby="startup-title">
            <h2 id="startup-title">Start-up</h2>
            <label class="inline"
              ><input
                type="checkbox"
                data-testid="load-last-model"
                .checked=${this._backend.loadLastModel}
                @change=${(e: Event) => void this.#setLoadLastModel((e.target as HTMLInputElement).checked)}
              />Load the last used model when the assistant starts</label
            >
            <p class="small muted">Last used: ${this._backend.lastModel ?? 'none yet'}</p>
          </section>`
        : nothing}
      <wf-prompt-cache-settings ?active=${this.active}></wf-prompt-cache-settings>
      <wf-providers-settings ?active=${this.active}></wf-providers-settings>
      <wf-workers-settings ?active=${this.active}></wf-workers-settings>
      <wf-mcp-servers ?active=${this.active}></wf-mcp-servers>
      <wf-mcp-exposed ?active=${this.active}></wf-mcp-exposed>
      ${s.desktop
        ? nothing
        : html`<section class="card stack" aria-labelledby="session-title">
            <h2 id="session-title">Session</h2>
            <p class="small muted">
              This browser stays signed in, in every tab and after the assistant restarts, for 30 days after it was last opened.
            </p>
            <div class="row">
              <button @click=${() => void this.#signOut(false)}>Sign out</button>
              <button class="danger" data-testid="sign-out-everywhere" @click=${() => void this.#signOut(true)}>Sign out everywhere</button>
            </div>
          </section>`}
    </div>`;
  }
}

function clamp(n: number, min: number, max: number, fallback: number): number {
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

customElements.define('wf-settings-view', SettingsView);
