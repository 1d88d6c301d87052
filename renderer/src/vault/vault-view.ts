// <wf-vault-view>: the password vault (routes: /api/vault/*, src/server/routes/vault.ts). Set up or unlock
// with the master password; list and search entries (lists never carry passwords); add entries; generate
// passwords and passphrases; copy a password only after the user confirms; answer the assistant's copy
// requests. Secrets are never rendered unless the user asks (Show), and hidden again after 20 seconds;
// a copied password is cleared from the clipboard after 30 seconds.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import { api, notify, reportError } from '../store.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { formatDateTime } from '../shared/format.js';
import { icons } from '../shared/icons.js';
import { baseStyles } from '../shared/styles.js';
import type { CopyRequest, GeneratedSecret, VaultEntry, VaultEntrySummary, VaultSearchResult, VaultStatus } from '../../../src/tools/vault/types.js';


const REVEAL_MS = 20_000;
const CLIPBOARD_CLEAR_MS = 30_000;

export class VaultView extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _status: { state: true },
    _entries: { state: true },
    _requests: { state: true },
    _query: { state: true },
    _revealed: { state: true },
    _generated: { state: true },
    _showGenerated: { state: true },
    _mode: { state: true },
    _length: { state: true },
    _words: { state: true },
    _symbols: { state: true },
    _busy: { state: true },
    _masterCheck: { state: true },
    _unavailable: { state: true },
    _error: { state: true },
  };

  active = false;
  _status: VaultStatus | null = null;
  _entries: VaultEntrySummary[] = [];
  _requests: CopyRequest[] = [];
  _query = '';
  /** Entry id → its password, only while the user asked to see it. */
  _revealed = new Map<string, string>();
  _generated: GeneratedSecret | null = null;
  _showGenerated = false;
  _mode: 'password' | 'passphrase' = 'password';
  _length = 20;
  _words = 6;
  _symbols = true;
  _busy = false;
  /** The strength of the master password being chosen (setup), as the backend judges it. */
  _masterCheck: { score: number; label: string; ok: boolean; reason: string | null } | null = null;
  #masterSeq = 0;
  #masterTimer: ReturnType<typeof setTimeout> | null = null;
  _unavailable = false;
  _error: string | null = null;
  #events: AbortController | null = null;
  #timers = new Set<ReturnType<typeof setTimeout>>();

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      form.unlock {
        display: flex;
        flex-direction: column;
        gap: 0.75rem;
        max-width: 380px;
      }
      .secret {
        font-family: var(--wf-mono);
        background: var(--wf-code-bg);
        border: 1px solid var(--wf-border);
        border-radius: 6px;
        padding: 0.35rem 0.5rem;
        overflow-wrap: anywhere;
        flex: 1;
        min-width: 12rem;
      }
      .meter {
        height: 6px;
        border-radius: 3px;
        background: var(--wf-surface-2);
        overflow: hidden;
        width: 160px;
      }
      .meter span {
        display: block;
        height: 100%;
      }
      .s0,
      .s1 {
        background: var(--wf-danger);
      }
      .s2 {
        background: var(--wf-warning);
      }
      .s3,
      .s4 {
        background: var(--wf-success);
      }
      .w0 {
        width: 10%;
      }
      .w1 {
        width: 25%;
      }
      .w2 {
        width: 50%;
      }
      .w3 {
        width: 75%;
      }
      .w4 {
        width: 100%;
      }
      form.entry {
        display: grid;
        gap: 0.6rem;
        grid-template-columns: repeat(auto-fit, minmax(180px, 1fr));
        align-items: end;
      }
      .requests {
        border-left: 4px solid var(--wf-warning);
      }
      td .actions {
        display: flex;
        gap: 0.3rem;
        justify-content: flex-end;
        flex-wrap: wrap;
      }
      .table-wrap {
        overflow-x: auto;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) {
      void this.refresh().then(() => this.#listen());
    }
    // Leaving the view hides every secret.
    if (changed.has('active') && !this.active && changed.get('active') === true) this.#hideSecrets();
  }

  override disconnectedCallback(): void {
    this.#events?.abort();
    for (const t of this.#timers) clearTimeout(t);
    super.disconnectedCallback();
  }

  #later(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #hideSecrets(): void {
    this._revealed = new Map();
    this._showGenerated = false;
  }

  async refresh(): Promise<void> {
    try {
      this._status = await api().get<VaultStatus>('/api/vault/status');
      if (this._status.unlocked) {
        const [entries, requests] = await Promise.all([
          api().get<VaultSearchResult>('/api/vault/entries', { query: { q: this._query } }),
          api().get<{ requests: CopyRequest[] }>('/api/vault/copy-requests'),
        ]);
        this._entries = entries.entries;
        this._requests = requests.requests;
      } else {
        this._entries = [];
        this._requests = [];
        this.#hideSecrets();
      }
    } catch (err) {
      if (err instanceof ApiError && err.isMissingRoute) this._unavailable = true;
      else if (err instanceof ApiError && err.code === 'vault_locked') await this.refresh();
      else reportError(err, 'Could not read the vault');
    }
  }

  /** Follows lock/unlock and the assistant's copy requests. */
  #listen(): void {
    if (this._unavailable || this.#events) return;
    this.#events = new AbortController();
    const signal = this.#events.signal;
    const loop = async () => {
      let delay = 2000;
      while (!signal.aborted) {
        try {
          await api().sse(
            '/api/vault/events',
            (ev) => {
              delay = 2000;
              if (ev.event === 'locked' || ev.event === 'unlocked' || ev.event === 'copy_requested') void this.refresh();
              if (ev.event === 'copy_requested') notify('info', 'The assistant asks to copy a password. Open the vault to answer.');
            },
            signal,
          );
        } catch (err) {
          if (signal.aborted || (err instanceof ApiError && (err.isMissingRoute || err.status === 401))) return;
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 60_000);
      }
    };
    void loop();
  }

  /** Asks the backend (the same rule as setup) while the user types; only the latest answer is shown. */
  #onMasterInput(e: Event): void {
    const password = (e.target as HTMLInputElement).value;
    if (this.#masterTimer) clearTimeout(this.#masterTimer);
    const seq = ++this.#masterSeq;
    if (!password) {
      this._masterCheck = null;
      return;
    }
    this.#masterTimer = setTimeout(() => {
      void api()
        .post<{ score: number; label: string; master?: { ok: boolean; reason: string | null } }>('/api/vault/strength', { password })
        .then((r) => {
          if (seq === this.#masterSeq) this._masterCheck = { score: r.score, label: r.label, ok: r.master?.ok ?? r.score >= 3, reason: r.master?.reason ?? null };
        })
        .catch(() => {
          /* the meter is a help; setup itself still checks */
        });
    }, 200);
  }

  async #setupOrUnlock(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const password = String(data.get('master') ?? '');
    const setup = !this._status?.initialized;
    if (setup && password !== String(data.get('confirm') ?? '')) {
      this._error = 'The two passwords differ.';
      return;
    }
    this._busy = true;
    this._error = null;
    try {
      await api().post(setup ? '/api/vault/setup' : '/api/vault/unlock', { masterPassword: password });
      form.reset();
      this._masterCheck = null;
      await this.refresh();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'vault_wrong_password') this._error = 'That is not the master password.';
      else if (err instanceof ApiError) this._error = err.message;
      else reportError(err);
    } finally {
      this._busy = false;
    }
  }

  async #lock(): Promise<void> {
    try {
      await api().post('/api/vault/lock');
    } catch (err) {
      reportError(err, 'Could not lock the vault');
    }
    this.#hideSecrets();
    await this.refresh();
  }

  async #generate(): Promise<void> {
    try {
      const body =
        this._mode === 'password'
          ? { mode: 'password', options: { length: this._length, symbols: this._symbols } }
          : { mode: 'passphrase', options: { words: this._words, capitalize: true, includeNumber: true } };
      this._generated = await api().post<GeneratedSecret>('/api/vault/generate', body);
      this._showGenerated = false;
    } catch (err) {
      reportError(err, 'Could not generate a password');
    }
  }

  /** Copies a secret after the user confirms; clears the clipboard after 30 s if it still holds it. */
  async #copySecret(label: string, get: () => Promise<string>): Promise<void> {
    const ok = await askConfirm({
      title: 'Copy password',
      message: `Copy the password of ${label} to the clipboard? Anything on this computer that reads the clipboard can see it; it is cleared after 30 seconds.`,
      confirmLabel: 'Copy password',
    });
    if (!ok) return;
    try {
      const secret = await get();
      await navigator.clipboard.writeText(secret);
      notify('success', `Copied the password of ${label}. The clipboard is cleared in 30 seconds.`);
      this.#later(() => {
        void navigator.clipboard
          .readText()
          .then((now) => (now === secret ? navigator.clipboard.writeText('') : undefined))
          .catch(() => navigator.clipboard.writeText('').catch(() => undefined));
      }, CLIPBOARD_CLEAR_MS);
    } catch (err) {
      reportError(err, 'Could not copy the password');
    }
  }

  async #entryPassword(id: string): Promise<string> {
    return (await api().get<VaultEntry>(`/api/vault/entries/${encodeURIComponent(id)}`)).password;
  }

  async #toggleReveal(entry: VaultEntrySummary): Promise<void> {
    const next = new Map(this._revealed);
    if (next.has(entry.id)) next.delete(entry.id);
    else {
      try {
        next.set(entry.id, await this.#entryPassword(entry.id));
        this.#later(() => {
          const m = new Map(this._revealed);
          m.delete(entry.id);
          this._revealed = m;
        }, REVEAL_MS);
      } catch (err) {
        return reportError(err, 'Could not read the entry');
      }
    }
    this._revealed = next;
  }

  async #delete(entry: VaultEntrySummary): Promise<void> {
    if (!(await askConfirm({ title: 'Delete entry', message: `Delete ${entry.title} from the vault? This cannot be undone.`, confirmLabel: 'Delete', danger: true }))) return;
    try {
      await api().delete(`/api/vault/entries/${encodeURIComponent(entry.id)}`);
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not delete the entry');
    }
  }

  async #addEntry(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const field = (k: string) => String(data.get(k) ?? '').trim();
    try {
      await api().post('/api/vault/entries', {
        title: field('title'),
        username: field('username'),
        url: field('url'),
        password: String(data.get('password') ?? ''),
        notes: String(data.get('notes') ?? ''),
      });
      form.reset();
      notify('success', 'Saved in the vault.');
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not save the entry');
    }
  }

  #useGenerated(): void {
    const input = this.renderRoot.querySelector<HTMLInputElement>('form.entry input[name="password"]');
    if (input && this._generated) {
      input.value = this._generated.password;
      this.renderRoot.querySelector<HTMLInputElement>('form.entry input[name="title"]')?.focus();
    }
  }

  async #answerRequest(r: CopyRequest, approve: boolean): Promise<void> {
    try {
      if (!approve) {
        await api().post(`/api/vault/copy-requests/${encodeURIComponent(r.id)}/deny`);
      } else {
        await this.#copySecret(r.title, async () => (await api().post<{ password: string }>(`/api/vault/copy-requests/${encodeURIComponent(r.id)}/approve`)).password);
      }
    } catch (err) {
      reportError(err, 'Could not answer the request');
    }
    await this.refresh();
  }

  #lockScreen(s: VaultStatus) {
    const setup = !s.initialized;
    return html`<section class="card" aria-labelledby="lock-title">
      <h2 id="lock-title">${setup ? 'Create your vault' : 'The vault is locked'}</h2>
      <p class="muted small">
        ${setup
          ? 'Choose a master password. It encrypts every entry on this computer and cannot be recovered if you forget it.'
          : `Enter the master password to unlock ${s.entries} entr${s.entries === 1 ? 'y' : 'ies'}.`}
      </p>
      <form class="unlock" @submit=${(e: Event) => void this.#setupOrUnlock(e)}>
        <label
          >Master password
          <input
            name="master"
            type="password"
            autocomplete=${setup ? 'new-password' : 'current-password'}
            required
            minlength=${setup ? 8 : 1}
            aria-describedby=${setup ? 'master-strength' : nothing}
            @input=${setup ? (e: Event) => this.#onMasterInput(e) : nothing}
        /></label>
        ${setup ? this.#masterMeter() : nothing}
        ${setup ? html`<label>Repeat it <input name="confirm" type="password" autocomplete="new-password" required /></label>` : nothing}
        ${this._error ? html`<p class="error-text" role="alert">${this._error}</p>` : nothing}
        <button class="primary" type="submit" ?disabled=${this._busy}>${setup ? 'Create vault' : 'Unlock'}</button>
      </form>
    </section>`;
  }

  #masterMeter() {
    const c = this._masterCheck;
    return html`<div class="stack small" id="master-strength" data-testid="master-strength" aria-live="polite">
      <div class="row">
        <div class="meter" aria-hidden="true"><span class="s${c?.score ?? 0} w${c?.score ?? 0}" ?hidden=${!c}></span></div>
        <span>${c ? `Strength: ${c.label}${c.ok ? ' — good enough for a master password' : ''}` : 'Use a long phrase of several unrelated words.'}</span>
      </div>
      ${c && !c.ok && c.reason ? html`<p class="muted" data-testid="master-reason">${c.reason}</p>` : nothing}
    </div>`;
  }

  #generator() {
    const g = this._generated;
    return html`<section class="card stack" aria-labelledby="gen-title" data-testid="generator">
      <h2 id="gen-title">Generate a password</h2>
      <div class="row">
        <label
          >Kind
          <select @change=${(e: Event) => (this._mode = (e.target as HTMLSelectElement).value as 'password' | 'passphrase')}>
            <option value="password" ?selected=${this._mode === 'password'}>Random characters</option>
            <option value="passphrase" ?selected=${this._mode === 'passphrase'}>Passphrase (words)</option>
          </select>
        </label>
        ${this._mode === 'password'
          ? html`<label
                >Length
                <input type="number" min="8" max="128" .value=${String(this._length)} @change=${(e: Event) => (this._length = Math.min(128, Math.max(8, Number((e.target as HTMLInputElement).value) || 20)))} />
              </label>
              <label class="inline"><input type="checkbox" .checked=${this._symbols} @change=${(e: Event) => (this._symbols = (e.target as HTMLInputElement).checked)} />Symbols</label>`
          : html`<label
              >Words
              <input type="number" min="3" max="20" .value=${String(this._words)} @change=${(e: Event) => (this._words = Math.min(20, Math.max(3, Number((e.target as HTMLInputElement).value) || 6)))} />
            </label>`}
        <button class="primary" @click=${() => void this.#generate()} data-testid="generate">Generate</button>
      </div>
      ${g
        ? html`<div class="row">
              <span class="secret" data-testid="generated" aria-label=${this._showGenerated ? 'Generated password' : 'Generated password, hidden'}
                >${this._showGenerated ? g.password : '•'.repeat(Math.min(24, g.password.length))}</span
              >
              <button @click=${() => (this._showGenerated = !this._showGenerated)} aria-pressed=${this._showGenerated ? 'true' : 'false'}>${this._showGenerated ? 'Hide' : 'Show'}</button>
              <button @click=${() => void this.#copySecret('the generated password', async () => g.password)} data-testid="copy-generated">Copy…</button>
              <button class="ghost" @click=${this.#useGenerated}>Use for a new entry</button>
            </div>
            <div class="row small">
              <div class="meter" aria-hidden="true"><span class="s${g.strength.score} w${g.strength.score}"></span></div>
              <span>${g.strength.label} · ${Math.round(g.entropyBits)} bits · ${g.strength.crackTime.offlineSlowHash} to crack offline</span>
            </div>`
        : nothing}
    </section>`;
  }

  #unlocked(s: VaultStatus) {
    return html`
      <section class="card row" aria-label="Vault status">
        <span class="grow">${icons.lockOpen} Unlocked · ${s.entries} entr${s.entries === 1 ? 'y' : 'ies'}${s.lockAt ? html` · locks itself at ${formatDateTime(s.lockAt)} unless used` : nothing}</span>
        <button @click=${() => void this.#lock()}>Lock now</button>
      </section>
      ${this._requests.length
        ? html`<section class="card requests" aria-labelledby="req-title">
            <h2 id="req-title">The assistant asks to copy</h2>
            ${this._requests.map(
              (r) => html`<div class="row">
                <span class="grow">The password of <strong>${r.title}</strong> <span class="muted small">(until ${formatDateTime(r.expiresAt)})</span></span>
                <button class="primary" @click=${() => void this.#answerRequest(r, true)}>Copy…</button>
                <button class="danger" @click=${() => void this.#answerRequest(r, false)}>Deny</button>
              </div>`,
            )}
          </section>`
        : nothing}
      ${this.#generator()}
      <section class="card" aria-labelledby="entries-title">
        <div class="row">
          <h2 id="entries-title" class="grow">Entries</h2>
          <label class="visually-hidden" for="vq">Search the vault</label>
          <input
            id="vq"
            type="search"
            placeholder="Search"
            .value=${this._query}
            @input=${(e: Event) => {
              this._query = (e.target as HTMLInputElement).value;
              void this.refresh();
            }}
          />
        </div>
        ${this._entries.length === 0
          ? html`<p class="muted">${this._query ? 'No matches.' : 'No entries yet.'}</p>`
          : html`<div class="table-wrap">
              <table data-testid="vault-entries">
                <thead>
                  <tr>
                    <th>Title</th>
                    <th>Username</th>
                    <th>Password</th>
                    <th><span class="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${this._entries.map((en) => {
                    const shown = this._revealed.get(en.id);
                    return html`<tr>
                      <td>${en.title}${en.url ? html`<div class="small muted">${en.url}</div>` : nothing}</td>
                      <td>${en.username}</td>
                      <td class="mono">${shown !== undefined ? html`<span data-testid="revealed">${shown}</span>` : '••••••••'}</td>
                      <td>
                        <div class="actions">
                          <button class="small" @click=${() => void this.#toggleReveal(en)} aria-pressed=${shown !== undefined ? 'true' : 'false'} aria-label="${shown !== undefined ? 'Hide' : 'Show'} password of ${en.title}">
                            ${shown !== undefined ? 'Hide' : 'Show'}
                          </button>
                          <button class="small" @click=${() => void this.#copySecret(en.title, () => this.#entryPassword(en.id))} aria-label="Copy password of ${en.title}">Copy…</button>
                          <button class="small danger" @click=${() => void this.#delete(en)} aria-label="Delete ${en.title}">Delete</button>
                        </div>
                      </td>
                    </tr>`;
                  })}
                </tbody>
              </table>
            </div>`}
      </section>
      <section class="card" aria-labelledby="add-title">
        <h2 id="add-title">Add an entry</h2>
        <form class="entry" @submit=${(e: Event) => void this.#addEntry(e)} autocomplete="off">
          <label>Title <input name="title" required maxlength="200" /></label>
          <label>Username <input name="username" maxlength="500" autocomplete="off" /></label>
          <label>Website <input name="url" maxlength="2048" placeholder="https://" /></label>
          <label>Password <input name="password" type="password" maxlength="4096" autocomplete="new-password" /></label>
          <label>Notes <input name="notes" maxlength="20000" /></label>
          <button class="primary" type="submit">Save</button>
        </form>
      </section>
    `;
  }

  override render() {
    if (this._unavailable) return html`<div class="view"><h1 tabindex="-1">Vault</h1><p class="unavailable">The vault is not available in this backend.</p></div>`;
    const s = this._status;
    return html`<div class="view stack">
      <h1 tabindex="-1">Vault</h1>
      ${!s ? html`<p class="muted">Loading…</p>` : s.unlocked ? this.#unlocked(s) : this.#lockScreen(s)}
    </div>`;
  }
}

customElements.define('wf-vault-view', VaultView);
