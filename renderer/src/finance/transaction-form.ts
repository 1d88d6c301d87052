// <wf-transaction-form>: adds a transaction, or edits one (`transaction` set). Amounts and dates are typed in
// the user's locale and read with the backend's own rules (src/locale): "85,20" in de-DE is 85.20, in en-US
// it is refused with what was expected, shown under the field. Whether money goes out or comes in is a
// choice (Expense / Income), never a minus sign. The backend reads the same text again (amountText).
// Events: `saved` (detail: the transaction), `cancel` (edit only).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { live } from 'lit/directives/live.js';
import { ApiError } from '../api/client.js';
import { api, notify, reportError } from '../store.js';
import { LocaleController, currencyDigits, dateField } from '../shared/locale.js';
import { baseStyles } from '../shared/styles.js';
import { datePattern, formatAmountInput, parseLocaleAmount, parseLocaleDate } from '../../../src/locale/index.js';
import { todayIso } from '../shared/format.js';
import type { Account, Category, Transaction } from '../../../src/tools/finance/types.js';

type Kind = 'expense' | 'income';

export class TransactionForm extends LitElement {
  static override properties: PropertyDeclarations = {
    accounts: { attribute: false },
    categories: { attribute: false },
    transaction: { attribute: false },
    _kind: { state: true },
    _accountId: { state: true },
    _saving: { state: true },
    _amountError: { state: true },
    _dateError: { state: true },
  };

  accounts: Account[] = [];
  categories: Category[] = [];
  /** Set: edit this one. */
  transaction: Transaction | null = null;
  _kind: Kind = 'expense';
  _accountId: number | null = null;
  _saving = false;
  _amountError = '';
  _dateError = '';
  readonly #locale = new LocaleController(this);

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      form {
        display: grid;
        gap: 0.6rem;
        grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
        align-items: start;
      }
      fieldset {
        border: none;
        margin: 0;
        padding: 0;
        display: flex;
        gap: 0.75rem;
        align-items: center;
        grid-column: 1 / -1;
      }
      .field-error {
        color: var(--wf-danger);
        font-size: 0.8rem;
        margin-top: 0.2rem;
      }
      input[aria-invalid='true'] {
        border-color: var(--wf-danger);
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        align-self: end;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('transaction') && this.transaction) {
      this._kind = this.transaction.amount < 0 ? 'expense' : 'income';
      this._accountId = this.transaction.accountId;
    }
  }

  get #editing(): boolean {
    return this.transaction !== null;
  }

  #account(id: number): Account | undefined {
    return this.accounts.find((a) => a.id === id);
  }

  /** Checks the amount as it is typed would be read; '' when fine. */
  #checkAmount(text: string, currency: string): string {
    const r = parseLocaleAmount(text, { locale: this.#locale.locale, digits: currencyDigits(currency), currency, sign: 'reject' });
    if (!r.ok) return r.message;
    if (r.value === 0) return 'enter an amount other than zero';
    return '';
  }

  async #categoryId(name: string): Promise<number | null> {
    const n = name.trim();
    if (!n) return null;
    const existing = this.categories.find((c) => c.name.toLowerCase() === n.toLowerCase());
    if (existing) return existing.id;
    const created = await api().post<Category>('/api/finance/categories', { name: n, kind: this._kind });
    this.categories = [...this.categories, created];
    return created.id;
  }

  async #submit(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const accountId = Number(data.get('account'));
    const account = this.#account(accountId);
    if (!account) return notify('error', 'Choose an account.');
    const locale = this.#locale.locale;
    const amountText = String(data.get('amount') ?? '');
    this._amountError = this.#checkAmount(amountText, account.currency);
    const date = parseLocaleDate(String(data.get('date') ?? ''), locale);
    this._dateError = date.ok ? '' : date.message;
    if (this._amountError || !date.ok) {
      (form.elements.namedItem(this._amountError ? 'amount' : 'date') as HTMLInputElement | null)?.focus();
      return;
    }
    this._saving = true;
    try {
      const categoryId = await this.#categoryId(String(data.get('category') ?? ''));
      const body = {
        accountId,
        date: date.value,
        amountText,
        kind: this._kind,
        locale,
        categoryId,
        payee: String(data.get('payee') ?? '').trim(),
        note: String(data.get('note') ?? '').trim(),
      };
      const saved = this.transaction
        ? await api().patch<Transaction>(`/api/finance/transactions/${this.transaction.id}`, body)
        : await api().post<Transaction>('/api/finance/transactions', body);
      this._accountId = accountId; // the account stays selected (the option carries `selected`)
      if (!this.#editing) {
        await this.updateComplete;
        form.reset();
        (form.elements.namedItem('amount') as HTMLInputElement | null)?.focus();
      }
      notify('success', this.#editing ? 'Transaction saved.' : 'Transaction added.');
      this.dispatchEvent(new CustomEvent('saved', { detail: saved, bubbles: true, composed: true }));
    } catch (err) {
      // The backend read the text by the same rules; its reason goes under the field it concerns.
      if (err instanceof ApiError && err.code === 'amount_invalid') this._amountError = err.message;
      else if (err instanceof ApiError && err.code === 'date_invalid') this._dateError = err.message;
      else reportError(err, this.#editing ? 'Could not save the transaction' : 'Could not add the transaction');
    } finally {
      this._saving = false;
    }
  }

  override render() {
    const t = this.transaction;
    const locale = this.#locale.locale;
    const pattern = datePattern(locale).pattern;
    const id = t ? `t${t.id}` : 'new';
    const account = this.#account(this._accountId ?? t?.accountId ?? this.accounts[0]?.id ?? 0);
    const digits = currencyDigits(account?.currency ?? 'USD');
    return html`<form class=${t ? 'edit' : 'add'} @submit=${(e: Event) => void this.#submit(e)} novalidate aria-label=${t ? 'Edit transaction' : 'Add a transaction'}>
      <fieldset>
        <legend class="visually-hidden">Type</legend>
        <label class="inline"><input type="radio" name="kind" .checked=${live(this._kind === 'expense')} @change=${() => (this._kind = 'expense')} />Expense</label>
        <label class="inline"><input type="radio" name="kind" .checked=${live(this._kind === 'income')} @change=${() => (this._kind = 'income')} />Income</label>
      </fieldset>
      <label
        >Account
        <select name="account" required @change=${(e: Event) => (this._accountId = Number((e.target as HTMLSelectElement).value))}>
          ${this.accounts.map((a) => html`<option value=${a.id} ?selected=${a.id === (this._accountId ?? t?.accountId)}>${a.name} (${a.currency})</option>`)}
        </select>
      </label>
      <div>
        <label
          >Date
          <input name="date" required autocomplete="off" placeholder=${pattern} value=${dateField(t?.date ?? todayIso())} aria-invalid=${this._dateError ? 'true' : 'false'} aria-describedby="date-error-${id}" @input=${() => (this._dateError = '')} />
        </label>
        ${this._dateError ? html`<div class="field-error" id="date-error-${id}" role="alert" data-testid="date-error">${this._dateError}</div>` : nothing}
      </div>
      <div>
        <label
          >Amount
          <input
            name="amount"
            inputmode="decimal"
            required
            autocomplete="off"
            placeholder=${formatAmountInput(1250 * 10 ** Math.max(0, digits - 2), digits, locale)}
            value=${t ? formatAmountInput(t.amount, digits, locale) : ''}
            aria-invalid=${this._amountError ? 'true' : 'false'}
            aria-describedby="amount-error-${id}"
            @input=${() => (this._amountError = '')}
          />
        </label>
        ${this._amountError ? html`<div class="field-error" id="amount-error-${id}" role="alert" data-testid="amount-error">${this._amountError}</div>` : nothing}
      </div>
      <label
        >Category
        <input name="category" list="categories-${id}" placeholder="Groceries" autocomplete="off" value=${t?.category ?? ''} />
        <datalist id="categories-${id}">${this.categories.map((c) => html`<option value=${c.name}></option>`)}</datalist>
      </label>
      <label>Payee <input name="payee" maxlength="500" placeholder="Corner shop" value=${t?.payee ?? ''} /></label>
      <label>Note <input name="note" maxlength="5000" value=${t?.note ?? ''} /></label>
      <div class="actions">
        <button class="primary" type="submit" ?disabled=${this._saving}>${t ? 'Save' : 'Add'}</button>
        ${t ? html`<button type="button" @click=${() => this.dispatchEvent(new CustomEvent('cancel', { bubbles: true, composed: true }))}>Cancel</button>` : nothing}
      </div>
    </form>`;
  }
}

customElements.define('wf-transaction-form', TransactionForm);
