// Finance: accounts, categories, transactions (amounts in integer minor units), monthly budgets and the
// record of CSV imports.
import type { Migration } from '../migrate.js';

export const financeMigration: Migration = {
  version: 2,
  name: 'finance',
  up: `
    CREATE TABLE fin_accounts (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE,
      currency TEXT NOT NULL CHECK (length(currency) = 3),
      kind TEXT NOT NULL DEFAULT 'checking',
      opening_balance INTEGER NOT NULL DEFAULT 0,
      archived INTEGER NOT NULL DEFAULT 0 CHECK (archived IN (0, 1)),
      created_at INTEGER NOT NULL
    );
    CREATE TABLE fin_categories (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE,
      kind TEXT NOT NULL DEFAULT 'expense' CHECK (kind IN ('expense', 'income', 'transfer')),
      created_at INTEGER NOT NULL
    );
    CREATE TABLE fin_imports (
      id INTEGER PRIMARY KEY,
      account_id INTEGER NOT NULL REFERENCES fin_accounts (id) ON DELETE CASCADE,
      file_name TEXT,
      rows_total INTEGER NOT NULL,
      rows_imported INTEGER NOT NULL,
      rows_duplicate INTEGER NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE fin_transactions (
      id INTEGER PRIMARY KEY,
      account_id INTEGER NOT NULL REFERENCES fin_accounts (id) ON DELETE RESTRICT,
      date TEXT NOT NULL CHECK (date GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]'),
      amount INTEGER NOT NULL,
      currency TEXT NOT NULL CHECK (length(currency) = 3),
      category_id INTEGER REFERENCES fin_categories (id) ON DELETE SET NULL,
      payee TEXT NOT NULL DEFAULT '',
      note TEXT NOT NULL DEFAULT '',
      import_id INTEGER REFERENCES fin_imports (id) ON DELETE SET NULL,
      dedupe_key TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX fin_transactions_account_date ON fin_transactions (account_id, date);
    CREATE INDEX fin_transactions_category_date ON fin_transactions (category_id, date);
    CREATE INDEX fin_transactions_date ON fin_transactions (date);
    CREATE INDEX fin_transactions_dedupe ON fin_transactions (account_id, dedupe_key);
    CREATE TABLE fin_budgets (
      category_id INTEGER NOT NULL REFERENCES fin_categories (id) ON DELETE CASCADE,
      month TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]'),
      amount INTEGER NOT NULL CHECK (amount >= 0),
      currency TEXT NOT NULL CHECK (length(currency) = 3),
      PRIMARY KEY (category_id, month)
    );
  `,
};
