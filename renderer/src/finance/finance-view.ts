// <wf-finance-view>: accounts and balances, this month's income and spending, charts of spending by
// category and by month (last 12 months), the latest transactions (add, edit, delete with undo), monthly
// budgets, and CSV import (routes: /api/finance/*, src/server/routes/finance.ts; amounts in minor units).
// Numbers and dates follow the user's locale (shared/locale.ts), which can be changed here as in Settings.
// The parts are components of their own: transaction-form, transaction-list, budgets-panel, csv-import,
// account-form.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import '../charts/bar-chart.js';
import type { ChartDatum } from '../charts/bar-chart.js';
import { api, reportError } from '../store.js';
import { LocaleController, money, shortDate } from '../shared/locale.js';
import '../shared/locale-picker.js';
import { deleteWithUndo } from '../shared/undo.js';
import { baseStyles } from '../shared/styles.js';
import type { Account, AccountBalance, Category, CategorySummary, MonthSummary, Transaction } from '../../../src/tools/finance/types.js';
import './account-form.js';
import './budgets-panel.js';
import type { BudgetsPanel } from './budgets-panel.js';
import './csv-import.js';
import './transaction-form.js';
import './transaction-list.js';

/** The last `n` months as YYYY-MM, oldest first. */
export function lastMonths(n: number, now = new Date()): string[] {
  const out: string[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const d = new Date(now.getFullYear(), now.getMonth() - i, 1);
    out.push(`${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`);
  }
  return out;
}

type Tab = 'overview' | 'budgets' | 'import';
const TABS: { id: Tab; label: string }[] = [
  { id: 'overview', label: 'Overview' },
  { id: 'budgets', label: 'Budgets' },
  { id: 'import', label: 'Import CSV' },
];

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
    _hidden: { state: true },
    _tab: { state: true },
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
  /** Deleted but still undoable: kept out of the list. */
  _hidden = new Set<number>();
  _tab: Tab = 'overview';
  readonly #locale = new LocaleController(this);

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .head {
        display: flex;
        flex-wrap: wrap;
        gap: 1rem;
        align-items: end;
        justify-content: space-between;
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
      [role='tablist'] {
        display: flex;
        gap: 0.25rem;
        border-bottom: 1px solid var(--wf-border);
        flex-wrap: wrap;
      }
      [role='tab'] {
        border: none;
        background: none;
        padding: 0.5rem 0.9rem;
        border-bottom: 2px solid transparent;
        border-radius: 0;
      }
      [role='tab'][aria-selected='true'] {
        border-bottom-color: var(--wf-accent, currentColor);
        font-weight: 600;
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
      void this.renderRoot.querySelector<BudgetsPanel>('wf-finance-budgets')?.refresh();
    } catch (err) {
      if (err instanceof ApiError && err.isMissingRoute) this._unavailable = true;
      else reportError(err, 'Could not load your finances');
    }
  }

  /** Gone from the list at once; deleted on the backend when the Undo time is up. */
  #delete(t: Transaction): void {
    deleteWithUndo({
      message: `Deleted ${t.payee || 'the transaction'} (${money(t.amount, t.currency)}, ${shortDate(t.date)}).`,
      hide: () => (this._hidden = new Set([...this._hidden, t.id])),
      restore: () => (this._hidden = new Set([...this._hidden].filter((id) => id !== t.id))),
      commit: async () => {
        await api().delete(`/api/finance/transactions/${t.id}`);
        this._hidden = new Set([...this._hidden].filter((id) => id !== t.id));
        await this.refresh();
      },
      failure: 'Could not delete the transaction',
    });
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
    const names = new Intl.DateTimeFormat(this.#locale.locale, { month: 'short', timeZone: 'UTC' });
    return lastMonths(12).map((m) => ({ label: names.format(new Date(Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5)) - 1, 1))), value: by.get(m) ?? 0 }));
  }

  #overview() {
    const cur = this.#currency;
    const thisMonth = lastMonths(1)[0];
    const month = this._months.find((m) => m.month === thisMonth && m.currency === cur);
    const multiCurrency = new Set(this._accounts.map((a) => a.currency)).size > 1;
    const visible = this._transactions.filter((t) => !this._hidden.has(t.id));
    return html`<section class="summary" aria-label="This month" data-testid="finance-summary">
        <div class="card stat">
          <div class="label">Income this month</div>
          <div class="value pos" data-testid="income">${money(month?.income ?? 0, cur)}</div>
        </div>
        <div class="card stat">
          <div class="label">Spent this month</div>
          <div class="value neg" data-testid="expenses">${money(month?.expenses ?? 0, cur)}</div>
        </div>
        <div class="card stat">
          <div class="label">Net this month</div>
          <div class="value ${(month?.net ?? 0) < 0 ? 'neg' : 'pos'}" data-testid="net">${money(month?.net ?? 0, cur)}</div>
        </div>
        ${this._balances.map(
          (b) => html`<div class="card stat">
            <div class="label">${b.name} balance</div>
            <div class="value ${b.balance < 0 ? 'neg' : ''}">${money(b.balance, b.currency)}</div>
          </div>`,
        )}
      </section>
      <section class="card" aria-labelledby="add-tx">
        <h2 id="add-tx">Add a transaction</h2>
        <wf-transaction-form .accounts=${this._accounts} .categories=${this._categories} @saved=${() => void this.refresh()}></wf-transaction-form>
      </section>
      <div class="grid">
        <section class="card" data-testid="chart-category">
          <wf-bar-chart
            label="Spending by category, last 12 months"
            orientation="horizontal"
            .data=${this.#categoryChart()}
            .format=${(n: number) => money(n, cur)}
            empty-text="No spending yet"
          ></wf-bar-chart>
        </section>
        <section class="card" data-testid="chart-month">
          <wf-bar-chart label="Spending by month" orientation="vertical" .data=${this.#monthChart()} .format=${(n: number) => money(n, cur)}></wf-bar-chart>
        </section>
      </div>
      ${multiCurrency ? html`<p class="small muted">Charts show ${cur} only; amounts in different currencies are never added.</p>` : nothing}
      <section class="card">
        <wf-transaction-list
          .transactions=${visible}
          .accounts=${this._accounts}
          .categories=${this._categories}
          .total=${this._total - this._hidden.size}
          @saved=${() => void this.refresh()}
          @delete-transaction=${(e: CustomEvent<Transaction>) => this.#delete(e.detail)}
        ></wf-transaction-list>
      </section>
      <details class="card">
        <summary>Add another account</summary>
        <wf-account-form @account-added=${() => void this.refresh()}></wf-account-form>
      </details>`;
  }

  override render() {
    if (this._unavailable) return html`<div class="view"><h1 tabindex="-1">Finance</h1><p class="unavailable">Finance is not available in this backend.</p></div>`;
    // Every tab's panel stays mounted, hidden when not chosen: a half-done import survives a look at the overview.
    return html`<div class="view stack">
      <div class="head">
        <h1 tabindex="-1">Finance</h1>
        <wf-locale-picker></wf-locale-picker>
      </div>
      ${this._accounts.length === 0
        ? html`<section class="card" aria-labelledby="first-account">
            <h2 id="first-account">Add your first account</h2>
            <p class="muted small">A bank account, a card or cash. Transactions belong to an account.</p>
            <wf-account-form @account-added=${() => void this.refresh()}></wf-account-form>
          </section>`
        : html`<div role="tablist" aria-label="Finance">
              ${TABS.map(
                (t) => html`<button role="tab" id="tab-${t.id}" aria-selected=${this._tab === t.id ? 'true' : 'false'} aria-controls="panel-${t.id}" @click=${() => (this._tab = t.id)}>${t.label}</button>`,
              )}
            </div>
            <div id="panel-overview" role="tabpanel" aria-labelledby="tab-overview" class="stack" ?hidden=${this._tab !== 'overview'}>${this.#overview()}</div>
            <div id="panel-budgets" role="tabpanel" aria-labelledby="tab-budgets" ?hidden=${this._tab !== 'budgets'}>
              <section class="card"><wf-finance-budgets .categories=${this._categories} currency=${this.#currency} @categories-changed=${() => void this.refresh()}></wf-finance-budgets></section>
            </div>
            <div id="panel-import" role="tabpanel" aria-labelledby="tab-import" ?hidden=${this._tab !== 'import'}>
              <section class="card"><wf-csv-import .accounts=${this._accounts} @imported=${() => void this.refresh()}></wf-csv-import></section>
            </div>`}
    </div>`;
  }
}

customElements.define('wf-finance-view', FinanceView);
