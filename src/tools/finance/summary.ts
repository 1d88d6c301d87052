// Summaries, all in integer minor units and grouped by currency (amounts of different currencies are
// never added): income and expenses by month and by category, budget against actual spending, and the
// balance of every account. Transfers (categories of kind 'transfer') count in balances but not as
// income or expenses.
import type { DB } from '../../storage/index.js';
import { notFound, ToolError } from '../errors.js';
import { checkMonth } from './budget.js';
import { isIsoDate, monthRange } from './dates.js';
import type { MonthSummary, CategorySummary, AccountBalance } from './types.js';

export type { MonthSummary, CategorySummary, AccountBalance } from './types.js';

export interface PeriodFilter {
  from?: string;
  to?: string;
  accountId?: number;
}



export interface BudgetLine {
  categoryId: number;
  category: string;
  currency: string;
  /** null: spending without a budget. */
  budget: number | null;
  /** Money out minus refunds in the category, as a positive number. */
  spent: number;
  /** budget − spent (negative: over budget); null without a budget. */
  remaining: number | null;
  /** Spent as a percentage of the budget, one decimal; null without a budget or with a zero budget. */
  percentUsed: number | null;
  over: boolean;
}

export interface BudgetReport {
  month: string;
  lines: BudgetLine[];
  totals: { currency: string; budget: number; spent: number; remaining: number }[];
}


function period(filter: PeriodFilter): { where: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  for (const [key, op] of [['from', '>='], ['to', '<=']] as const) {
    const v = filter[key];
    if (v === undefined) continue;
    if (!isIsoDate(v)) throw new ToolError('invalid_params', `${key} must be YYYY-MM-DD`, { details: { fields: [{ path: key, message: 'invalid date' }] } });
    where.push(`t.date ${op} ?`);
    args.push(v);
  }
  if (filter.accountId !== undefined) {
    where.push('t.account_id = ?');
    args.push(filter.accountId);
  }
  return { where: where.length ? `AND ${where.join(' AND ')}` : '', args };
}

const NOT_TRANSFER = "(c.kind IS NULL OR c.kind <> 'transfer')";

/** Rounds a ratio to one decimal without floating point surprises on exact values. */
function percent(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return Math.round((part * 1000) / whole) / 10;
}

export class Summaries {
  constructor(private readonly db: DB) {}

  byMonth(filter: PeriodFilter = {}): MonthSummary[] {
    const p = period(filter);
    return this.db
      .prepare(
        `SELECT substr(t.date, 1, 7) AS month, t.currency,
                coalesce(sum(CASE WHEN t.amount > 0 THEN t.amount END), 0) AS income,
                coalesce(-sum(CASE WHEN t.amount < 0 THEN t.amount END), 0) AS expenses,
                coalesce(sum(t.amount), 0) AS net, count(*) AS count
         FROM fin_transactions t LEFT JOIN fin_categories c ON c.id = t.category_id
         WHERE ${NOT_TRANSFER} ${p.where}
         GROUP BY month, t.currency ORDER BY month, t.currency`,
      )
      .all(...p.args) as MonthSummary[];
  }

  byCategory(filter: PeriodFilter = {}): CategorySummary[] {
    const p = period(filter);
    return (this.db
      .prepare(
        `SELECT t.category_id AS categoryId, c.name AS category, t.currency,
                coalesce(sum(CASE WHEN t.amount > 0 THEN t.amount END), 0) AS income,
                coalesce(-sum(CASE WHEN t.amount < 0 THEN t.amount END), 0) AS expenses,
                coalesce(sum(t.amount), 0) AS net, count(*) AS count
         FROM fin_transactions t LEFT JOIN fin_categories c ON c.id = t.category_id
         WHERE ${NOT_TRANSFER} ${p.where}
         GROUP BY t.category_id, t.currency ORDER BY expenses DESC, income DESC, category`,
      )
      .all(...p.args) as CategorySummary[]);
  }

  budgetVsActual(month: string): BudgetReport {
    checkMonth(month);
    const { from, to } = monthRange(month);
    const budgets = this.db
      .prepare('SELECT b.category_id, c.name, b.amount, b.currency FROM fin_budgets b JOIN fin_categories c ON c.id = b.category_id WHERE b.month = ?')
      .all(month) as { category_id: number; name: string; amount: number; currency: string }[];
    const spending = this.db
      .prepare(
        `SELECT t.category_id, c.name, t.currency, -sum(t.amount) AS spent
         FROM fin_transactions t JOIN fin_categories c ON c.id = t.category_id
         WHERE t.date BETWEEN ? AND ? AND c.kind = 'expense'
         GROUP BY t.category_id, t.currency`,
      )
      .all(from, to) as { category_id: number; name: string; currency: string; spent: number }[];
    const key = (id: number, cur: string) => `${id}|${cur}`;
    const spent = new Map(spending.map((s) => [key(s.category_id, s.currency), s]));
    const lines: BudgetLine[] = [];
    for (const b of budgets) {
      const s = spent.get(key(b.category_id, b.currency))?.spent ?? 0;
      spent.delete(key(b.category_id, b.currency));
      lines.push({
        categoryId: b.category_id,
        category: b.name,
        currency: b.currency,
        budget: b.amount,
        spent: s,
        remaining: b.amount - s,
        percentUsed: percent(s, b.amount),
        over: s > b.amount,
      });
    }
    for (const s of spent.values()) {
      if (s.spent === 0) continue;
      lines.push({ categoryId: s.category_id, category: s.name, currency: s.currency, budget: null, spent: s.spent, remaining: null, percentUsed: null, over: false });
    }
    lines.sort((a, b) => a.category.localeCompare(b.category) || a.currency.localeCompare(b.currency));
    const totals = new Map<string, { currency: string; budget: number; spent: number; remaining: number }>();
    for (const l of lines) {
      if (l.budget === null) continue;
      const t = totals.get(l.currency) ?? { currency: l.currency, budget: 0, spent: 0, remaining: 0 };
      t.budget += l.budget;
      t.spent += l.spent;
      t.remaining = t.budget - t.spent;
      totals.set(l.currency, t);
    }
    return { month, lines, totals: [...totals.values()] };
  }

  balances(options: { asOf?: string; includeArchived?: boolean } = {}): AccountBalance[] {
    if (options.asOf !== undefined && !isIsoDate(options.asOf)) throw new ToolError('invalid_params', 'asOf must be YYYY-MM-DD');
    return this.db
      .prepare(
        `SELECT a.id AS accountId, a.name, a.currency, a.opening_balance AS openingBalance,
                a.opening_balance + coalesce(sum(t.amount), 0) AS balance, count(t.id) AS transactionCount
         FROM fin_accounts a LEFT JOIN fin_transactions t ON t.account_id = a.id ${options.asOf ? 'AND t.date <= ?' : ''}
         ${options.includeArchived ? '' : 'WHERE a.archived = 0'}
         GROUP BY a.id ORDER BY a.name COLLATE NOCASE`,
      )
      .all(...(options.asOf ? [options.asOf] : [])) as AccountBalance[];
  }

  balance(accountId: number, asOf?: string): AccountBalance {
    const b = this.balances({ includeArchived: true, ...(asOf ? { asOf } : {}) }).find((x) => x.accountId === accountId);
    if (!b) throw notFound('account', accountId);
    return b;
  }
}
