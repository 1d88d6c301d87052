// Transactions: a dated, signed amount (negative = money out) in minor units of the account's currency,
// with an optional category, a payee and a note. `dedupe_key` (date, amount, normalized payee) is how
// CSV imports recognize rows that are already there.
import type { DB } from '../../storage/index.js';
import { notFound, ToolError } from '../errors.js';
import type { Accounts } from './accounts.js';
import type { Categories } from './categories.js';
import { isIsoDate } from './dates.js';
import type { Transaction } from './types.js';

export type { Transaction } from './types.js';


export interface NewTransaction {
  accountId: number;
  date: string;
  amount: number;
  /** Must be the account's currency when given. */
  currency?: string;
  categoryId?: number | null;
  payee?: string;
  note?: string;
}

export type TransactionPatch = Partial<Omit<NewTransaction, 'currency'>>;

export interface TransactionFilter {
  accountId?: number;
  categoryId?: number;
  /** Only transactions without a category. */
  uncategorized?: boolean;
  from?: string;
  to?: string;
  /** Words to find in payee or note. */
  q?: string;
  minAmount?: number;
  maxAmount?: number;
  limit?: number;
  offset?: number;
}

interface Row {
  id: number;
  account_id: number;
  date: string;
  amount: number;
  currency: string;
  category_id: number | null;
  category: string | null;
  payee: string;
  note: string;
  import_id: number | null;
  created_at: number;
}

export const toTransaction = (r: Row): Transaction => ({
  id: r.id,
  accountId: r.account_id,
  date: r.date,
  amount: r.amount,
  currency: r.currency,
  categoryId: r.category_id,
  category: r.category,
  payee: r.payee,
  note: r.note,
  importId: r.import_id,
  createdAt: new Date(r.created_at).toISOString(),
});

export function normalizePayee(payee: string): string {
  return payee.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function dedupeKey(date: string, amount: number, payee: string): string {
  return `${date}|${amount}|${normalizePayee(payee)}`;
}

const SELECT = `SELECT t.*, c.name AS category FROM fin_transactions t LEFT JOIN fin_categories c ON c.id = t.category_id`;

function checkDate(date: string, field = 'date'): void {
  if (!isIsoDate(date)) throw new ToolError('invalid_params', `${field} must be a real date as YYYY-MM-DD, got ${JSON.stringify(date)}`, { details: { fields: [{ path: field, message: 'invalid date' }] } });
}

function checkAmount(amount: number): void {
  if (!Number.isSafeInteger(amount)) throw new ToolError('invalid_params', 'amount must be an integer number of minor units (cents)', { details: { fields: [{ path: 'amount', message: 'not an integer' }] } });
}

export class Transactions {
  constructor(
    private readonly db: DB,
    private readonly accounts: Accounts,
    private readonly categories: Categories,
    private readonly now: () => number = Date.now,
  ) {}

  find(id: number): Transaction | null {
    const r = this.db.prepare(`${SELECT} WHERE t.id = ?`).get(id) as Row | undefined;
    return r ? toTransaction(r) : null;
  }

  get(id: number): Transaction {
    const t = this.find(id);
    if (!t) throw notFound('transaction', id);
    return t;
  }

  create(input: NewTransaction): Transaction {
    const account = this.accounts.get(input.accountId);
    checkDate(input.date);
    checkAmount(input.amount);
    if (input.currency !== undefined && input.currency.toUpperCase() !== account.currency) {
      throw new ToolError('invalid_params', `account ${account.id} is in ${account.currency}, not ${input.currency}`, { details: { fields: [{ path: 'currency', message: 'differs from the account currency' }] } });
    }
    if (input.categoryId != null) this.categories.get(input.categoryId);
    const payee = input.payee ?? '';
    const r = this.db
      .prepare(
        `INSERT INTO fin_transactions (account_id, date, amount, currency, category_id, payee, note, dedupe_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      )
      .get(account.id, input.date, input.amount, account.currency, input.categoryId ?? null, payee, input.note ?? '', dedupeKey(input.date, input.amount, payee), this.now()) as { id: number };
    return this.get(r.id);
  }

  update(id: number, patch: TransactionPatch): Transaction {
    const cur = this.get(id);
    const next = { ...cur, ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) } as Transaction & TransactionPatch;
    checkDate(next.date);
    checkAmount(next.amount);
    let currency = cur.currency;
    if (next.accountId !== cur.accountId) currency = this.accounts.get(next.accountId).currency;
    if (next.categoryId != null) this.categories.get(next.categoryId);
    this.db
      .prepare(
        `UPDATE fin_transactions SET account_id = ?, date = ?, amount = ?, currency = ?, category_id = ?, payee = ?, note = ?, dedupe_key = ?
         WHERE id = ?`,
      )
      .run(next.accountId, next.date, next.amount, currency, next.categoryId ?? null, next.payee, next.note, dedupeKey(next.date, next.amount, next.payee), id);
    return this.get(id);
  }

  delete(id: number): void {
    if (this.db.prepare('DELETE FROM fin_transactions WHERE id = ?').run(id).changes === 0) throw notFound('transaction', id);
  }

  list(filter: TransactionFilter = {}): { transactions: Transaction[]; total: number } {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.accountId !== undefined) {
      where.push('t.account_id = ?');
      args.push(filter.accountId);
    }
    if (filter.categoryId !== undefined) {
      where.push('t.category_id = ?');
      args.push(filter.categoryId);
    }
    if (filter.uncategorized) where.push('t.category_id IS NULL');
    if (filter.from !== undefined) {
      checkDate(filter.from, 'from');
      where.push('t.date >= ?');
      args.push(filter.from);
    }
    if (filter.to !== undefined) {
      checkDate(filter.to, 'to');
      where.push('t.date <= ?');
      args.push(filter.to);
    }
    if (filter.minAmount !== undefined) {
      where.push('t.amount >= ?');
      args.push(filter.minAmount);
    }
    if (filter.maxAmount !== undefined) {
      where.push('t.amount <= ?');
      args.push(filter.maxAmount);
    }
    for (const word of (filter.q ?? '').split(/\s+/).filter(Boolean)) {
      where.push("(t.payee LIKE ? ESCAPE '\\' OR t.note LIKE ? ESCAPE '\\')");
      const p = `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      args.push(p, p);
    }
    const w = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    const rows = this.db
      .prepare(`${SELECT} ${w} ORDER BY t.date DESC, t.id DESC LIMIT ? OFFSET ?`)
      .all(...args, filter.limit ?? 100, filter.offset ?? 0) as Row[];
    const total = (this.db.prepare(`SELECT count(*) AS n FROM fin_transactions t ${w}`).get(...args) as { n: number }).n;
    return { transactions: rows.map(toTransaction), total };
  }
}
