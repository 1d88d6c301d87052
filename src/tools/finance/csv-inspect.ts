// A first look at a CSV file before its columns are mapped: the field separator, the column names, the
// first rows as text, and a guess of which column is which (from common header names in English, German,
// French, Spanish and Dutch bank exports) and of the locale its numbers are written in.
import { parse } from 'csv-parse/sync';
import { ToolError } from '../errors.js';

export interface CsvInspection {
  delimiter: string;
  hasHeader: boolean;
  /** Column names (or "Column 1", ... without a header). */
  columns: string[];
  /** The first rows, as text. */
  rows: string[][];
  /** Data rows in the file. */
  rowCount: number;
  /** Column names guessed for the mapping. */
  suggested: Partial<Record<'date' | 'amount' | 'debit' | 'credit' | 'payee' | 'note' | 'category', string>>;
  /** How the amounts look: ',' decimals ("85,20"), '.' decimals, or unknown. */
  decimalMark: ',' | '.' | null;
}

export interface InspectOptions {
  delimiter?: string | undefined;
  skipLines?: number | undefined;
  hasHeader?: boolean | undefined;
  /** Rows to return (default 10). */
  limit?: number | undefined;
}

const GUESSES: [keyof CsvInspection['suggested'], RegExp][] = [
  ['date', /^(date|datum|buchungs(tag|datum)|valuta|wertstellung|fecha|date d'op[ée]ration|transaction date|posting date|booking date)$/i],
  ['amount', /^(amount|betrag|montant|importe|bedrag|value|umsatz|betrag \(eur\))$/i],
  ['debit', /^(debit|d[ée]bit|soll|withdrawals?|money out|ausgang|af)$/i],
  ['credit', /^(credit|cr[ée]dit|haben|deposits?|money in|eingang|bij)$/i],
  ['payee', /^(payee|description|beschreibung|empf[äa]nger|auftraggeber|beg[üu]nstigter|name|libell[ée]|concepto|omschrijving|merchant|counterparty)$/i],
  ['note', /^(note|notes|memo|verwendungszweck|reference|referenz|mitteilung)$/i],
  ['category', /^(category|kategorie|cat[ée]gorie|categor[ií]a|categorie)$/i],
];

function guessDelimiter(firstLine: string): string {
  const counts = [',', ';', '\t', '|'].map((d) => ({ d, n: firstLine.split(d).length - 1 }));
  counts.sort((a, b) => b.n - a.n);
  return counts[0]!.n > 0 ? counts[0]!.d : ',';
}

export function inspectCsv(csv: string, options: InspectOptions = {}): CsvInspection {
  const text = csv.replace(/^\uFEFF/, '');
  const skip = options.skipLines ?? 0;
  const delimiter = options.delimiter ?? guessDelimiter(text.split(/\r?\n/)[skip] ?? '');
  let records: string[][];
  try {
    records = parse(text, { delimiter, from_line: skip + 1, skip_empty_lines: true, relax_column_count: true, trim: true }) as string[][];
  } catch (err) {
    throw new ToolError('csv_invalid', `the CSV cannot be read: ${(err as Error).message}`, { details: { line: (err as { lines?: number }).lines ?? 0 } });
  }
  const hasHeader = options.hasHeader ?? true;
  const width = Math.max(0, ...records.slice(0, 50).map((r) => r.length));
  const columns = hasHeader && records[0] ? records[0].map((h, i) => h.trim() || `Column ${i + 1}`) : Array.from({ length: width }, (_, i) => `Column ${i + 1}`);
  const data = hasHeader ? records.slice(1) : records;
  const suggested: CsvInspection['suggested'] = {};
  if (hasHeader) {
    for (const [field, re] of GUESSES) {
      const c = columns.find((name) => re.test(name.trim()) && !Object.values(suggested).includes(name));
      if (c) suggested[field] = c;
    }
    if (suggested.amount) {
      delete suggested.debit;
      delete suggested.credit;
    }
  }
  // The decimal mark: the last separator of amounts written with two decimals.
  let comma = 0;
  let dot = 0;
  const amountCols = [suggested.amount, suggested.debit, suggested.credit].filter((c): c is string => c !== undefined).map((c) => columns.indexOf(c));
  for (const r of data.slice(0, 200)) {
    for (const i of amountCols) {
      const v = r[i] ?? '';
      if (/,\d{2}-?$/.test(v)) comma++;
      else if (/\.\d{2}-?$/.test(v)) dot++;
    }
  }
  return {
    delimiter,
    hasHeader,
    columns,
    rows: data.slice(0, options.limit ?? 10),
    rowCount: data.length,
    suggested,
    decimalMark: comma > dot ? ',' : dot > comma ? '.' : null,
  };
}
