// <wf-finance-view>: accounts and balances, this month's income and spending, charts of spending by
// category and by month (last 12 months), the latest transactions, and a form to add one (routes:
// /api/finance/*, src/server/routes/finance.ts; amounts in minor units).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { live } from 'lit/directives/live.js';
import { ApiError } from '../api/client.js';
import '../charts/bar-chart.js';
import type { ChartDatum } from '../charts/bar-chart.js';
import { api, notify, reportError } from '../store.js';
import { formatDate, formatMoney, parseMoney, todayIso } from '../shared/format.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { baseStyles } from '../shared/styles.js';
import type { Account, AccountBalance, Category, CategorySummary, MonthSummary, Transaction } from '../../../src/tools/finance/types.js';



/** The last `n` months as YYYY-MM, oldest first. */
export function lastMonths(n: number, now = new Date()): string[] {
  const out: string[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(now.getFullYear(), now.getMonth() - i, 1);
    out.push(`${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}

const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export class FinanceView extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _accounts: { state: true },
    _categories: { state: true },
    _transactions: { state: true },
    _total: { state: true },
    _months: { state: true },
    _byCategory: { state: true },
    _balances: { state: true },
    _unavailable: { state: true },
    _kind: { state: true },
    _saving: { state: true },
    _accountId: { state: true },
  };

  active = false;
  _accounts: Account[] = [];
  _categories: Category[] = [];
  _transactions: Transaction[] = [];
  _total = 0;
  _months: MonthSummary[] = [];
  _byCategory: CategorySummary[] = [];
  _balances: AccountBalance[] = [];
  _unavailable = false;
  _kind: 'expense' | 'income' = 'expense';
  _saving = false;
  _accountId: number | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .summary {
        display: grid;
        gap: 0.75rem;
        grid-template-columns: repeat(auto-fit, minmax(170px, 1fr));
      }
      .stat {
        padding: 0.75rem 1rem;
      }
      .stat .label {
        font-size: 0.8rem;
        color: var(--wf-muted);
      }
      .stat .value {
        font-size: 1.35rem;
        font-weight: 700;
        font-variant-numeric: tabular-nums;
      }
      .value.neg {
        color: var(--wf-danger);
      }
      .value.pos {
        color: var(--wf-success);
      }
      form.add {
        display: grid;
        gap: 0.6rem;
        grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
        align-items: end;
      }
      fieldset {
        border: none;
        margin: 0;
        padding: 0;
        display: flex;
        gap: 0.75rem;
        align-items: center;
      }
      td.amount.neg {
        color: var(--wf-danger);
      }
      td.amount.pos {
        color: var(--wf-success);
      }
      .table-wrap {
        overflow-x: auto;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    // Loaded on the first visit, refreshed on every later one (the assistant may have changed things).
    if (changed.has('active') && this.active) {
      void this.refresh();
    }
  }

  get #currency(): string {
    return this._accounts[0]?.currency ?? 'USD';
  }

  async refresh(): Promise<void> {
    const from = `${lastMonths(12)[0]}-01`;
    try {
      const [accounts, categories, tx, months, cats, balances] = await Promise.all([
        api().get<{ accounts: Account[] }>('/api/finance/accounts'),
        api().get<{ categories: Category[] }>('/api/finance/categories'),
        api().get<{ transactions: Transaction[]; total: number }>('/api/finance/transactions', { query: { limit: 50 } }),
        api().get<{ months: MonthSummary[] }>('/api/finance/summary/months', { query: { from } }),
        api().get<{ categories: CategorySummary[] }>('/api/finance/summary/categories', { query: { from } }),
        api().get<{ balances: AccountBalance[] }>('/api/finance/summary/balances'),
      ]);
      this._accounts = accounts.accounts;
      this._categories = categories.categories;
      this._transactions = tx.transactions;
      this._total = tx.total;
      this._months = months.months;
      this._byCategory = cats.categories;
      this._balances = balances.balances;
    } catch (err) {
      if (err instanceof ApiError && err.isMissingRoute) this._unavailable = true;
      else reportError(err, 'Could not load your finances');
    }
  }

  async #createAccount(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const currency = String(data.get('currency') ?? 'USD').trim().toUpperCase();
    const opening = parseMoney(String(data.get('opening') ?? '0') || '0', currency);
    if (opening === null) return notify('error', 'The opening balance is not a number.');
    try {
      await api().post('/api/finance/accounts', { name: String(data.get('name') ?? '').trim(), currency, openingBalance: opening });
      form.reset();
      notify('success', 'Account added.');
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not add the account');
    }
  }

  async #categoryId(name: string): Promise<number | null> {
    const n = name.trim();
    if (!n) return null;
    const existing = this._categories.find((c) => c.name.toLowerCase() === n.toLowerCase());
    if (existing) return existing.id;
    const created = await api().post<Category>('/api/finance/categories', { name: n, kind: this._kind });
    this._categories = [...this._categories, created];
    return created.id;
  }

  async #addTransaction(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const accountId = Number(data.get('account'));
    const account = this._accounts.find((a) => a.id === accountId);
    if (!account) return notify('error', 'Choose an account.');
    const amount = parseMoney(String(data.get('amount') ?? ''), account.currency);
    if (amount === null || amount === 0) return notify('error', 'Enter an amount such as 12.50.');
    this._saving = true;
    try {
      const categoryId = await this.#categoryId(String(data.get('category') ?? ''));
      await api().post('/api/finance/transactions', {
        accountId,
        date: String(data.get('date') || todayIso()),
        amount: this._kind === 'expense' ? -Math.abs(amount) : Math.abs(amount),
        categoryId,
        payee: String(data.get('payee') ?? '').trim(),
        note: String(data.get('note') ?? '').trim(),
      });
      this._accountId = accountId; // the account stays selected (the option carries `selected`)
      await this.updateComplete;
      form.reset();
      notify('success', 'Transaction added.');
      await this.refresh();
      (form.elements.namedItem('amount') as HTMLInputElement | null)?.focus();
    } catch (err) {
      reportError(err, 'Could not add the transaction');
    } finally {
      this._saving = false;
    }
  }

  async #delete(t: Transaction): Promise<void> {
    if (!(await askConfirm({ title: 'Delete transaction', message: `Delete ${t.payee || 'the transaction'} of ${formatMoney(t.amount, t.currency)} on ${t.date}?`, confirmLabel: 'Delete', danger: true }))) return;
    try {
      await api().delete(`/api/finance/transactions/${t.id}`);
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not delete the transaction');
    }
  }

  #categoryChart(): ChartDatum[] {
    return this._byCategory
      .filter((c) => c.currency === this.#currency && c.expenses > 0)
      .map((c) => ({ label: c.category ?? 'Uncategorized', value: c.expenses }))
      .sort((a, b) => b.value - a.value)
      .slice(0, 10);
  }

  #monthChart(): ChartDatum[] {
    const by = new Map(this._months.filter((m) => m.currency === this.#currency).map((m) => [m.month, m.expenses]));
    return lastMonths(12).map((m) => ({ label: MONTH_NAMES[Number(m.slice(5)) - 1] ?? m, value: by.get(m) ?? 0 }));
  }

  #accountForm() {
    return html`<form class="add" @submit=${(e: Event) => void this.#createAccount(e)} aria-label="Add an account">
      <label>Account name <input name="name" required maxlength="200" placeholder="Checking" /></label>
      <label>Currency <input name="currency" required pattern="[A-Za-z]{3}" value="USD" maxlength="3" /></label>
      <label>Opening balance <input name="opening" inputmode="decimal" placeholder="0.00" /></label>
      <button class="primary" type="submit">Add account</button>
    </form>`;
  }

  override render() {
    if (this._unavailable) return html`<div class="view"><h1 tabindex="-1">Finance</h1><p class="unavailable">Finance is not available in this backend.</p></div>`;
    const cur = this.#currency;
    const thisMonth = lastMonths(1)[0];
    const month = this._months.find((m) => m.month === thisMonth && m.currency === cur);
    const multiCurrency = new Set(this._accounts.map((a) => a.currency)).size > 1;
    return html`<div class="view stack">
      <h1 tabindex="-1">Finance</h1>
      ${this._accounts.length === 0
        ? html`<section class="card" aria-labelledby="first-account">
            <h2 id="first-account">Add your first account</h2>
            <p class="muted small">A bank account, a card or cash. Transactions belong to an account.</p>
            ${this.#accountForm()}
          </section>`
        : html`
            <section class="summary" aria-label="This month" data-testid="finance-summary">
              <div class="card stat">
                <div class="label">Income this month</div>
                <div class="value pos" data-testid="income">${formatMoney(month?.income ?? 0, cur)}</div>
              </div>
              <div class="card stat">
                <div class="label">Spent this month</div>
                <div class="value neg" data-testid="expenses">${formatMoney(month?.expenses ?? 0, cur)}</div>
              </div>
              <div class="card stat">
                <div class="label">Net this month</div>
                <div class="value ${(month?.net ?? 0) < 0 ? 'neg' : 'pos'}" data-testid="net">${formatMoney(month?.net ?? 0, cur)}</div>
              </div>
              ${this._balances.map(
                (b) => html`<div class="card stat">
                  <div class="label">${b.name} balance</div>
                  <div class="value ${b.balance < 0 ? 'neg' : ''}">${formatMoney(b.balance, b.currency)}</div>
                </div>`,
              )}
            </section>
            <section class="card" aria-labelledby="add-tx">
              <h2 id="add-tx">Add a transaction</h2>
              <form class="add" @submit=${(e: Event) => void this.#addTransaction(e)}>
                <fieldset>
                  <legend class="visually-hidden">Type</legend>
                  <label class="inline"><input type="radio" name="kind" .checked=${live(this._kind === 'expense')} @change=${() => (this._kind = 'expense')} />Expense</label>
                  <label class="inline"><input type="radio" name="kind" .checked=${live(this._kind === 'income')} @change=${() => (this._kind = 'income')} />Income</label>
                </fieldset>
                <label
                  >Account
                  <select name="account" required>
                    ${this._accounts.map((a) => html`<option value=${a.id} ?selected=${a.id === this._accountId}>${a.name} (${a.currency})</option>`)}
                  </select>
                </label>
                <label>Date <input name="date" type="date" required value=${todayIso()} /></label>
                <label>Amount <input name="amount" inputmode="decimal" required placeholder="12.50" autocomplete="off" /></label>
                <label
                  >Category
                  <input name="category" list="categories" placeholder="Groceries" autocomplete="off" />
                  <datalist id="categories">${this._categories.map((c) => html`<option value=${c.name}></option>`)}</datalist>
                </label>
                <label>Payee <input name="payee" maxlength="500" placeholder="Corner shop" /></label>
                <label>Note <input name="note" maxlength="5000" /></label>
                <button class="primary" type="submit" ?disabled=${this._saving}>Add</button>
              </form>
            </section>
            <div class="grid">
              <section class="card" data-testid="chart-category">
                <wf-bar-chart
                  label="Spending by category, last 12 months"
                  orientation="horizontal"
                  .data=${this.#categoryChart()}
                  .format=${(n: number) => formatMoney(n, cur)}
                  empty-text="No spending yet"
                ></wf-bar-chart>
              </section>
              <section class="card" data-testid="chart-month">
                <wf-bar-chart label="Spending by month" orientation="vertical" .data=${this.#monthChart()} .format=${(n: number) => formatMoney(n, cur)}></wf-bar-chart>
              </section>
            </div>
            ${multiCurrency ? html`<p class="small muted">Charts show ${cur} only; amounts in different currencies are never added.</p>` : nothing}
            <section class="card" aria-labelledby="tx-title">
              <h2 id="tx-title">Latest transactions <span class="badge">${this._total}</span></h2>
              ${this._transactions.length === 0
                ? html`<p class="muted">No transactions yet.</p>`
                : html`<div class="table-wrap">
                    <table data-testid="transactions">
                      <thead>
                        <tr>
                          <th>Date</th>
                          <th>Payee</th>
                          <th>Category</th>
                          <th>Account</th>
                          <th class="num">Amount</th>
                          <th><span class="visually-hidden">Actions</span></th>
                        </tr>
                      </thead>
                      <tbody>
                        ${this._transactions.map(
                          (t) => html`<tr>
                            <td>${formatDate(`${t.date}T00:00:00`)}</td>
                            <td>${t.payee}${t.note ? html`<div class="small muted">${t.note}</div>` : nothing}</td>
                            <td>${t.category ?? html`<span class="muted">—</span>`}</td>
                            <td>${this._accounts.find((a) => a.id === t.accountId)?.name ?? t.accountId}</td>
                            <td class="num amount ${t.amount < 0 ? 'neg' : 'pos'}">${formatMoney(t.amount, t.currency)}</td>
                            <td><button class="ghost small" @click=${() => void this.#delete(t)} aria-label="Delete transaction ${t.payee} ${t.date}">✕</button></td>
                          </tr>`,
                        )}
                      </tbody>
                    </table>
                  </div>`}
            </section>
            <details class="card">
              <summary>Add another account</summary>
              ${this.#accountForm()}
            </details>
          `}
    </div>`;
  }
}

customElements.define('wf-finance-view', FinanceView);
