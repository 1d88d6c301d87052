// The shared locale rules (src/locale): amounts typed in de-DE, en-US, fr-FR (narrow no-break space), en-IN
// (lakh grouping), de-CH (apostrophes), with currency symbols, signs and parentheses; ambiguous or malformed
// input refused with what was expected; dates in the locale's order or ISO.
import { describe, expect, it } from 'vitest';
import { datePattern, formatAmountInput, formatDateInput, formatMoneyIn, isSupportedLocale, parseLocaleAmount, parseLocaleDate, type AmountOptions } from '../../src/locale/index.js';

const amount = (text: string, locale: string, o: Partial<AmountOptions> = {}) => parseLocaleAmount(text, { locale, digits: 2, ...o });
const ok = (text: string, locale: string, o: Partial<AmountOptions> = {}) => {
  const r = amount(text, locale, o);
  if (!r.ok) throw new Error(`${locale} ${JSON.stringify(text)}: ${r.message}`);
  return r.value;
};
const bad = (text: string, locale: string, o: Partial<AmountOptions> = {}) => {
  const r = amount(text, locale, o);
  if (r.ok) throw new Error(`${locale} ${JSON.stringify(text)} was read as ${r.value}`);
  return r;
};

describe('amounts', () => {
  it.each([
    ['85,20', 'de-DE', 8520],
    ['1.234,50', 'de-DE', 123450],
    ['1234,5', 'de-DE', 123450],
    ['1.234.567,89', 'de-DE', 123456789],
    ['85', 'de-DE', 8500],
    ['0,05', 'de-DE', 5],
    ['85.20', 'en-US', 8520],
    ['1,234.50', 'en-US', 123450],
    ['1234.50', 'en-US', 123450],
    ['1,234,567', 'en-US', 123456700],
    ['.5', 'en-US', 50],
    ['1\u202f234,50', 'fr-FR', 123450],
    ['1\u00a0234,50', 'fr-FR', 123450],
    ['1 234,50', 'fr-FR', 123450],
    ['12,34,567.50', 'en-IN', 123456750],
    ['1,00,000', 'en-IN', 10000000],
    ['1,234.50', 'en-IN', 123450],
    ["1'234.50", 'de-CH', 123450],
    ['1\u2019234.50', 'de-CH', 123450],
    ['1.234', 'es-ES', 123400],
    ['١٢٣٫٤٥', 'ar-EG', 12345],
  ])('%s in %s is %i minor units', (text, locale, value) => {
    expect(ok(text, locale)).toBe(value);
  });

  it('reads signs, parentheses and currency symbols or codes around the number', () => {
    expect(ok('-85,20', 'de-DE')).toBe(-8520);
    expect(ok('\u221285,20', 'de-DE')).toBe(-8520);
    expect(ok('+85,20', 'de-DE')).toBe(8520);
    expect(ok('(1,234.50)', 'en-US')).toBe(-123450);
    expect(ok('85,20 €', 'de-DE', { currency: 'EUR' })).toBe(8520);
    expect(ok('-85,20\u00a0€', 'de-DE', { currency: 'EUR' })).toBe(-8520);
    expect(ok('EUR 85,20', 'de-DE', { currency: 'EUR' })).toBe(8520);
    expect(ok('$1,234.50', 'en-US', { currency: 'USD' })).toBe(123450);
    expect(ok('-$5.00', 'en-US', { currency: 'USD' })).toBe(-500);
    expect(ok('$-5.00', 'en-US', { currency: 'USD' })).toBe(-500);
    expect(ok('₹12,34,567.00', 'en-IN', { currency: 'INR' })).toBe(123456700);
    expect(ok('1\u202f234,50\u00a0€', 'fr-FR', { currency: 'EUR' })).toBe(123450);
    expect(ok('12,50-', 'de-DE', { trailingMinus: true })).toBe(-1250);
    expect(ok('1234', 'ja-JP', { digits: 0, currency: 'JPY' })).toBe(1234);
    expect(ok('1.234', 'en-US', { digits: 3, currency: 'KWD' })).toBe(1234);
  });

  it('refuses "85,20" in en-US: there "," groups thousands in threes, so it is ambiguous, not 8520 or 85.20', () => {
    const r = bad('85,20', 'en-US');
    expect(r).toMatchObject({ code: 'amount_invalid', reason: 'grouping', expected: '1,234,567.50' });
    expect(r.message).toBe('"85,20" is not an amount in en-US: "," separates groups of 3 digits and "." marks the decimals, e.g. 1,234,567.50');
  });

  it.each([
    ['85.20', 'de-DE', 'grouping'],
    ['1.23,45', 'de-DE', 'grouping'],
    ['1,2345.00', 'en-US', 'grouping'],
    ['1234,567.00', 'en-US', 'grouping'],
    [',123', 'en-US', 'grouping'],
    ['1,234,56', 'en-US', 'grouping'],
    ['1,234,567.50', 'en-IN', 'grouping'],
    ['1.234,50', 'fr-FR', 'invalid'],
    ['1.2.3', 'en-US', 'invalid'],
    ['1,234.5.0', 'en-US', 'invalid'],
    ['12.345', 'en-US', 'decimals'],
    ['85,123', 'de-DE', 'decimals'],
    ['abc', 'en-US', 'currency'],
    ['12 apples', 'en-US', 'currency'],
    ['', 'en-US', 'empty'],
    ['   ', 'de-DE', 'empty'],
    ['-', 'en-US', 'invalid'],
    ['--5', 'en-US', 'invalid'],
    ['99999999999999999999', 'en-US', 'range'],
  ])('refuses %j in %s (%s)', (text, locale, reason) => {
    expect(bad(text, locale)).toMatchObject({ code: 'amount_invalid', reason });
  });

  it('refuses another currency and a sign where the user chose expense or income', () => {
    expect(bad('5 USD', 'de-DE', { currency: 'EUR' })).toMatchObject({ reason: 'currency' });
    expect(bad('£5', 'en-GB', { currency: 'EUR' })).toMatchObject({ reason: 'currency' });
    expect(bad('1.5', 'ja-JP', { digits: 0, currency: 'JPY' })).toMatchObject({ reason: 'decimals' });
    const r = bad('-85,20', 'de-DE', { sign: 'reject' });
    expect(r).toMatchObject({ reason: 'sign' });
    expect(r.message).toMatch(/without a sign/);
    expect(bad('(5)', 'en-US', { sign: 'reject' })).toMatchObject({ reason: 'sign' });
    expect(bad('12,50-', 'de-DE')).toMatchObject({ code: 'amount_invalid' }); // a trailing minus only where asked for
  });

  it('formats for edit fields and display so that the field parses back', () => {
    for (const [locale, text] of [['de-DE', '1234,50'], ['en-US', '1234.50'], ['fr-FR', '1234,50'], ['en-IN', '1234.50']] as const) {
      expect(formatAmountInput(-123450, 2, locale)).toBe(text);
      expect(ok(text, locale)).toBe(123450);
    }
    expect(formatMoneyIn(-8520, 'EUR', 'de-DE')).toBe('-85,20\u00a0€');
    expect(formatMoneyIn(123456750, 'INR', 'en-IN')).toBe('₹12,34,567.50');
    expect(ok(formatMoneyIn(123450, 'EUR', 'fr-FR'), 'fr-FR', { currency: 'EUR' })).toBe(123450);
    expect(ok(formatMoneyIn(-123450, 'USD', 'en-US'), 'en-US', { currency: 'USD' })).toBe(-123450);
  });

  it('knows which locales exist', () => {
    expect(isSupportedLocale('de-DE')).toBe(true);
    expect(isSupportedLocale('en-IN')).toBe(true);
    expect(isSupportedLocale('not a locale')).toBe(false);
    expect(isSupportedLocale('')).toBe(false);
  });
});

describe('dates', () => {
  it('has the locale order', () => {
    expect(datePattern('de-DE').pattern).toBe('DD.MM.YYYY');
    expect(datePattern('en-US').pattern).toBe('MM/DD/YYYY');
    expect(datePattern('en-GB').pattern).toBe('DD/MM/YYYY');
    expect(datePattern('ja-JP').pattern).toBe('YYYY/MM/DD');
  });

  it.each([
    ['22.11.2025', 'de-DE', '2025-11-22'],
    ['4.3.2025', 'de-DE', '2025-03-04'],
    ['03/04/2025', 'en-US', '2025-03-04'],
    ['03/04/2025', 'en-GB', '2025-04-03'],
    ['2025/03/04', 'ja-JP', '2025-03-04'],
    ['2025. 03. 04.', 'ko-KR', '2025-03-04'],
    ['04-03-2025', 'nl-NL', '2025-03-04'],
    ['2025-03-04', 'en-US', '2025-03-04'],
    ['2024-02-29', 'de-DE', '2024-02-29'],
  ])('%s in %s is %s', (text, locale, iso) => {
    expect(parseLocaleDate(text, locale)).toEqual({ ok: true, value: iso });
  });

  it.each([
    ['13/25/2024', 'en-US', /no such day/],
    ['22.11.2025', 'en-US', /no such day/],
    ['03/04/25', 'en-US', /four digits/],
    ['2023-02-29', 'de-DE', /no such day/],
    ['yesterday', 'de-DE', /DD\.MM\.YYYY or YYYY-MM-DD/],
    ['', 'en-US', /MM\/DD\/YYYY or YYYY-MM-DD/],
    ['1.2.3.2025', 'de-DE', /not a date/],
  ])('refuses %j in %s', (text, locale, message) => {
    const r = parseLocaleDate(text, locale);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('date_invalid');
      expect(r.message).toMatch(message);
    }
  });

  it('formats for date fields so that they parse back', () => {
    for (const locale of ['de-DE', 'en-US', 'fr-FR', 'ja-JP', 'ko-KR', 'en-IN']) {
      expect(parseLocaleDate(formatDateInput('2025-03-04', locale), locale)).toEqual({ ok: true, value: '2025-03-04' });
    }
    expect(formatDateInput('2025-03-04', 'de-DE')).toBe('04.03.2025');
  });
});
