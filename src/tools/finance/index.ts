// Finance: accounts, categories, transactions in integer minor units, monthly budgets, summaries, CSV
// import (column mapping, duplicates, preview, all-or-nothing) and export.
export { FinanceService, type FinanceOptions } from './service.js';
export { Accounts, type Account, type NewAccount, type AccountPatch } from './accounts.js';
export { Categories, type Category, type CategoryKind } from './categories.js';
export { Transactions, dedupeKey, normalizePayee, type Transaction, type NewTransaction, type TransactionPatch, type TransactionFilter } from './transactions.js';
export { Budgets, type Budget } from './budget.js';
export { Summaries, type MonthSummary, type CategorySummary, type BudgetLine, type BudgetReport, type AccountBalance, type PeriodFilter } from './summary.js';
export { CsvImporter, columnMappingSchema, parseRows, type ColumnMapping, type ImportOptions, type ImportPreview, type ImportResult, type ImportRow, type RowError } from './import.js';
export { inspectCsv, type CsvInspection, type InspectOptions } from './csv-inspect.js';
export { amountFromText, amountFromNumber, dateFromText, resolveAmount, checkLocale, systemLocale, type AmountInput, type EntryKind } from './locale-amounts.js';
export { exportTransactionsCsv, TRANSACTION_CSV_COLUMNS } from './export.js';
export { parseAmount, formatMinor, formatMoney, currencyDigits, isCurrencyCode } from './money.js';
export { parseDate, isIsoDate, isMonth, monthRange } from './dates.js';
export { financeTools } from './tools.js';
