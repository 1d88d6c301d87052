// <wf-finance-budgets>: monthly budgets per category: set one, change or delete it, and see spent against
// budget for the chosen month (GET /api/finance/summary/budget; categories spent in without a budget are
// listed too, to set one). Amounts are typed in the user's locale. Event: `categories-changed`.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import { api, notify, reportError } from '../store.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { LocaleController, currencyDigits, money } from '../shared/locale.js';
import { baseStyles } from '../shared/styles.js';
import { formatAmountInput, parseLocaleAmount } from '../../../src/locale/index.js';
import type { Category } from '../../../src/tools/finance/types.js';

interface BudgetLine {
  categoryId: number;
  category: string;
  currency: string;
  budget: number | null;
  spent: number;
  remaining: number | null;
  percentUsed: number | null;
  over: boolean;
}

interface BudgetReport {
  month: string;
  lines: BudgetLine[];
}

export function thisMonth(now = new Date()): string {
  return `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, '0')}`;
}

export class BudgetsPanel extends LitElement {
  static override properties: PropertyDeclarations = {
    categories: { attribute: false },
    currency: { type: String },
    _month: { state: true },
    _lines: { state: true },
    _editing: { state: true },
    _error: { state: true },
    _editError: { state: true },
  };

  categories: Category[] = [];
  /** Currency of new budgets (the first account's). */
  currency = 'USD';
  _month = thisMonth();
  _lines: BudgetLine[] = [];
  _editing: number | null = null;
  _error = '';
  _editError = '';
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
        grid-template-columns: repeat(auto-fit, minmax(160px, 1fr));
        align-items: end;
      }
      /* An SVG bar: sizes as attributes, since the CSP allows no inline styles. */
      svg.bar {
        display: block;
        width: 100%;
        min-width: 6rem;
        height: 0.5rem;
      }
      svg.bar .track {
        fill: var(--wf-surface-2);
      }
      svg.bar .fill {
        fill: var(--wf-success);
      }
      svg.bar.over .fill {
        fill: var(--wf-danger);
      }
      form button {
        justify-self: start;
      }
      .over-text {
        color: var(--wf-danger);
      }
      .field-error {
        color: var(--wf-danger);
        font-size: 0.8rem;
      }
      .table-wrap {
        overflow-x: auto;
      }
      td.actions {
        white-space: nowrap;
      }
      td input {
        width: 8rem;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const r = await api().get<BudgetReport>('/api/finance/summary/budget', { query: { month: this._month } });
      this._lines = r.lines;
    } catch (err) {
      if (!(err instanceof ApiError && err.isMissingRoute)) reportError(err, 'Could not load the budgets');
    }
  }

  #read(text: string, currency: string): number | string {
    const r = parseLocaleAmount(text, { locale: this.#locale.locale, digits: currencyDigits(currency), currency, sign: 'reject' });
    return r.ok ? r.value : r.message;
  }

  async #put(categoryId: number, amountText: string, currency: string): Promise<void> {
    await api().put('/api/finance/budgets', { categoryId, month: this._month, amountText, locale: this.#locale.locale, currency });
  }

  async #set(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('budget-category') ?? '').trim();
    const amountText = String(data.get('budget-amount') ?? '');
    if (!name) {
      this._error = 'Choose a category.';
      return;
    }
    const checked = this.#read(amountText, this.currency);
    if (typeof checked === 'string') {
      this._error = checked;
      return;
    }
    this._error = '';
    try {
      let cat = this.categories.find((c) => c.name.toLowerCase() === name.toLowerCase());
      if (!cat) {
        cat = await api().post<Category>('/api/finance/categories', { name, kind: 'expense' });
        this.dispatchEvent(new CustomEvent('categories-changed', { bubbles: true, composed: true }));
      }
      await this.#put(cat.id, amountText, this.currency);
      form.reset();
      notify('success', `Budget for ${cat.name} set.`);
      await this.refresh();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'amount_invalid') this._error = err.message;
      else reportError(err, 'Could not set the budget');
    }
  }

  async #saveEdit(line: BudgetLine, input: HTMLInputElement): Promise<void> {
    const checked = this.#read(input.value, line.currency);
    if (typeof checked === 'string') {
      this._editError = checked;
      return;
    }
    try {
      await this.#put(line.categoryId, input.value, line.currency);
      this._editing = null;
      this._editError = '';
      await this.refresh();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'amount_invalid') this._editError = err.message;
      else reportError(err, 'Could not change the budget');
    }
  }

  async #delete(line: BudgetLine): Promise<void> {
    if (!(await askConfirm({ title: 'Delete budget', message: `Delete the ${line.category} budget for ${this._month}? Its transactions stay.`, confirmLabel: 'Delete', danger: true }))) return;
    try {
      await api().delete(`/api/finance/budgets/${line.categoryId}/${this._month}`);
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not delete the budget');
    }
  }

  #row(l: BudgetLine) {
    const pct = l.budget ? Math.min(100, (l.spent / l.budget) * 100) : l.spent > 0 ? 100 : 0;
    const editing = this._editing === l.categoryId;
    return html`<tr data-category=${l.category}>
      <td>${l.category}</td>
      <td class="num" data-testid="budget-amount">
        ${editing
          ? html`<input
                aria-label="New budget for ${l.category}"
                inputmode="decimal"
                value=${l.budget === null ? '' : formatAmountInput(l.budget, currencyDigits(l.currency), this.#locale.locale)}
                @keydown=${(e: KeyboardEvent) => {
                  if (e.key === 'Enter') void this.#saveEdit(l, e.target as HTMLInputElement);
                  if (e.key === 'Escape') this._editing = null;
                }}
              />${this._editError ? html`<div class="field-error" role="alert">${this._editError}</div>` : nothing}`
          : l.budget === null
            ? html`<span class="muted">none</span>`
            : money(l.budget, l.currency)}
      </td>
      <td class="num" data-testid="budget-spent">${money(l.spent, l.currency)}</td>
      <td>
        <svg class="bar ${l.over ? 'over' : ''}" viewBox="0 0 100 4" preserveAspectRatio="none" role="meter" aria-label="${l.category}: spent of budget" aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(pct)}>
          <rect class="track" width="100" height="4" rx="2"></rect><rect class="fill" width=${pct} height="4" rx="2"></rect>
        </svg>
        <div class="small ${l.over ? 'over-text' : 'muted'}" data-testid="budget-remaining">
          ${l.remaining === null ? 'no budget' : l.over ? `${money(-l.remaining, l.currency)} over` : `${money(l.remaining, l.currency)} left`}
        </div>
      </td>
      <td class="actions">
        ${editing
          ? html`<button class="small primary" @click=${(e: Event) => void this.#saveEdit(l, (e.target as HTMLElement).closest('tr')!.querySelector('input')!)}>Save</button>
              <button class="small" @click=${() => (this._editing = null)}>Cancel</button>`
          : html`<button class="ghost small" aria-label="Edit the ${l.category} budget" @click=${() => ((this._editing = l.categoryId), (this._editError = ''))}>
                ${l.budget === null ? 'Set' : 'Edit'}
              </button>
              ${l.budget === null ? nothing : html`<button class="ghost small" aria-label="Delete the ${l.category} budget" @click=${() => void this.#delete(l)}>✕</button>`}`}
      </td>
    </tr>`;
  }

  override render() {
    const expense = this.categories.filter((c) => c.kind === 'expense');
    return html`<div class="stack">
      <div class="row">
        <label
          >Month
          <input
            type="month"
            .value=${this._month}
            @change=${(e: Event) => {
              const v = (e.target as HTMLInputElement).value;
              if (/^\d{4}-\d{2}$/.test(v)) {
                this._month = v;
                void this.refresh();
              }
            }}
          />
        </label>
      </div>
      <form @submit=${(e: Event) => void this.#set(e)} aria-label="Set a monthly budget">
        <label
          >Budget category
          <input name="budget-category" list="budget-categories" autocomplete="off" placeholder="Groceries" />
          <datalist id="budget-categories">${expense.map((c) => html`<option value=${c.name}></option>`)}</datalist>
        </label>
        <label>Monthly budget (${this.currency}) <input name="budget-amount" inputmode="decimal" autocomplete="off" placeholder=${formatAmountInput(40000, 2, this.#locale.locale)} /></label>
        <button class="primary" type="submit">Set budget</button>
        ${this._error ? html`<div class="field-error" role="alert" data-testid="budget-error">${this._error}</div>` : nothing}
      </form>
      ${this._lines.length === 0
        ? html`<p class="muted">No budgets or spending in ${this._month}.</p>`
        : html`<div class="table-wrap">
            <table data-testid="budgets">
              <thead>
                <tr>
                  <th>Category</th>
                  <th class="num">Budget</th>
                  <th class="num">Spent</th>
                  <th>Used</th>
                  <th><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${this._lines.map((l) => this.#row(l))}
              </tbody>
            </table>
          </div>`}
    </div>`;
  }
}

customElements.define('wf-finance-budgets', BudgetsPanel);
