// The user's locale for numbers, amounts and dates: the one chosen in Settings (kept by the backend in
// /api/settings), else this browser's. Reading and formatting use the same rules as the backend
// (src/locale, bundled in by esbuild). Components follow changes through LocaleController.
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ApiError } from '../api/client.js';
import { currencyDigits, formatDateInput, formatDateShort, formatMoneyIn, isSupportedLocale } from '../../../src/locale/index.js';
import { api, reportError } from '../store.js';

/** Offered in the pickers (any other tag the browser knows works too when it is the browser's own). */
export const COMMON_LOCALES = ['en-US', 'en-GB', 'en-IN', 'de-DE', 'de-AT', 'de-CH', 'fr-FR', 'fr-CA', 'es-ES', 'es-MX', 'it-IT', 'nl-NL', 'pt-BR', 'pt-PT', 'pl-PL', 'sv-SE', 'da-DK', 'nb-NO', 'fi-FI', 'cs-CZ', 'tr-TR', 'ru-RU', 'uk-UA', 'ja-JP', 'ko-KR', 'zh-CN'];

let chosen: string | null = null;
let loading: Promise<void> | null = null;
const listeners = new Set<() => void>();

/** This browser's locale (navigator.language), when Intl knows it. */
export function browserLocale(): string {
  const tag = globalThis.navigator?.language;
  return tag && isSupportedLocale(tag) ? tag : new Intl.DateTimeFormat().resolvedOptions().locale;
}

/** The locale in use: the chosen one, else the browser's. */
export function userLocale(): string {
  return chosen ?? browserLocale();
}

/** The one chosen in Settings, or null (follow the browser). */
export function chosenLocale(): string | null {
  return chosen;
}

function changed(): void {
  for (const fn of listeners) fn();
}

/** Reads the setting once per page (again with `force`); a backend without settings means the browser's. */
export function loadLocale(force = false): Promise<void> {
  if (loading && !force) return loading;
  loading = (async () => {
    try {
      const s = await api().get<{ locale?: string | null }>('/api/settings');
      const next = s.locale ?? null;
      if (next !== chosen) {
        chosen = next;
        changed();
      }
    } catch (err) {
      if (!(err instanceof ApiError && err.isMissingRoute)) reportError(err, 'Could not read the locale setting');
    }
  })();
  return loading;
}

/** Saves the choice (null: follow the browser). */
export async function saveLocale(locale: string | null): Promise<void> {
  const s = await api().patch<{ locale?: string | null }>('/api/settings', { locale });
  chosen = s.locale ?? null;
  changed();
}

export function onLocaleChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** The locale's name in itself and in English: "Deutsch (Deutschland) — de-DE". */
export function localeLabel(tag: string): string {
  try {
    const own = new Intl.DisplayNames([tag], { type: 'language' }).of(tag);
    return own ? `${own} — ${tag}` : tag;
  } catch {
    return tag;
  }
}

/** Re-renders its host when the locale changes, and loads the setting when the host connects. */
export class LocaleController implements ReactiveController {
  #off: (() => void) | null = null;

  constructor(private readonly host: ReactiveControllerHost) {
    host.addController(this);
  }

  get locale(): string {
    return userLocale();
  }

  hostConnected(): void {
    this.#off = onLocaleChange(() => this.host.requestUpdate());
    void loadLocale();
  }

  hostDisconnected(): void {
    this.#off?.();
    this.#off = null;
  }
}

/** Minor units with the currency, in the user's locale. */
export function money(minor: number, currency: string): string {
  return formatMoneyIn(minor, currency, userLocale());
}

/** YYYY-MM-DD for reading, in the user's locale. */
export function shortDate(iso: string): string {
  return formatDateShort(iso, userLocale());
}

/** YYYY-MM-DD as a date field shows it, in the user's locale. */
export function dateField(iso: string): string {
  return formatDateInput(iso, userLocale());
}

export { currencyDigits };
