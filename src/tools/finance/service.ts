// FinanceService: the finance tool's parts over one database.
import type { DB } from '../../storage/index.js';
import { Accounts } from './accounts.js';
import { Budgets } from './budget.js';
import { Categories } from './categories.js';
import { exportTransactionsCsv } from './export.js';
import { CsvImporter } from './import.js';
import { Summaries } from './summary.js';
import type { TransactionFilter } from './transactions.js';
import { Transactions } from './transactions.js';

export interface FinanceOptions {
  /** Currency of budgets given without one (default USD). */
  defaultCurrency?: string;
  now?: () => number;
}

export class FinanceService {
  readonly accounts: Accounts;
  readonly categories: Categories;
  readonly transactions: Transactions;
  readonly budgets: Budgets;
  readonly summaries: Summaries;
  readonly importer: CsvImporter;

  constructor(db: DB, options: FinanceOptions = {}) {
    const now = options.now ?? Date.now;
    this.accounts = new Accounts(db, now);
    this.categories = new Categories(db, now);
    this.transactions = new Transactions(db, this.accounts, this.categories, now);
    this.budgets = new Budgets(db, this.categories, options.defaultCurrency ?? 'USD');
    this.summaries = new Summaries(db);
    this.importer = new CsvImporter(db, this.accounts, this.categories, now);
  }

  exportCsv(filter: Omit<TransactionFilter, 'limit' | 'offset'> = {}): string {
    return exportTransactionsCsv(this.transactions, this.accounts, filter);
  }
}
