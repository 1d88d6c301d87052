// Amounts as people type them, read strictly in one locale: "85,20" is 85.20 in de-DE and an error in en-US
// (there "," groups thousands, so a group of two digits is a typo or a different convention, never something
// to guess at). Pure (Intl only, no Node, no DOM): the backend validates with it and esbuild bundles the same
// file into the renderer. Results are integer minor units; parsing never goes through floating point.

export type AmountErrorReason = 'empty' | 'invalid' | 'grouping' | 'decimals' | 'sign' | 'currency' | 'range';

export type AmountResult = { ok: true; value: number } | { ok: false; code: 'amount_invalid'; reason: AmountErrorReason; message: string; expected: string };

export interface AmountOptions {
  /** BCP 47 tag, e.g. 'de-DE'. */
  locale: string;
  /** Digits after the decimal point (2 for EUR, 0 for JPY); see currencyDigits. */
  digits: number;
  /** ISO 4217 code: its symbols and code are allowed around the number, other currencies are refused. */
  currency?: string;
  /** 'reject' when the user says elsewhere whether money goes out or in (the sign is then a mistake). */
  sign?: 'allow' | 'reject';
  /** Accept a trailing minus ("12,50-"), as some bank exports write debits. */
  trailingMinus?: boolean;
}

export interface NumberSymbols {
  locale: string;
  decimal: string;
  group: string;
  /** Digits in the last integer group (3), and in the groups before it (3; 2 in en-IN); 0 when ungrouped. */
  primary: number;
  secondary: number;
}

const BIDI = /[\u200e\u200f\u061c]/g;
const SPACES = [' ', '\u00a0', '\u202f', '\u2009'];
const APOSTROPHES = ["'", '\u2019'];
const MINUS = ['-', '\u2212'];

// The zero of each decimal-digit script a locale may format with (Arabic-Indic, extended Arabic-Indic,
// Devanagari, Bengali, Gurmukhi, Gujarati, Oriya, Tamil, Telugu, Kannada, Malayalam, Thai, Lao, fullwidth).
const ZEROS = [0x660, 0x6f0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xe50, 0xed0, 0xff10];

/** Maps those digits to ASCII, so "١٢٣" reads as 123. */
function asciiDigits(s: string): string {
  return s.replace(/\p{Nd}/gu, (d) => {
    const cp = d.codePointAt(0)!;
    const zero = ZEROS.find((z) => cp >= z && cp <= z + 9);
    return zero === undefined ? d : String(cp - zero);
  });
}

const symbolCache = new Map<string, NumberSymbols>();

export function numberSymbols(locale: string): NumberSymbols {
  let s = symbolCache.get(locale);
  if (s) return s;
  const parts = new Intl.NumberFormat(locale).formatToParts(1234567.891);
  const ints = parts.filter((p) => p.type === 'integer').map((p) => p.value);
  s = {
    locale: new Intl.NumberFormat(locale).resolvedOptions().locale,
    decimal: parts.find((p) => p.type === 'decimal')?.value ?? '.',
    group: parts.find((p) => p.type === 'group')?.value ?? '',
    primary: ints.length > 1 ? ints[ints.length - 1]!.length : 0,
    secondary: ints.length > 2 ? ints[ints.length - 2]!.length : ints.length > 1 ? ints[ints.length - 1]!.length : 0,
  };
  symbolCache.set(locale, s);
  return s;
}

/** Digits after the decimal point for a currency (EUR 2, JPY 0, KWD 3), from Intl. */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Whether `tag` is a well-formed locale this runtime can format numbers and dates in. */
export function isSupportedLocale(tag: string): boolean {
  try {
    const [canonical] = Intl.getCanonicalLocales(tag);
    return canonical !== undefined && Intl.NumberFormat.supportedLocalesOf(canonical).length > 0 && Intl.DateTimeFormat.supportedLocalesOf(canonical).length > 0;
  } catch {
    return false;
  }
}

function currencyTokens(currency: string, locale: string): string[] {
  const out = new Set<string>([currency]);
  for (const loc of [locale, 'en']) {
    for (const display of ['symbol', 'narrowSymbol'] as const) {
      try {
        const part = new Intl.NumberFormat(loc, { style: 'currency', currency, currencyDisplay: display }).formatToParts(1).find((p) => p.type === 'currency');
        if (part) out.add(part.value);
      } catch {
        // an unknown currency: only its code
      }
    }
  }
  // Longest first, so "US$" is taken before "$".
  return [...out].sort((a, b) => b.length - a.length);
}

const ANY_CURRENCY = /^(?:[A-Z]{3}|[A-Z]{1,2}\$|[$€£¥₹₩₽¤])/u;
const ANY_CURRENCY_END = /(?:[A-Z]{3}|[A-Z]{1,2}\$|[$€£¥₹₩₽¤])$/u;

/** "1.234.567,50" in de-DE, "12,34,567.50" in en-IN: how an amount should be written, for messages. */
export function amountExample(locale: string, digits: number): string {
  return new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(digits > 0 ? 1234567.5 : 1234567);
}

const quote = (s: string) => (s === ' ' || s === '\u00a0' || s === '\u202f' || s === '\u2009' ? 'a space' : `"${s}"`);

/** Parses what a person typed (or a bank wrote) as an amount in `locale`; minor units, or why not. */
export function parseLocaleAmount(text: string, options: AmountOptions): AmountResult {
  const sym = numberSymbols(options.locale);
  const digits = options.digits;
  const expected = amountExample(options.locale, digits);
  const fail = (reason: AmountErrorReason, why: string): AmountResult => ({
    ok: false,
    code: 'amount_invalid',
    reason,
    expected,
    message: `${JSON.stringify(text.trim())} is not an amount in ${sym.locale}: ${why}`,
  });
  let s = asciiDigits(text.replace(BIDI, '')).trim();
  if (s === '') return { ok: false, code: 'amount_invalid', reason: 'empty', expected, message: `enter an amount, e.g. ${expected}` };

  let negative = false;
  let signed = false;
  if (s.startsWith('(') && s.endsWith(')')) {
    negative = signed = true;
    s = s.slice(1, -1).trim();
  }
  const tokens = options.currency ? currencyTokens(options.currency, options.locale) : null;
  const takeCurrency = (atEnd: boolean): boolean => {
    if (tokens) {
      for (const t of tokens) {
        if (atEnd ? s.endsWith(t) : s.startsWith(t)) {
          s = (atEnd ? s.slice(0, -t.length) : s.slice(t.length)).trim();
          return true;
        }
      }
      return false;
    }
    const m = (atEnd ? ANY_CURRENCY_END : ANY_CURRENCY).exec(s);
    if (!m) return false;
    s = (atEnd ? s.slice(0, -m[0].length) : s.slice(m[0].length)).trim();
    return true;
  };
  const takeSign = (atEnd: boolean): boolean => {
    const c = atEnd ? s.slice(-1) : s.slice(0, 1);
    if (MINUS.includes(c) || (!atEnd && c === '+')) {
      if (signed) return false;
      signed = true;
      negative = c !== '+';
      s = (atEnd ? s.slice(0, -1) : s.slice(1)).trim();
      return true;
    }
    return false;
  };
  // A sign and a currency before the number, in either order ("-€5", "€-5", "EUR -5").
  for (let i = 0; i < 2; i++) if (!takeSign(false)) takeCurrency(false);
  takeCurrency(true);
  if (options.trailingMinus && takeSign(true)) takeCurrency(true);

  if (/[A-Za-z$€£¥₹₩₽¤]/u.test(s)) {
    return fail('currency', options.currency ? `only ${options.currency} is expected here` : 'it has letters or symbols besides the number');
  }
  if (signed && options.sign === 'reject') {
    return { ok: false, code: 'amount_invalid', reason: 'sign', expected, message: `enter the amount without a sign (${JSON.stringify(text.trim())}); whether money goes out or comes in is chosen separately` };
  }

  const groups = SPACES.includes(sym.group) ? SPACES : APOSTROPHES.includes(sym.group) ? APOSTROPHES : sym.group ? [sym.group] : [];
  const sizes = sym.secondary !== sym.primary && sym.secondary ? `${sym.primary}, then ${sym.secondary}` : `${sym.primary}`;
  const convention = `${sym.group ? `${quote(sym.group)} separates groups of ${sizes} digits and ` : ''}${quote(sym.decimal)} marks the decimals, e.g. ${expected}`;
  const decimalAt = s.indexOf(sym.decimal);
  if (decimalAt !== s.lastIndexOf(sym.decimal)) return fail('invalid', convention);
  const whole = decimalAt >= 0 ? s.slice(0, decimalAt) : s;
  const frac = decimalAt >= 0 ? s.slice(decimalAt + sym.decimal.length) : '';
  if (!/^\d*$/.test(frac)) return fail('invalid', convention);
  if (whole === '' && frac === '') return fail('invalid', convention);

  let intDigits = whole;
  if (!/^\d*$/.test(whole)) {
    // Grouped: every separator must be this locale's, and the groups the locale's sizes.
    if ([...whole].some((c) => !/\d/.test(c) && !groups.includes(c))) return fail('invalid', convention);
    const parts = whole.split(new RegExp(`[${groups.map((g) => g.replace(/[\\^\]-]/g, '\\$&')).join('')}]`));
    const ok =
      groups.length > 0 &&
      parts.every((p) => /^\d+$/.test(p)) &&
      parts.length > 1 &&
      parts[0]!.length <= (parts.length > 2 ? sym.secondary : sym.primary) &&
      parts[parts.length - 1]!.length === sym.primary &&
      parts.slice(1, -1).every((p) => p.length === sym.secondary);
    if (!ok) return fail('grouping', convention);
    intDigits = parts.join('');
  }
  if (frac.length > digits) {
    return fail('decimals', digits === 0 ? `${options.currency ?? 'this currency'} has no decimals` : `at most ${digits} decimals (${convention})`);
  }
  const value = Number(`${intDigits || '0'}${frac.padEnd(digits, '0')}`);
  if (!Number.isSafeInteger(value)) return fail('range', 'it is too large');
  return { ok: true, value: negative && value !== 0 ? -value : value };
}

/** Minor units as a plain decimal in `locale` without grouping or currency ("85,20"): what an edit field shows. */
export function formatAmountInput(minor: number, digits: number, locale: string): string {
  return new Intl.NumberFormat(locale, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false }).format(Math.abs(minor) / 10 ** digits);
}

/** Minor units with the currency, in `locale` ("−85,20 €"). */
export function formatMoneyIn(minor: number, currency: string, locale: string): string {
  const digits = currencyDigits(currency);
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(minor / 10 ** digits);
  } catch {
    return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
  }
}
