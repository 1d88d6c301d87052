// CSV import of bank exports. A column mapping says where the date, the amount (one signed column, or
// debit and credit columns), the payee, the note and the category are, and how dates and numbers are
// written. Every row is parsed and checked before anything is written: one malformed row fails the whole
// import with its line number, and a good file is written in one transaction. Rows already in the account
// (same date, amount and payee, counted per occurrence), and rows repeated within the file, are duplicates:
// skipped unless the user keeps them (`keep`, by line). With a `locale`, amounts and dates are read by the
// same strict rules as typed ones (src/locale). `preview` does all of it without writing.
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import type { DB } from '../../storage/index.js';
import { ToolError } from '../errors.js';
import type { Accounts } from './accounts.js';
import type { Categories } from './categories.js';
import { isSupportedLocale, parseLocaleAmount, parseLocaleDate } from '../../locale/index.js';
import { isValidDateFormat, parseDate } from './dates.js';
import { currencyDigits, parseAmount } from './money.js';
import { dedupeKey } from './transactions.js';

/** A column by header name, or by 1-based position. */
const columnRef = z.union([z.string().min(1).max(200), z.number().int().min(1).max(1000)]);

export const columnMappingSchema = z
  .object({
    date: columnRef,
    /** Tokens YYYY, YY, MM, M, DD, D; e.g. 'DD.MM.YYYY', 'MM/DD/YYYY'. Default: the locale's order (and ISO), else YYYY-MM-DD. */
    dateFormat: z.string().min(4).max(40).refine(isValidDateFormat, 'must contain a year (YYYY or YY), a month (MM or M) and a day (DD or D)').optional(),
    /** How the file writes numbers and dates (BCP 47, e.g. 'de-DE'): amounts are then read strictly in it. */
    locale: z.string().min(2).max(35).refine(isSupportedLocale, 'must be a locale such as de-DE or en-US').optional(),
    /** One signed amount column (negative = money out) ... */
    amount: columnRef.optional(),
    /** ... or a debit (money out) and/or a credit (money in) column, unsigned. */
    debit: columnRef.optional(),
    credit: columnRef.optional(),
    payee: columnRef.optional(),
    note: z.union([columnRef, z.array(columnRef).min(1).max(10)]).optional(),
    /** Category names; missing categories are created. */
    category: columnRef.optional(),
    /** Without a locale: '.' (default) or ','. */
    decimalSeparator: z.enum(['.', ',']).optional(),
    thousandsSeparator: z.enum([',', '.', ' ', "'", '']).optional(),
    /** Field separator; default: guessed from the header line (',', ';' or tab). */
    delimiter: z.enum([',', ';', '\t', '|']).optional(),
    /** Whether the first (non-skipped) line holds column names; without one, columns are positions. */
    hasHeader: z.boolean().default(true),
    /** Lines to skip before the header (bank exports often start with a preamble). */
    skipLines: z.number().int().min(0).max(1000).default(0),
    /** Flip every amount's sign (card exports that list charges as positive numbers). */
    invertSign: z.boolean().default(false),
  })
  .strict()
  .refine((m) => (m.amount !== undefined) !== (m.debit !== undefined || m.credit !== undefined), {
    message: 'map either an amount column or debit/credit columns',
    path: ['amount'],
  })
  .refine((m) => m.locale === undefined || (m.decimalSeparator === undefined && m.thousandsSeparator === undefined), {
    message: 'give a locale or separators, not both (the locale says how numbers are written)',
    path: ['locale'],
  });

export type ColumnMapping = z.input<typeof columnMappingSchema>;
type Mapping = z.output<typeof columnMappingSchema>;

export interface ImportRow {
  line: number;
  date: string;
  amount: number;
  currency: string;
  payee: string;
  note: string;
  category: string | null;
  /** Skipped unless kept: the same date, amount and payee is already stored, or came earlier in the file. */
  duplicate: boolean;
  duplicateOf: 'stored' | 'file' | null;
}

export interface RowError {
  line: number;
  column?: string;
  value?: string;
  message: string;
}

export interface ImportPreview {
  accountId: number;
  total: number;
  new: number;
  duplicates: number;
  /** Of the duplicates: already stored, and repeated within the file. */
  storedDuplicates: number;
  fileDuplicates: number;
  rows: ImportRow[];
}

export interface ImportResult {
  importId: number;
  accountId: number;
  total: number;
  imported: number;
  /** Duplicates skipped. */
  duplicates: number;
  /** Duplicates imported because the user kept them (counted in imported). */
  kept: number;
  createdCategories: string[];
}

export interface ImportOptions {
  accountId: number;
  csv: string;
  mapping: ColumnMapping;
  fileName?: string;
  /** Lines of duplicate rows to import all the same (two equal coffees on one day can both be real). */
  keep?: number[];
  /** Called every `progressEvery` written rows inside the transaction (tests use it to interrupt). */
  onProgress?: (written: number, total: number) => void;
  progressEvery?: number;
}

const MAX_REPORTED_ERRORS = 50;

function guessDelimiter(firstLine: string): string {
  const counts = [',', ';', '\t', '|'].map((d) => ({ d, n: firstLine.split(d).length - 1 }));
  counts.sort((a, b) => b.n - a.n);
  return counts[0]!.n > 0 ? counts[0]!.d : ',';
}

function invalid(errors: RowError[]): ToolError {
  const first = errors[0]!;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more malformed row${errors.length > 2 ? 's' : ''})` : '';
  return new ToolError('csv_invalid', `line ${first.line}: ${first.message}${more}; nothing was imported`, {
    details: { line: first.line, errors },
  });
}

export class CsvImporter {
  constructor(
    private readonly db: DB,
    private readonly accounts: Accounts,
    private readonly categories: Categories,
    private readonly now: () => number = Date.now,
  ) {}

  /** Parses and checks the file; reports which rows are new and which are duplicates. Writes nothing. */
  preview(options: Omit<ImportOptions, 'onProgress' | 'progressEvery'>): ImportPreview {
    const rows = this.#prepare(options.accountId, options.csv, options.mapping);
    const duplicates = rows.filter((r) => r.duplicate).length;
    const storedDuplicates = rows.filter((r) => r.duplicateOf === 'stored').length;
    return { accountId: options.accountId, total: rows.length, new: rows.length - duplicates, duplicates, storedDuplicates, fileDuplicates: duplicates - storedDuplicates, rows };
  }

  /** Imports the new rows in one transaction: all of them, or (on any error) none. */
  import(options: ImportOptions): ImportResult {
    const every = options.progressEvery ?? 1000;
    const run = this.db.transaction((): ImportResult => {
      // Inside the transaction: duplicates are judged against the data as it is when we write.
      const rows = this.#prepare(options.accountId, options.csv, options.mapping);
      const account = this.accounts.get(options.accountId);
      const keep = new Set(options.keep ?? []);
      const fresh = rows.filter((r) => !r.duplicate || keep.has(r.line));
      const kept = fresh.filter((r) => r.duplicate).length;
      const created: string[] = [];
      const categoryIds = new Map<string, number>();
      for (const name of new Set(fresh.map((r) => r.category).filter((c): c is string => c !== null))) {
        let cat = this.categories.findByName(name);
        if (!cat) {
          cat = this.categories.create(name);
          created.push(cat.name);
        }
        categoryIds.set(name.toLowerCase(), cat.id);
      }
      const now = this.now();
      const imp = this.db
        .prepare('INSERT INTO fin_imports (account_id, file_name, rows_total, rows_imported, rows_duplicate, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id')
        .get(account.id, options.fileName ?? null, rows.length, fresh.length, rows.length - fresh.length, now) as { id: number };
      const insert = this.db.prepare(
        `INSERT INTO fin_transactions (account_id, date, amount, currency, category_id, payee, note, import_id, dedupe_key, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      let written = 0;
      for (const r of fresh) {
        insert.run(account.id, r.date, r.amount, account.currency, r.category ? categoryIds.get(r.category.toLowerCase())! : null, r.payee, r.note, imp.id, dedupeKey(r.date, r.amount, r.payee), now);
        written++;
        if (options.onProgress && written % every === 0) options.onProgress(written, fresh.length);
      }
      return { importId: imp.id, accountId: account.id, total: rows.length, imported: fresh.length, duplicates: rows.length - fresh.length, kept, createdCategories: created };
    });
    return run.immediate();
  }

  #prepare(accountId: number, csv: string, rawMapping: ColumnMapping): ImportRow[] {
    const account = this.accounts.get(accountId);
    const parsedMapping = columnMappingSchema.safeParse(rawMapping);
    if (!parsedMapping.success) {
      const fields = parsedMapping.error.issues.map((i) => ({ path: `mapping.${i.path.join('.')}`, message: i.message }));
      throw new ToolError('invalid_params', `invalid column mapping: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, { details: { fields } });
    }
    const mapping: Mapping = parsedMapping.data;
    const rows = parseRows(csv, mapping, currencyDigits(account.currency), account.currency);

    // Duplicates: the n-th occurrence of (date, amount, payee) in the file is a duplicate of a stored one when
    // the account already holds at least n such transactions, else of an earlier row when n > 1.
    if (rows.length > 0) {
      const dates = rows.map((r) => r.date).sort();
      const existing = new Map<string, number>();
      const stmt = this.db.prepare('SELECT dedupe_key AS k, count(*) AS n FROM fin_transactions WHERE account_id = ? AND date BETWEEN ? AND ? GROUP BY dedupe_key');
      for (const e of stmt.all(accountId, dates[0], dates[dates.length - 1]) as { k: string; n: number }[]) existing.set(e.k, e.n);
      const seen = new Map<string, number>();
      for (const r of rows) {
        const k = dedupeKey(r.date, r.amount, r.payee);
        const n = (seen.get(k) ?? 0) + 1;
        seen.set(k, n);
        r.duplicateOf = n <= (existing.get(k) ?? 0) ? 'stored' : n > 1 ? 'file' : null;
        r.duplicate = r.duplicateOf !== null;
      }
    }
    return rows;
  }
}

/** Parses the CSV text into rows; throws csv_invalid naming the first malformed line (and up to 50). */
export function parseRows(csv: string, mapping: Mapping, digits: number, currency: string): ImportRow[] {
  const text = csv.replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/);
  const headerLine = lines[mapping.skipLines] ?? '';
  const delimiter = mapping.delimiter ?? guessDelimiter(headerLine);
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, {
      delimiter,
      info: true,
      from_line: mapping.skipLines + 1,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
    }) as unknown as { record: string[]; info: { lines: number } }[];
  } catch (err) {
    const line = (err as { lines?: number }).lines ?? 0;
    throw invalid([{ line, message: `the CSV cannot be read: ${(err as Error).message}` }]);
  }
  if (records.length === 0) return [];

  let header: string[] | null = null;
  let data = records;
  if (mapping.hasHeader) {
    header = records[0]!.record.map((h) => h.trim());
    data = records.slice(1);
  }
  const width = header?.length ?? records[0]!.record.length;
  const index = (ref: string | number, what: string): number => {
    if (typeof ref === 'number') {
      if (ref > width) throw new ToolError('invalid_params', `mapping.${what}: column ${ref} does not exist (the file has ${width})`, { details: { fields: [{ path: `mapping.${what}`, message: 'no such column' }] } });
      return ref - 1;
    }
    if (!header) throw new ToolError('invalid_params', `mapping.${what}: a file without a header needs column positions`, { details: { fields: [{ path: `mapping.${what}`, message: 'use a 1-based position' }] } });
    const i = header.findIndex((h) => h.toLowerCase() === ref.trim().toLowerCase());
    if (i < 0) throw new ToolError('invalid_params', `mapping.${what}: no column named "${ref}" (columns: ${header.join(', ')})`, { details: { fields: [{ path: `mapping.${what}`, message: 'no such column' }], columns: header } });
    return i;
  };
  const col = {
    date: index(mapping.date, 'date'),
    amount: mapping.amount !== undefined ? index(mapping.amount, 'amount') : null,
    debit: mapping.debit !== undefined ? index(mapping.debit, 'debit') : null,
    credit: mapping.credit !== undefined ? index(mapping.credit, 'credit') : null,
    payee: mapping.payee !== undefined ? index(mapping.payee, 'payee') : null,
    note: mapping.note === undefined ? [] : (Array.isArray(mapping.note) ? mapping.note : [mapping.note]).map((n, i) => index(n, `note.${i}`)),
    category: mapping.category !== undefined ? index(mapping.category, 'category') : null,
  };
  const name = (i: number) => header?.[i] ?? `column ${i + 1}`;
  const decimalSeparator = mapping.decimalSeparator ?? '.';
  const numberFormat = { decimalSeparator, ...(mapping.thousandsSeparator !== undefined ? { thousandsSeparator: mapping.thousandsSeparator } : {}) };
  const locale = mapping.locale;
  /** Minor units, or why the text is not an amount. */
  const readAmount = (text: string): number | string => {
    if (locale !== undefined) {
      const r = parseLocaleAmount(text, { locale, digits, currency, sign: 'allow', trailingMinus: true });
      return r.ok ? r.value : r.message;
    }
    return parseAmount(text, digits, numberFormat) ?? `"${text}" is not an amount (decimal separator "${decimalSeparator}", at most ${digits} decimals)`;
  };
  const dateFormat = mapping.dateFormat ?? (locale === undefined ? 'YYYY-MM-DD' : null);
  const readDate = (text: string): string | { message: string } => {
    if (dateFormat !== null) return parseDate(text, dateFormat) ?? { message: `"${text}" is not a date in the format ${dateFormat}` };
    const r = parseLocaleDate(text, locale!);
    return r.ok ? r.value : { message: r.message };
  };

  const rows: ImportRow[] = [];
  const errors: RowError[] = [];
  for (const { record, info } of data) {
    const line = info.lines;
    if (errors.length >= MAX_REPORTED_ERRORS) break;
    if (record.length !== width) {
      errors.push({ line, message: `expected ${width} fields, found ${record.length}` });
      continue;
    }
    const cell = (i: number) => (record[i] ?? '').trim();
    const date = readDate(cell(col.date));
    if (typeof date !== 'string') {
      errors.push({ line, column: name(col.date), value: cell(col.date), message: date.message });
      continue;
    }
    let amount: number | null;
    if (col.amount !== null) {
      const v = readAmount(cell(col.amount));
      if (typeof v === 'string') {
        errors.push({ line, column: name(col.amount), value: cell(col.amount), message: v });
        continue;
      }
      amount = v;
    } else {
      const parts: number[] = [];
      let bad: RowError | null = null;
      for (const [c, sign] of [[col.debit, -1], [col.credit, 1]] as const) {
        if (c === null || cell(c) === '') continue;
        const v = readAmount(cell(c));
        if (typeof v === 'string') {
          bad = { line, column: name(c), value: cell(c), message: v };
          break;
        }
        parts.push(sign * Math.abs(v));
      }
      if (bad) {
        errors.push(bad);
        continue;
      }
      if (parts.length === 0) {
        errors.push({ line, message: 'neither a debit nor a credit amount' });
        continue;
      }
      amount = parts.reduce((a, b) => a + b, 0);
    }
    if (mapping.invertSign) amount = -amount;
    rows.push({
      line,
      date,
      amount: amount === 0 ? 0 : amount,
      currency,
      payee: col.payee !== null ? cell(col.payee) : '',
      note: col.note.map(cell).filter(Boolean).join(' · '),
      category: col.category !== null && cell(col.category) !== '' ? cell(col.category) : null,
      duplicate: false,
      duplicateOf: null,
    });
  }
  if (errors.length > 0) throw invalid(errors);
  return rows;
}
