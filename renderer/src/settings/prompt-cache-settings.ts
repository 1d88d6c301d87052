// <wf-prompt-cache-settings active>: the conversation states the backend keeps on disk (/api/prompt-cache,
// src/server/routes/prompt-cache.ts): the space they take, the cap (persisted by the backend) and Clear.
// Renders nothing where the backend keeps none (no route, or no cache configured).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { baseStyles } from '../shared/styles.js';
import { api, notify, reportError } from '../store.js';

export interface PromptCacheInfo {
  dir: string;
  entries: number;
  bytes: number;
  maxBytes: number;
  hits: number;
  misses: number;
  restoredTokens: number;
  saves: number;
  saveFailures: number;
  removedBad: number;
  evictions: number;
  loadMs: number;
}

// The backend's cap is in MiB (WESTFALL_PROMPT_CACHE_MB), so the sizes shown here use the same unit.
const MB = 1024 * 1024;
const MAX_MB = 4096 * 1024;

/** Sizes in MB: one decimal below 10 MB so that a first small chat does not read as 0. */
export function formatMb(bytes: number): string {
  const mb = bytes / MB;
  if (bytes > 0 && mb < 0.1) return '< 0.1';
  return mb < 10 ? mb.toFixed(1) : Math.round(mb).toLocaleString('en-US');
}

export class PromptCacheSettings extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _info: { state: true },
    _busy: { state: true },
  };

  active = false;
  _info: PromptCacheInfo | null = null;
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
      .summary {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.35rem;
        margin: 0;
      }
      input {
        width: 6.5rem;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) void this.refresh();
  }

  async refresh(): Promise<void> {
    const load = ++this.#loads;
    try {
      const info = await api().get<PromptCacheInfo>('/api/prompt-cache');
      if (load === this.#loads) this._info = info;
    } catch (err) {
      // 404: a backend without the route, or one that keeps no states; the section then stays away.
      if (err instanceof ApiError && err.status === 404) this._info = null;
      else reportError(err, 'Could not read the conversation memory');
    }
  }

  async #setCap(input: HTMLInputElement): Promise<void> {
    const mb = Number(input.value);
    if (input.value.trim() === '' || !Number.isFinite(mb) || mb < 0 || mb > MAX_MB) {
      input.value = this._info ? String(Math.round(this._info.maxBytes / MB)) : '';
      notify('error', `The cap is a number of MB from 0 to ${MAX_MB.toLocaleString('en-US')}.`);
      return;
    }
    this._busy = true;
    ++this.#loads;
    try {
      this._info = await api().patch<PromptCacheInfo>('/api/prompt-cache', { maxBytes: Math.round(mb) * MB });
      notify('success', mb === 0 ? 'Conversation memory is off: no chats are kept on disk.' : `Conversation memory keeps up to ${Math.round(mb)} MB.`);
    } catch (err) {
      reportError(err, 'Could not change the cap');
    } finally {
      this._busy = false;
    }
  }

  async #clear(): Promise<void> {
    if (
      !(await askConfirm({
        title: 'Clear conversation memory',
        message: 'The saved states of all chats are deleted. The chats themselves stay; the next reply in a long chat reads it again first, which takes longer.',
        confirmLabel: 'Clear',
        danger: true,
      }))
    )
      return;
    this._busy = true;
    ++this.#loads;
    try {
      this._info = await api().delete<PromptCacheInfo>('/api/prompt-cache');
      notify('success', 'Conversation memory cleared.');
    } catch (err) {
      reportError(err, 'Could not clear the conversation memory');
    } finally {
      this._busy = false;
    }
  }

  protected override updated(): void {
    // Keeps an empty host out of the settings view's spacing.
    this.hidden = this._info === null;
  }

  override render() {
    const info = this._info;
    if (!info) return nothing;
    const capMb = Math.round(info.maxBytes / MB);
    return html`<section class="card stack" aria-labelledby="prompt-cache-title">
      <h2 id="prompt-cache-title">Conversation memory</h2>
      <p class="summary" data-testid="prompt-cache-summary">
        <span
          >Conversation memory on disk: <strong data-testid="prompt-cache-size">${formatMb(info.bytes)} MB</strong> in
          <strong data-testid="prompt-cache-entries">${info.entries} saved ${info.entries === 1 ? 'chat' : 'chats'}</strong>, up to</span
        >
        <input
          type="number"
          min="0"
          max=${MAX_MB}
          step="1"
          aria-label="Most space for conversation memory (MB)"
          data-testid="prompt-cache-cap"
          .value=${String(capMb)}
          ?disabled=${this._busy}
          @change=${(e: Event) => void this.#setCap(e.target as HTMLInputElement)}
        />
        <span>MB</span>
        <button class="danger" ?disabled=${this._busy || info.entries === 0} @click=${() => void this.#clear()}>Clear</button>
      </p>
      <p class="small muted">Lets long chats continue instantly after a restart. 0 MB keeps none.</p>
    </section>`;
  }
}

customElements.define('wf-prompt-cache-settings', PromptCacheSettings);

declare global {
  interface HTMLElementTagNameMap {
    'wf-prompt-cache-settings': PromptCacheSettings;
  }
}
