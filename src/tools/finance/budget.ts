// Monthly budgets: an amount (minor units) a category may spend in a month.
import type { DB } from '../../storage/index.js';
import { notFound, ToolError } from '../errors.js';
import type { Categories } from './categories.js';
import { isMonth } from './dates.js';
import { isCurrencyCode } from './money.js';

export interface Budget {
  categoryId: number;
  category: string;
  month: string;
  amount: number;
  currency: string;
}

interface Row {
  category_id: number;
  category: string;
  month: string;
  amount: number;
  currency: string;
}

const toBudget = (r: Row): Budget => ({ categoryId: r.category_id, category: r.category, month: r.month, amount: r.amount, currency: r.currency });

export function checkMonth(month: string, field = 'month'): void {
  if (!isMonth(month)) throw new ToolError('invalid_params', `${field} must be YYYY-MM, got ${JSON.stringify(month)}`, { details: { fields: [{ path: field, message: 'invalid month' }] } });
}

export class Budgets {
  constructor(
    private readonly db: DB,
    private readonly categories: Categories,
    readonly defaultCurrency: string = 'USD',
  ) {}

  list(month?: string): Budget[] {
    if (month !== undefined) checkMonth(month);
    const rows = this.db
      .prepare(
        `SELECT b.*, c.name AS category FROM fin_budgets b JOIN fin_categories c ON c.id = b.category_id
         ${month !== undefined ? 'WHERE b.month = ?' : ''} ORDER BY b.month, c.name COLLATE NOCASE`,
      )
      .all(...(month !== undefined ? [month] : [])) as Row[];
    return rows.map(toBudget);
  }

  /** Sets (creates or replaces) the budget of a category for a month. */
  set(input: { categoryId: number; month: string; amount: number; currency?: string }): Budget {
    this.categories.get(input.categoryId);
    checkMonth(input.month);
    if (!Number.isSafeInteger(input.amount) || input.amount < 0) throw new ToolError('invalid_params', 'amount must be a non-negative integer of minor units');
    const currency = (input.currency ?? this.defaultCurrency).toUpperCase();
    if (!isCurrencyCode(currency)) throw new ToolError('invalid_params', `${currency} is not an ISO 4217 currency code`);
    this.db
      .prepare(
        `INSERT INTO fin_budgets (category_id, month, amount, currency) VALUES (?, ?, ?, ?)
         ON CONFLICT (category_id, month) DO UPDATE SET amount = excluded.amount, currency = excluded.currency`,
      )
      .run(input.categoryId, input.month, input.amount, currency);
    return this.get(input.categoryId, input.month);
  }

  get(categoryId: number, month: string): Budget {
    const r = this.db
      .prepare('SELECT b.*, c.name AS category FROM fin_budgets b JOIN fin_categories c ON c.id = b.category_id WHERE b.category_id = ? AND b.month = ?')
      .get(categoryId, month) as Row | undefined;
    if (!r) throw notFound('budget', `${categoryId}/${month}`);
    return toBudget(r);
  }

  delete(categoryId: number, month: string): void {
    checkMonth(month);
    if (this.db.prepare('DELETE FROM fin_budgets WHERE category_id = ? AND month = ?').run(categoryId, month).changes === 0) {
      throw notFound('budget', `${categoryId}/${month}`);
    }
  }
}
