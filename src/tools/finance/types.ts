// Finance's shapes as the API sends them (amounts in integer minor units). This file imports nothing
// from Node or SQLite, so the renderer imports these types (type-only) instead of keeping copies.

export interface Account {
  id: number;
  name: string;
  currency: string;
  kind: string;
  openingBalance: number;
  archived: boolean;
  createdAt: string;
}

export type CategoryKind = 'expense' | 'income' | 'transfer';

export interface Category {
  id: number;
  name: string;
  kind: CategoryKind;
  createdAt: string;
}

export interface Transaction {
  id: number;
  accountId: number;
  date: string;
  amount: number;
  currency: string;
  categoryId: number | null;
  category: string | null;
  payee: string;
  note: string;
  importId: number | null;
  createdAt: string;
}

export interface MonthSummary {
  month: string;
  currency: string;
  income: number;
  /** Money out, as a positive number. */
  expenses: number;
  net: number;
  count: number;
}

export interface CategorySummary {
  categoryId: number | null;
  category: string | null;
  currency: string;
  income: number;
  expenses: number;
  net: number;
  count: number;
}

export interface AccountBalance {
  accountId: number;
  name: string;
  currency: string;
  openingBalance: number;
  /** Opening balance plus every transaction up to `asOf`. */
  balance: number;
  transactionCount: number;
}
