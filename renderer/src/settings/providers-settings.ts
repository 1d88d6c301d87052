// <wf-providers-settings active>: the remote OpenAI-compatible providers (src/providers): each with its
// host and health ("connected, 3 models"), Test, Edit, Enable/Disable and Remove; Add opens the form
// (provider-form.ts). Says plainly that with no provider nothing leaves this computer. Renders nothing on
// a backend without /api/providers.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { baseStyles } from '../shared/styles.js';
import { notify, reportError } from '../store.js';
import './provider-form.js';
import { createProvider, healthText, listProviders, removeProvider, testSaved, updateProvider, type Provider, type ProviderInput } from './providers-api.js';

export class ProvidersSettings extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _providers: { state: true },
    _editing: { state: true },
    _busy: { state: true },
    _missing: { state: true },
  };

  active = false;
  _providers: Provider[] = [];
  /** null: no form; 'new': adding; an id: editing that provider. */
  _editing: string | null = null;
  _busy = false;
  _missing = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: flex;
        flex-direction: column;
        gap: 0.6rem;
      }
      li {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem 1rem;
        align-items: center;
        border: 1px solid var(--wf-border);
        border-radius: 0.5rem;
        padding: 0.6rem 0.8rem;
      }
      .who {
        flex: 1 1 14rem;
        min-width: 0;
      }
      .health {
        font-size: 0.85rem;
      }
      .health[data-state='ok'] {
        color: var(--wf-success, green);
      }
      .health[data-state='error'] {
        color: var(--wf-danger, #b00020);
      }
      .buttons {
        display: flex;
        gap: 0.35rem;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) void this.refresh();
  }

  async refresh(check = false): Promise<void> {
    try {
      this._providers = (await listProviders(check)).providers;
      this._missing = false;
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) this._missing = true;
      else reportError(err, 'Could not read the remote providers');
    }
  }

  async #save(input: ProviderInput): Promise<void> {
    this._busy = true;
    try {
      const p = this._editing && this._editing !== 'new' ? await updateProvider(this._editing, input) : await createProvider(input);
      notify(p.health.state === 'error' ? 'error' : 'success', `${p.name}: ${healthText(p.health)}`);
      this._editing = null;
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not save the provider');
    } finally {
      this._busy = false;
    }
  }

  async #test(p: Provider): Promise<void> {
    try {
      const r = await testSaved(p.id);
      notify(r.ok ? 'success' : 'error', `${p.name}: ${r.summary}`);
      await this.refresh();
    } catch (err) {
      reportError(err, 'The test could not run');
    }
  }

  async #toggle(p: Provider): Promise<void> {
    try {
      await updateProvider(p.id, { enabled: !p.enabled });
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not change the provider');
    }
  }

  async #remove(p: Provider): Promise<void> {
    if (!(await askConfirm({ title: `Remove ${p.name}`, message: `Its models (${p.host}) are no longer offered, and its saved API key is deleted.`, confirmLabel: 'Remove', danger: true }))) return;
    try {
      await removeProvider(p.id);
      notify('success', `${p.name} removed.`);
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not remove the provider');
    }
  }

  #form(provider: Provider | null) {
    return html`<wf-provider-form
      .provider=${provider}
      .others=${this._providers}
      ?busy=${this._busy}
      @save=${(e: CustomEvent<{ input: ProviderInput }>) => void this.#save(e.detail.input)}
      @cancel=${() => (this._editing = null)}
    ></wf-provider-form>`;
  }

  #item(p: Provider) {
    if (this._editing === p.id) return html`<li>${this.#form(p)}</li>`;
    return html`<li data-testid="provider" data-name=${p.name}>
      <div class="who">
        <strong>${p.name}</strong> <span class="mono small">${p.baseUrl}</span>${p.hasApiKey ? html` <span class="small muted">· key saved</span>` : nothing}
        <div class="health" data-state=${p.health.state} data-testid="provider-health">${p.enabled ? healthText(p.health) : 'disabled'}</div>
      </div>
      <div class="buttons">
        <button type="button" @click=${() => void this.#test(p)}>Test</button>
        <button type="button" @click=${() => (this._editing = p.id)}>Edit</button>
        <button type="button" @click=${() => void this.#toggle(p)}>${p.enabled ? 'Disable' : 'Enable'}</button>
        <button type="button" class="danger" @click=${() => void this.#remove(p)}>Remove</button>
      </div>
    </li>`;
  }

  override render() {
    if (this._missing) return nothing;
    const list = this._providers;
    return html`<section class="card stack" aria-labelledby="providers-title">
      <h2 id="providers-title">Remote providers</h2>
      <p class="small muted" data-testid="providers-privacy">
        ${list.some((p) => p.enabled)
          ? 'Chats with a remote model are sent to its server (shown with the host). Chats with local models stay on this computer.'
          : 'None: every chat stays on this computer. Add an OpenAI-compatible server (llama-server, vLLM, Ollama, LM Studio, a hosted service) to use its models here.'}
      </p>
      ${list.length > 0 ? html`<ul>${list.map((p) => this.#item(p))}</ul>` : nothing}
      ${this._editing === 'new' ? this.#form(null) : html`<div><button type="button" @click=${() => (this._editing = 'new')}>Add provider</button></div>`}
    </section>`;
  }
}

customElements.define('wf-providers-settings', ProvidersSettings);

declare global {
  interface HTMLElementTagNameMap {
    'wf-providers-settings': ProvidersSettings;
  }
}
