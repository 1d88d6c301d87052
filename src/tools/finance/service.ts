// FinanceService: the finance tool's parts over one database.
import type { DB } from '../../storage/index.js';
import { Accounts } from './accounts.js';
import { Budgets } from './budget.js';
import { Categories } from './categories.js';
import { exportTransactionsCsv } from './export.js';
import { CsvImporter } from './import.js';
import { systemLocale } from './locale-amounts.js';
import { Summaries } from './summary.js';
import type { TransactionFilter } from './transactions.js';
import { Transactions } from './transactions.js';

export interface FinanceOptions {
  /** Currency of budgets given without one (default USD). */
  defaultCurrency?: string;
  now?: () => number;
  /** The user's locale for amounts and dates written as text (default: the OS's); see setLocaleSource. */
  locale?: () => string | null | undefined;
}

export class FinanceService {
  readonly accounts: Accounts;
  readonly categories: Categories;
  readonly transactions: Transactions;
  readonly budgets: Budgets;
  readonly summaries: Summaries;
  readonly importer: CsvImporter;
  #locale: () => string | null | undefined;

  constructor(db: DB, options: FinanceOptions = {}) {
    const now = options.now ?? Date.now;
    this.accounts = new Accounts(db, now);
    this.categories = new Categories(db, now);
    this.transactions = new Transactions(db, this.accounts, this.categories, now);
    this.budgets = new Budgets(db, this.categories, options.defaultCurrency ?? 'USD');
    this.summaries = new Summaries(db);
    this.importer = new CsvImporter(db, this.accounts, this.categories, now);
    this.#locale = options.locale ?? (() => null);
  }

  /** The user's locale (a setting kept by the server, which tools cannot import, hence a function). */
  setLocaleSource(source: () => string | null | undefined): void {
    this.#locale = source;
  }

  /** The locale that text amounts and dates are read in when a request names none. */
  locale(): string {
    return this.#locale() || systemLocale();
  }

  exportCsv(filter: Omit<TransactionFilter, 'limit' | 'offset'> = {}): string {
    return exportTransactionsCsv(this.transactions, this.accounts, filter);
  }
}
