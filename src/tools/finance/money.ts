// Money as integers: amounts are minor units (cents) of an ISO 4217 currency. Parsing never goes
// through floating point: "1.234,56" with decimal separator "," is 123456 minor units of a 2-digit
// currency.

/** Digits after the decimal point for a currency (EUR 2, JPY 0, KWD 3), from Intl. */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

let currencies: Set<string> | null = null;

/** Whether `code` is an ISO 4217 currency this runtime knows (Intl.supportedValuesOf). */
export function isCurrencyCode(code: string): boolean {
  if (!/^[A-Z]{3}$/.test(code)) return false;
  currencies ??= new Set(Intl.supportedValuesOf('currency'));
  return currencies.has(code);
}

export interface AmountFormat {
  /** '.' (default) or ','. */
  decimalSeparator?: '.' | ',';
  /** Grouping separator to ignore; default: the other of '.' and ',', plus spaces and apostrophes. */
  thousandsSeparator?: string;
}

/**
 * Parses a decimal amount into minor units; null when it is not a number or has more fraction digits
 * than the currency allows. Accepts a sign (or parentheses for negatives), a currency symbol or code
 * around the number, and grouping separators.
 */
export function parseAmount(text: string, digits: number, format: AmountFormat = {}): number | null {
  const dec = format.decimalSeparator ?? '.';
  const group = format.thousandsSeparator ?? (dec === '.' ? ',' : '.');
  let s = text.trim();
  if (s === '') return null;
  let negative = false;
  if (s.startsWith('(') && s.endsWith(')')) {
    negative = true;
    s = s.slice(1, -1).trim();
  }
  // A currency symbol or ISO code around the number (before or after the sign).
  const stripCurrency = (x: string) => x.replace(/^(?:[A-Z]{3}|[$€£¥₹₩₽¤])\s*/u, '').replace(/\s*(?:[A-Z]{3}|[$€£¥₹₩₽¤])$/u, '');
  s = stripCurrency(s);
  if (s.startsWith('-') || s.startsWith('−')) {
    negative = !negative;
    s = s.slice(1).trim();
  } else if (s.startsWith('+')) {
    s = s.slice(1).trim();
  }
  s = stripCurrency(s);
  if (s.endsWith('-')) {
    // Some banks write trailing minus signs: "12,50-".
    negative = !negative;
    s = s.slice(0, -1).trim();
  }
  for (const g of [group, ' ', '\u00a0', '\u202f', "'"]) if (g && g !== dec) s = s.split(g).join('');
  const parts = s.split(dec);
  if (parts.length > 2) return null;
  const [whole = '', frac = ''] = parts;
  if (!/^\d*$/.test(whole) || !/^\d*$/.test(frac) || (whole === '' && frac === '')) return null;
  if (frac.length > digits) {
    // Allow trailing zeros beyond the currency's digits ("12.500" for EUR).
    if (!/^0*$/.test(frac.slice(digits))) return null;
  }
  const fracDigits = frac.slice(0, digits).padEnd(digits, '0');
  const value = Number(`${whole || '0'}${fracDigits}`);
  if (!Number.isSafeInteger(value)) return null;
  return negative && value !== 0 ? -value : value;
}

/** "1234.56" for 123456 minor units of a 2-digit currency (no grouping, '.' decimal point). */
export function formatMinor(minor: number, digits: number): string {
  const negative = minor < 0;
  const abs = String(Math.abs(minor)).padStart(digits + 1, '0');
  const text = digits === 0 ? abs : `${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
  return negative ? `-${text}` : text;
}

/** "-12.34 EUR" — how amounts are shown to the model. */
export function formatMoney(minor: number, currency: string): string {
  return `${formatMinor(minor, currencyDigits(currency))} ${currency}`;
}
