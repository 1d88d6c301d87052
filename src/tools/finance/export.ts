// CSV export of transactions: one row each, amounts as plain decimals with '.' (and in minor units).
import { stringify } from 'csv-stringify/sync';
import { currencyDigits, formatMinor } from './money.js';
import type { TransactionFilter, Transactions } from './transactions.js';
import type { Accounts } from './accounts.js';

export const TRANSACTION_CSV_COLUMNS = ['id', 'date', 'account', 'amount', 'currency', 'amount_minor', 'category', 'payee', 'note'] as const;

export function exportTransactionsCsv(transactions: Transactions, accounts: Accounts, filter: Omit<TransactionFilter, 'limit' | 'offset'> = {}): string {
  const names = new Map(accounts.list({ includeArchived: true }).map((a) => [a.id, a.name]));
  const rows: unknown[][] = [];
  const pageSize = 5000;
  for (let offset = 0; ; offset += pageSize) {
    const page = transactions.list({ ...filter, limit: pageSize, offset }).transactions;
    for (const t of page) {
      rows.push([t.id, t.date, names.get(t.accountId) ?? '', formatMinor(t.amount, currencyDigits(t.currency)), t.currency, t.amount, t.category ?? '', t.payee, t.note]);
    }
    if (page.length < pageSize) break;
  }
  rows.sort((a, b) => String(a[1]).localeCompare(String(b[1])) || (a[0] as number) - (b[0] as number));
  return stringify(rows, { header: true, columns: [...TRANSACTION_CSV_COLUMNS] });
}
