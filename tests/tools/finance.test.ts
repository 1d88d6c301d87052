import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import { openDatabase, type DB } from '../../src/storage/index.js';
import { FinanceService, formatMinor, parseAmount, parseDate, type ColumnMapping } from '../../src/tools/finance/index.js';
import { tempDir } from './helpers.js';

let db: DB;
let finance: FinanceService;
let cleanup: () => void;

beforeEach(() => {
  const t = tempDir();
  cleanup = t.cleanup;
  db = openDatabase(join(t.dir, 'westfall.db'));
  finance = new FinanceService(db, { defaultCurrency: 'EUR' });
});
afterEach(() => {
  db.close();
  cleanup();
});

function count(table: string): number {
  return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
}

describe('money and dates', () => {
  it('parses amounts into minor units without floating point', () => {
    expect(parseAmount('12.34', 2)).toBe(1234);
    expect(parseAmount('-0.10', 2)).toBe(-10);
    expect(parseAmount('1.234,56', 2, { decimalSeparator: ',' })).toBe(123456);
    expect(parseAmount('1,234.56', 2)).toBe(123456);
    expect(parseAmount('(45.00)', 2)).toBe(-4500);
    expect(parseAmount('12,50-', 2, { decimalSeparator: ',' })).toBe(-1250);
    expect(parseAmount('€ 3', 2)).toBe(300);
    expect(parseAmount('-€3.10', 2)).toBe(-310);
    expect(parseAmount('3,50 EUR', 2, { decimalSeparator: ',' })).toBe(350);
    expect(parseAmount('3,5x', 2, { decimalSeparator: ',' })).toBeNull();
    expect(parseAmount("1'000.5", 2)).toBe(100050);
    expect(parseAmount('0.1', 0)).toBeNull(); // JPY has no decimals
    expect(parseAmount('12.345', 2)).toBeNull();
    expect(parseAmount('12.340', 2)).toBe(1234);
    expect(parseAmount('abc', 2)).toBeNull();
    expect(parseAmount('', 2)).toBeNull();
    expect(parseAmount('1.2.3', 2)).toBeNull();
    expect(formatMinor(-5, 2)).toBe('-0.05');
    expect(formatMinor(123456, 2)).toBe('1234.56');
    expect(formatMinor(7, 0)).toBe('7');
  });

  it('parses the date formats of bank exports and rejects impossible dates', () => {
    expect(parseDate('31.12.2023', 'DD.MM.YYYY')).toBe('2023-12-31');
    expect(parseDate('2/3/2024', 'M/D/YYYY')).toBe('2024-02-03');
    expect(parseDate('03/02/24', 'DD/MM/YY')).toBe('2024-02-03');
    expect(parseDate('2024-02-29', 'YYYY-MM-DD')).toBe('2024-02-29');
    expect(parseDate('2023-02-29', 'YYYY-MM-DD')).toBeNull();
    expect(parseDate('31.04.2024', 'DD.MM.YYYY')).toBeNull();
    expect(parseDate('2024-1-5', 'YYYY-MM-DD')).toBeNull();
  });
});

describe('summaries on known data', () => {
  function seed() {
    const checking = finance.accounts.create({ name: 'Checking', currency: 'EUR', openingBalance: 100_000 });
    const card = finance.accounts.create({ name: 'Card', currency: 'eur' });
    const usd = finance.accounts.create({ name: 'US account', currency: 'USD' });
    const food = finance.categories.create('Food');
    const rent = finance.categories.create('Rent');
    const salary = finance.categories.create('Salary', 'income');
    const transfer = finance.categories.create('Transfer', 'transfer');
    const add = (accountId: number, date: string, amount: number, categoryId: number | null, payee = '') =>
      finance.transactions.create({ accountId, date, amount, categoryId, payee });
    add(checking.id, '2024-01-01', 250_000, salary.id, 'Employer');
    add(checking.id, '2024-01-03', -80_000, rent.id, 'Landlord');
    add(checking.id, '2024-01-05', -1_234, food.id, 'Bakery');
    add(card.id, '2024-01-20', -4_566, food.id, 'Market');
    add(checking.id, '2024-01-25', -20_000, transfer.id, 'To card');
    add(card.id, '2024-01-25', 20_000, transfer.id, 'From checking');
    add(checking.id, '2024-02-02', -3_000, food.id, 'Bakery');
    add(checking.id, '2024-02-03', 500, food.id, 'Bakery refund');
    add(checking.id, '2024-02-10', -1_999, null, 'Unknown shop');
    add(usd.id, '2024-01-15', -1_000, food.id, 'Diner');
    finance.budgets.set({ categoryId: food.id, month: '2024-01', amount: 5_000 });
    finance.budgets.set({ categoryId: rent.id, month: '2024-01', amount: 80_000, currency: 'EUR' });
    finance.budgets.set({ categoryId: food.id, month: '2024-02', amount: 5_000 });
    return { checking, card, usd, food, rent, salary, transfer };
  }

  it('income and expenses by month, per currency, transfers left out', () => {
    seed();
    expect(finance.summaries.byMonth()).toEqual([
      { month: '2024-01', currency: 'EUR', income: 250_000, expenses: 85_800, net: 164_200, count: 4 },
      { month: '2024-01', currency: 'USD', income: 0, expenses: 1_000, net: -1_000, count: 1 },
      { month: '2024-02', currency: 'EUR', income: 500, expenses: 4_999, net: -4_499, count: 3 },
    ]);
    expect(finance.summaries.byMonth({ from: '2024-02-01', to: '2024-02-29' })).toHaveLength(1);
  });

  it('by category', () => {
    const { food } = seed();
    const eur = finance.summaries.byCategory({ from: '2024-01-01', to: '2024-02-29' }).filter((c) => c.currency === 'EUR');
    const foodLine = eur.find((c) => c.categoryId === food.id)!;
    expect(foodLine).toMatchObject({ category: 'Food', income: 500, expenses: 1_234 + 4_566 + 3_000, net: 500 - 8_800, count: 4 });
    expect(eur.find((c) => c.categoryId === null)).toMatchObject({ expenses: 1_999, count: 1 });
    expect(eur.some((c) => c.category === 'Transfer')).toBe(false);
  });

  it('budget against actual, with refunds netted and other currencies apart', () => {
    const { food, rent } = seed();
    const jan = finance.summaries.budgetVsActual('2024-01');
    expect(jan.lines).toEqual([
      { categoryId: food.id, category: 'Food', currency: 'EUR', budget: 5_000, spent: 5_800, remaining: -800, percentUsed: 116, over: true },
      { categoryId: food.id, category: 'Food', currency: 'USD', budget: null, spent: 1_000, remaining: null, percentUsed: null, over: false },
      { categoryId: rent.id, category: 'Rent', currency: 'EUR', budget: 80_000, spent: 80_000, remaining: 0, percentUsed: 100, over: false },
    ]);
    expect(jan.totals).toEqual([{ currency: 'EUR', budget: 85_000, spent: 85_800, remaining: -800 }]);
    const feb = finance.summaries.budgetVsActual('2024-02');
    expect(feb.lines[0]).toMatchObject({ category: 'Food', budget: 5_000, spent: 2_500, remaining: 2_500, percentUsed: 50 });
  });

  it('balances per account, also as of a date', () => {
    const { checking, card, usd } = seed();
    const b = Object.fromEntries(finance.summaries.balances().map((x) => [x.accountId, x.balance]));
    expect(b[checking.id]).toBe(100_000 + 250_000 - 80_000 - 1_234 - 20_000 - 3_000 + 500 - 1_999);
    expect(b[card.id]).toBe(-4_566 + 20_000);
    expect(b[usd.id]).toBe(-1_000);
    expect(finance.summaries.balance(checking.id, '2024-01-31').balance).toBe(100_000 + 250_000 - 80_000 - 1_234 - 20_000);
  });

  it('refuses another currency for an account and a category that does not exist', () => {
    const { checking } = seed();
    expect(() => finance.transactions.create({ accountId: checking.id, date: '2024-01-01', amount: 1, currency: 'USD' })).toThrow(/in EUR/);
    expect(() => finance.transactions.create({ accountId: checking.id, date: '2024-01-01', amount: 1, categoryId: 999 })).toThrow(/does not exist/);
    expect(() => finance.transactions.create({ accountId: checking.id, date: '2024-13-01', amount: 1 })).toThrow(/real date/);
    expect(() => finance.transactions.create({ accountId: checking.id, date: '2024-01-01', amount: 1.5 })).toThrow(/integer/);
    expect(() => finance.accounts.delete(checking.id)).toThrow(/has 7 transactions/);
  });
});

const GERMAN_EXPORT = [
  'Kontoauszug Girokonto',
  'Zeitraum: 01.03.2024 - 31.03.2024',
  'Buchungstag;Empfänger;Verwendungszweck;Kategorie;Betrag',
  '01.03.2024;Bäckerei Müller;Brötchen;Essen;-3,50',
  '02.03.2024;Arbeitgeber GmbH;"Gehalt; März";Gehalt;1.234,56',
  '05.03.2024;Supermarkt;Einkauf;Essen;-45,10',
  '05.03.2024;Supermarkt;Einkauf;Essen;-45,10',
  '',
].join('\n');

const GERMAN_MAPPING: ColumnMapping = {
  date: 'Buchungstag',
  dateFormat: 'DD.MM.YYYY',
  amount: 'Betrag',
  payee: 'Empfänger',
  note: 'Verwendungszweck',
  category: 'Kategorie',
  decimalSeparator: ',',
  skipLines: 2,
};

describe('CSV import', () => {
  it('imports a bank export with a preamble, decimal commas, quoted delimiters and categories', () => {
    const acc = finance.accounts.create({ name: 'Giro', currency: 'EUR' });
    // Line 7 repeats line 6: shown as a duplicate within the file, imported here because the user keeps it.
    const preview = finance.importer.preview({ accountId: acc.id, csv: GERMAN_EXPORT, mapping: GERMAN_MAPPING });
    expect(preview).toMatchObject({ total: 4, new: 3, duplicates: 1, storedDuplicates: 0, fileDuplicates: 1 });
    expect(preview.rows.map((r) => [r.line, r.duplicateOf])).toEqual([[4, null], [5, null], [6, null], [7, 'file']]);
    const r = finance.importer.import({ accountId: acc.id, csv: GERMAN_EXPORT, mapping: GERMAN_MAPPING, fileName: 'maerz.csv', keep: [7] });
    expect(r).toMatchObject({ total: 4, imported: 4, duplicates: 0, kept: 1, createdCategories: ['Essen', 'Gehalt'] });
    const list = finance.transactions.list({ accountId: acc.id }).transactions;
    expect(list.map((t) => [t.date, t.amount, t.payee, t.note, t.category])).toEqual([
      ['2024-03-05', -4510, 'Supermarkt', 'Einkauf', 'Essen'],
      ['2024-03-05', -4510, 'Supermarkt', 'Einkauf', 'Essen'],
      ['2024-03-02', 123456, 'Arbeitgeber GmbH', 'Gehalt; März', 'Gehalt'],
      ['2024-03-01', -350, 'Bäckerei Müller', 'Brötchen', 'Essen'],
    ]);
    expect(list.every((t) => t.importId === r.importId)).toBe(true);
    expect(db.prepare('SELECT file_name, rows_total, rows_imported FROM fin_imports').get()).toEqual({ file_name: 'maerz.csv', rows_total: 4, rows_imported: 4 });
  });

  it('detects duplicates per occurrence: a re-import adds nothing, an overlapping export only the new rows', () => {
    const acc = finance.accounts.create({ name: 'Giro', currency: 'EUR' });
    finance.importer.import({ accountId: acc.id, csv: GERMAN_EXPORT, mapping: GERMAN_MAPPING, keep: [7] });
    const again = finance.importer.import({ accountId: acc.id, csv: GERMAN_EXPORT, mapping: GERMAN_MAPPING });
    expect(again).toMatchObject({ total: 4, imported: 0, duplicates: 4, kept: 0 });
    // A third identical supermarket row (two are stored: it repeats line 7 of this file) and a new one.
    const overlap = GERMAN_EXPORT.trimEnd() + '\n05.03.2024;Supermarkt;Einkauf;Essen;-45,10\n06.03.2024;Kino;Film;Freizeit;-12,00\n';
    const preview = finance.importer.preview({ accountId: acc.id, csv: overlap, mapping: GERMAN_MAPPING });
    expect(preview).toMatchObject({ total: 6, new: 1, duplicates: 5, storedDuplicates: 4, fileDuplicates: 1 });
    expect(preview.rows.filter((r) => !r.duplicate).map((r) => r.line)).toEqual([9]);
    expect(preview.rows.find((r) => r.line === 8)?.duplicateOf).toBe('file');
    expect(count('fin_transactions')).toBe(4); // preview wrote nothing
    // Skipped unless kept: without keep only the cinema; keeping line 8 adds the third supermarket row too.
    expect(finance.importer.import({ accountId: acc.id, csv: overlap, mapping: GERMAN_MAPPING, keep: [8] })).toMatchObject({ imported: 2, duplicates: 4, kept: 1 });
    expect(count('fin_transactions')).toBe(6);
  });

  it('skips rows repeated within the file unless kept, and keeping a line that is no duplicate changes nothing', () => {
    const acc = finance.accounts.create({ name: 'Giro', currency: 'EUR' });
    const csv = 'Datum;Beschreibung;Betrag\n01.03.2024;Kaffee;-2,50\n01.03.2024;Kaffee;-2,50\n01.03.2024;Kaffee;-2,50\n02.03.2024;Kaffee;-2,50\n';
    const mapping: ColumnMapping = { date: 'Datum', amount: 'Betrag', payee: 'Beschreibung', locale: 'de-DE' };
    const r = finance.importer.import({ accountId: acc.id, csv, mapping, keep: [2, 4] });
    expect(r).toMatchObject({ total: 4, imported: 3, duplicates: 1, kept: 1 });
    expect(finance.transactions.list({ accountId: acc.id }).transactions.map((t) => [t.date, t.amount])).toEqual([
      ['2024-03-02', -250],
      ['2024-03-01', -250],
      ['2024-03-01', -250],
    ]);
    // Again: the two stored coffees of the 1st match lines 2 and 3; line 4 is a third, repeated in the file.
    const again = finance.importer.preview({ accountId: acc.id, csv, mapping });
    expect(again.rows.map((x) => x.duplicateOf)).toEqual(['stored', 'stored', 'file', 'stored']);
  });

  it('reads amounts and dates strictly in a locale: de-DE decimals and dates, en-US refuses "85,20" naming the line', () => {
    const acc = finance.accounts.create({ name: 'Giro', currency: 'EUR' });
    const de = 'Datum;Beschreibung;Betrag\n22.11.2025;Tanken;-85,20\n2025-11-23;Gehalt;1.234,50\n24.11.2025;Bank;12,00-\n';
    const r = finance.importer.import({ accountId: acc.id, csv: de, mapping: { date: 'Datum', amount: 'Betrag', payee: 'Beschreibung', locale: 'de-DE' } });
    expect(r.imported).toBe(3);
    expect(finance.transactions.list({ accountId: acc.id }).transactions.map((t) => [t.date, t.amount])).toEqual([
      ['2025-11-24', -1200],
      ['2025-11-23', 123450],
      ['2025-11-22', -8520],
    ]);
    const us = 'Date,Description,Amount\n11/22/2025,Gas,"-85,20"\n';
    let err: unknown;
    try {
      finance.importer.preview({ accountId: acc.id, csv: us, mapping: { date: 'Date', amount: 'Amount', payee: 'Description', locale: 'en-US' } });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'csv_invalid' });
    expect((err as Error).message).toMatch(/line 2: "-85,20" is not an amount in en-US: "," separates groups of 3 digits/);
    expect(() => finance.importer.preview({ accountId: acc.id, csv: us, mapping: { date: 'Date', amount: 'Amount', locale: 'en-US', decimalSeparator: ',' } })).toThrow(/a locale or separators/);
    expect(() => finance.importer.preview({ accountId: acc.id, csv: us, mapping: { date: 'Date', amount: 'Amount', locale: 'xx-nope-nope' } })).toThrow(/locale/);
  });

  it('maps debit and credit columns, month-first dates and positions without a header', () => {
    const acc = finance.accounts.create({ name: 'US', currency: 'USD' });
    const csv = 'Date,Description,Debit,Credit\n03/15/2024,Coffee,4.50,\n03/16/2024,Refund,,10.00\n"03/17/2024","Both",1.00,3.00\n';
    const r = finance.importer.import({ accountId: acc.id, csv, mapping: { date: 'Date', dateFormat: 'MM/DD/YYYY', debit: 'Debit', credit: 'Credit', payee: 'Description' } });
    expect(r.imported).toBe(3);
    expect(finance.transactions.list({ accountId: acc.id }).transactions.map((t) => t.amount)).toEqual([200, 1000, -450]);
    const bare = '2024-04-01\t-1.00\tA\n2024-04-02\t2.00\tB\n';
    const r2 = finance.importer.import({ accountId: acc.id, csv: bare, mapping: { date: 1, amount: 2, payee: 3, hasHeader: false, invertSign: true } });
    expect(r2.imported).toBe(2);
    expect(finance.summaries.byMonth({ from: '2024-04-01' })[0]).toMatchObject({ income: 100, expenses: 200 });
  });

  it('a malformed row fails the whole import with its line number and writes nothing', () => {
    const acc = finance.accounts.create({ name: 'Giro', currency: 'EUR' });
    const bad = GERMAN_EXPORT.replace('05.03.2024;Supermarkt;Einkauf;Essen;-45,10\n05.03', '05.03.2024;Supermarkt;Einkauf;Essen;-45,10\n32.03');
    let err: unknown;
    try {
      finance.importer.import({ accountId: acc.id, csv: bad, mapping: GERMAN_MAPPING });
    } catch (e) {
      err = e;
    }
    expect(isWestfallError(err, 'csv_invalid')).toBe(true);
    expect((err as Error).message).toMatch(/^line 7: "32.03.2024" is not a date/);
    expect((err as { details: { line: number } }).details.line).toBe(7);
    expect(count('fin_transactions')).toBe(0);
    expect(count('fin_imports')).toBe(0);
    expect(count('fin_categories')).toBe(0);

    const badAmount = GERMAN_EXPORT.replace('-3,50', '-3,5x');
    expect(() => finance.importer.import({ accountId: acc.id, csv: badAmount, mapping: GERMAN_MAPPING })).toThrow(/^line 4: "-3,5x" is not an amount/);
    const wrongWidth = GERMAN_EXPORT.replace('Gehalt;1.234,56', 'Gehalt;1.234,56;extra');
    expect(() => finance.importer.import({ accountId: acc.id, csv: wrongWidth, mapping: GERMAN_MAPPING })).toThrow(/^line 5: expected 5 fields, found 6/);
    const unclosed = GERMAN_EXPORT.replace('"Gehalt; März"', '"Gehalt; März');
    expect(() => finance.importer.import({ accountId: acc.id, csv: unclosed, mapping: GERMAN_MAPPING })).toThrow(/csv|quote/i);
    expect(() => finance.importer.import({ accountId: acc.id, csv: GERMAN_EXPORT, mapping: { ...GERMAN_MAPPING, amount: 'Amount' } })).toThrow(/no column named "Amount"/);
    expect(count('fin_transactions')).toBe(0);
  });

  it('exports CSV with decimal amounts and minor units', () => {
    const acc = finance.accounts.create({ name: 'Giro', currency: 'EUR' });
    finance.importer.import({ accountId: acc.id, csv: GERMAN_EXPORT, mapping: GERMAN_MAPPING });
    const rows = parse(finance.exportCsv({ from: '2024-03-01', to: '2024-03-02' }), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.date, r.account, r.amount, r.currency, r.amount_minor, r.category, r.payee, r.note])).toEqual([
      ['2024-03-01', 'Giro', '-3.50', 'EUR', '-350', 'Essen', 'Bäckerei Müller', 'Brötchen'],
      ['2024-03-02', 'Giro', '1234.56', 'EUR', '123456', 'Gehalt', 'Arbeitgeber GmbH', 'Gehalt; März'],
    ]);
  });
});
