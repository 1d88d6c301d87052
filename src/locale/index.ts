// Reading and writing numbers, amounts and dates in the user's locale (Intl). Pure: the backend and the
// renderer import the same rules.
export { parseLocaleAmount, formatAmountInput, formatMoneyIn, amountExample, numberSymbols, currencyDigits, isSupportedLocale, type AmountOptions, type AmountResult, type AmountErrorReason, type NumberSymbols } from './numbers.js';
export { parseLocaleDate, formatDateInput, formatDateShort, datePattern, type DatePattern, type DateResult } from './dates.js';
