// <wf-account-form>: adds an account (a bank account, a card, cash) with its currency and opening balance,
// the balance typed in the user's locale. Event: `account-added`.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { api, notify, reportError } from '../store.js';
import { LocaleController, currencyDigits } from '../shared/locale.js';
import { baseStyles } from '../shared/styles.js';
import { parseLocaleAmount } from '../../../src/locale/index.js';

export class AccountForm extends LitElement {
  static override properties: PropertyDeclarations = { _error: { state: true } };

  _error = '';
  readonly #locale = new LocaleController(this);

  static override styles = [
    baseStyles,
    css`
      form {
        display: grid;
        gap: 0.6rem;
        grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
        align-items: end;
      }
      .field-error {
        color: var(--wf-danger);
        font-size: 0.8rem;
      }
    `,
  ];

  async #submit(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const currency = String(data.get('currency') ?? 'USD').trim().toUpperCase();
    const openingText = String(data.get('opening') ?? '').trim();
    let opening = 0;
    if (openingText) {
      const r = parseLocaleAmount(openingText, { locale: this.#locale.locale, digits: currencyDigits(currency), currency });
      if (!r.ok) {
        this._error = `Opening balance: ${r.message}`;
        return;
      }
      opening = r.value;
    }
    this._error = '';
    try {
      await api().post('/api/finance/accounts', { name: String(data.get('name') ?? '').trim(), currency, openingBalance: opening });
      form.reset();
      notify('success', 'Account added.');
      this.dispatchEvent(new CustomEvent('account-added', { bubbles: true, composed: true }));
    } catch (err) {
      reportError(err, 'Could not add the account');
    }
  }

  override render() {
    return html`<form class="account" @submit=${(e: Event) => void this.#submit(e)} aria-label="Add an account">
      <label>Account name <input name="name" required maxlength="200" placeholder="Checking" /></label>
      <label>Currency <input name="currency" required pattern="[A-Za-z]{3}" value="USD" maxlength="3" /></label>
      <label>Opening balance <input name="opening" inputmode="decimal" placeholder="0" /></label>
      <button class="primary" type="submit">Add account</button>
      ${this._error ? html`<div class="field-error" role="alert">${this._error}</div>` : nothing}
    </form>`;
  }
}

customElements.define('wf-account-form', AccountForm);
