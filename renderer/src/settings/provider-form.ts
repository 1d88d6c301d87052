// <wf-provider-form>: add or edit one remote provider. Properties: `provider` (null: a new one),
// `others` (the providers it may fall back to). Events: `save` ({ input }), `cancel`. "Test" tries the
// details as typed (the saved key when editing and no new key is typed) and says "connected, 3 models".
// The key field never shows a saved key: it is write-only at the API.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { reportError } from '../store.js';
import { testDetails, testSaved, type Provider, type ProviderInput, type ProviderTestResult } from './providers-api.js';

export class ProviderForm extends LitElement {
  static override properties: PropertyDeclarations = {
    provider: { attribute: false },
    others: { attribute: false },
    busy: { type: Boolean },
    _test: { state: true },
    _testing: { state: true },
  };

  provider: Provider | null = null;
  others: Provider[] = [];
  busy = false;
  _test: ProviderTestResult | null = null;
  _testing = false;

  static override styles = [
    baseStyles,
    css`
      form {
        display: grid;
        grid-template-columns: max-content 1fr;
        gap: 0.5rem 0.75rem;
        align-items: center;
      }
      .actions {
        grid-column: 1 / -1;
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .ok {
        color: var(--wf-success, green);
      }
      .bad {
        color: var(--wf-danger, #b00020);
      }
      input[type='number'] {
        width: 7rem;
      }
    `,
  ];

  #value(name: string): string {
    return (this.renderRoot.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`)?.value ?? '').trim();
  }

  #input(): ProviderInput {
    const key = this.#value('apiKey');
    const input: ProviderInput = {
      name: this.#value('name'),
      baseUrl: this.#value('baseUrl'),
      timeoutMs: Math.round(Number(this.#value('timeout') || '60') * 1000),
      modelFilter: this.#value('filter')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      fallback: this.#value('fallback') || null,
    };
    // Editing: an empty field keeps the saved key (the "remove key" box clears it).
    const clear = this.renderRoot.querySelector<HTMLInputElement>('[name="clearKey"]')?.checked ?? false;
    if (key) input.apiKey = key;
    else if (clear || !this.provider) input.apiKey = null;
    return input;
  }

  async #runTest(): Promise<void> {
    this._testing = true;
    this._test = null;
    try {
      const i = this.#input();
      const unchanged = this.provider && i.apiKey === undefined && i.baseUrl === this.provider.baseUrl;
      this._test = unchanged ? await testSaved(this.provider!.id) : await testDetails({ baseUrl: i.baseUrl, apiKey: i.apiKey ?? null, timeoutMs: i.timeoutMs, modelFilter: i.modelFilter });
    } catch (err) {
      reportError(err, 'The test could not run');
    } finally {
      this._testing = false;
    }
  }

  #submit(e: Event): void {
    e.preventDefault();
    this.dispatchEvent(new CustomEvent('save', { detail: { input: this.#input() }, bubbles: true, composed: true }));
  }

  override render() {
    const p = this.provider;
    const t = this._test;
    return html`<form @submit=${this.#submit} aria-label=${p ? `Edit ${p.name}` : 'Add a provider'}>
      <label for="pf-name">Name</label>
      <input id="pf-name" name="name" required pattern="[a-z0-9][a-z0-9._\\-]*" maxlength="40" .value=${p?.name ?? ''} placeholder="home-server" title="Lower-case letters, digits, '.', '_' and '-'; models show as name/model" />
      <label for="pf-url">Server URL</label>
      <input id="pf-url" name="baseUrl" required type="url" .value=${p?.baseUrl ?? ''} placeholder="http://192.168.1.20:8080/v1" />
      <label for="pf-key">API key</label>
      <span>
        <input id="pf-key" name="apiKey" type="password" autocomplete="off" placeholder=${p?.hasApiKey ? 'saved (type to replace)' : 'optional'} />
        ${p?.hasApiKey ? html`<label class="small"><input type="checkbox" name="clearKey" /> remove the saved key</label>` : nothing}
      </span>
      <label for="pf-timeout">Timeout (s)</label>
      <input id="pf-timeout" name="timeout" type="number" min="1" max="600" .value=${String((p?.timeoutMs ?? 60000) / 1000)} />
      <label for="pf-filter">Models</label>
      <input id="pf-filter" name="filter" .value=${p?.modelFilter.join(', ') ?? ''} placeholder="all (or patterns: qwen3*, *-instruct)" />
      <label for="pf-fallback">If it fails</label>
      <select id="pf-fallback" name="fallback">
        <option value="" ?selected=${!p?.fallback}>show the error</option>
        <option value="local" ?selected=${p?.fallback === 'local'}>answer with the local model</option>
        ${this.others.filter((o) => o.id !== p?.id).map((o) => html`<option value=${o.id} ?selected=${p?.fallback === o.id}>use ${o.name} (${o.host})</option>`)}
      </select>
      <div class="actions">
        <button type="button" @click=${() => void this.#runTest()} ?disabled=${this._testing || this.busy}>${this._testing ? 'Testing…' : 'Test'}</button>
        <button type="submit" class="primary" ?disabled=${this.busy}>${p ? 'Save' : 'Add provider'}</button>
        <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('cancel', { bubbles: true, composed: true }))}>Cancel</button>
        ${t ? html`<span role="status" data-testid="provider-test" class=${t.ok ? 'ok' : 'bad'}>${t.summary}</span>` : nothing}
      </div>
    </form>`;
  }
}

customElements.define('wf-provider-form', ProviderForm);

declare global {
  interface HTMLElementTagNameMap {
    'wf-provider-form': ProviderForm;
  }
}
