// Amounts and dates that arrive as text (typed in the app, or written by the model) read with the shared
// locale rules (src/locale): strict, and a typed error saying what was expected instead of a guess.
import { currencyDigits, isSupportedLocale, parseLocaleAmount, parseLocaleDate } from '../../locale/index.js';
import { ToolError } from '../errors.js';

export type EntryKind = 'expense' | 'income';

/** The locale of this machine (the OS's), for when the user has not chosen one. */
export function systemLocale(): string {
  return new Intl.DateTimeFormat().resolvedOptions().locale;
}

export function checkLocale(locale: string, field = 'locale'): string {
  if (!isSupportedLocale(locale)) throw new ToolError('invalid_params', `${JSON.stringify(locale)} is not a locale this runtime knows (e.g. de-DE, en-US)`, { details: { fields: [{ path: field, message: 'unknown locale' }] } });
  return locale;
}

/** Minor units from text in `locale`; amount_invalid with the expected form when it does not read strictly. */
export function amountFromText(text: string, currency: string, locale: string, options: { sign?: 'allow' | 'reject'; field?: string } = {}): number {
  const r = parseLocaleAmount(text, { locale: checkLocale(locale), digits: currencyDigits(currency), currency, sign: options.sign ?? 'allow' });
  if (!r.ok) throw new ToolError('amount_invalid', r.message, { details: { field: options.field ?? 'amount', value: text, locale, reason: r.reason, expected: r.expected } });
  return r.value;
}

/** YYYY-MM-DD from a date typed in `locale`'s order (or ISO); date_invalid otherwise. */
export function dateFromText(text: string, locale: string, field = 'date'): string {
  const r = parseLocaleDate(text, checkLocale(locale));
  if (!r.ok) throw new ToolError('date_invalid', r.message, { details: { field, value: text, locale, expected: r.expected } });
  return r.value;
}

/** A decimal number (as JSON carries it) in minor units; amount_invalid when it has more decimals than the currency. */
export function amountFromNumber(amount: number, currency: string, field = 'amount'): number {
  const digits = currencyDigits(currency);
  const scaled = amount * 10 ** digits;
  const minor = Math.round(scaled);
  // A binary float is never exact: within a millionth of a minor unit counts as exact ("85.2" is 8520).
  if (!Number.isFinite(amount) || Math.abs(scaled - minor) > 1e-6 * Math.max(1, Math.abs(scaled)) || !Number.isSafeInteger(minor)) {
    throw new ToolError('amount_invalid', `amount ${amount} is not an amount of ${currency} (at most ${digits} decimals)`, { details: { field, value: amount, reason: 'decimals' } });
  }
  return minor;
}

export interface AmountInput {
  /** Integer minor units (the API's own form). */
  amount?: number | undefined;
  /** Or text as the user typed it, read in `locale`. */
  amountText?: string | undefined;
  /** Expense or income, chosen by the user: the amount is then given without a sign. */
  kind?: EntryKind | undefined;
  locale?: string | undefined;
}

/**
 * The signed minor units of an input, or undefined when it has no amount. With a kind, the text must carry no
 * sign and a number must not be negative: the kind says which way the money goes.
 */
export function resolveAmount(input: AmountInput, currency: string, defaultLocale: string): number | undefined {
  if (input.amount !== undefined && input.amountText !== undefined) {
    throw new ToolError('invalid_params', 'give amount (minor units) or amountText, not both', { details: { fields: [{ path: 'amountText', message: 'conflicts with amount' }] } });
  }
  let value: number;
  if (input.amountText !== undefined) {
    value = amountFromText(input.amountText, currency, input.locale ?? defaultLocale, { sign: input.kind ? 'reject' : 'allow', field: 'amountText' });
  } else if (input.amount !== undefined) {
    value = input.amount;
    if (input.kind && value < 0) throw new ToolError('amount_invalid', `amount ${value} is negative although kind is ${input.kind}: give the amount without a sign`, { details: { field: 'amount', value, reason: 'sign' } });
  } else {
    if (input.kind) throw new ToolError('invalid_params', 'kind needs an amount', { details: { fields: [{ path: 'kind', message: 'without an amount' }] } });
    return undefined;
  }
  if (input.kind === 'expense') return value === 0 ? 0 : -Math.abs(value);
  if (input.kind === 'income') return Math.abs(value);
  return value;
}
