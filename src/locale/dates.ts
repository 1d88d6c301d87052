// Calendar dates as people type them: in the locale's order (22.11.2025 in de-DE, 11/22/2025 in en-US,
// 2025/11/22 in ja-JP) or as ISO YYYY-MM-DD, always accepted. Years have four digits: "03/04/25" could be
// read several ways and is refused, never guessed. Pure (Intl only) and shared by the backend and the renderer.

export type DateResult = { ok: true; value: string } | { ok: false; code: 'date_invalid'; message: string; expected: string };

export interface DatePattern {
  /** The order of the fields, e.g. ['D', 'M', 'Y']. */
  order: ('Y' | 'M' | 'D')[];
  /** For people: "DD.MM.YYYY", "MM/DD/YYYY", "YYYY/MM/DD" (also a valid CSV import dateFormat). */
  pattern: string;
}

const cache = new Map<string, DatePattern>();

const SAMPLE = new Date(Date.UTC(2001, 10, 22));
const fieldFormat = (locale: string) => new Intl.DateTimeFormat(locale, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC', numberingSystem: 'latn' });

export function datePattern(locale: string): DatePattern {
  let p = cache.get(locale);
  if (p) return p;
  const order: DatePattern['order'] = [];
  let pattern = '';
  for (const part of fieldFormat(locale).formatToParts(SAMPLE)) {
    if (part.type === 'year') {
      order.push('Y');
      pattern += 'YYYY';
    } else if (part.type === 'month') {
      order.push('M');
      pattern += 'MM';
    } else if (part.type === 'day') {
      order.push('D');
      pattern += 'DD';
    } else if (part.type === 'literal') pattern += part.value.replace(/[\u200e\u200f\u061c]/g, '');
  }
  if (order.length !== 3) {
    order.splice(0, order.length, 'Y', 'M', 'D');
    pattern = 'YYYY-MM-DD';
  }
  p = { order, pattern: pattern.trim() };
  cache.set(locale, p);
  return p;
}

function realDate(y: number, m: number, d: number): boolean {
  if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, m, 0)).getUTCDate();
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Parses a date typed in `locale`'s order, or ISO YYYY-MM-DD, into YYYY-MM-DD. */
export function parseLocaleDate(text: string, locale: string): DateResult {
  const { order, pattern } = datePattern(locale);
  const expected = pattern === 'YYYY-MM-DD' ? pattern : `${pattern} or YYYY-MM-DD`;
  const s = text.replace(/[\u200e\u200f\u061c]/g, '').trim();
  const fail = (why: string): DateResult => ({ ok: false, code: 'date_invalid', expected, message: `${JSON.stringify(s)} is not a date${why}: write it as ${expected}` });
  if (s === '') return { ok: false, code: 'date_invalid', expected, message: `enter a date as ${expected}` };
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (iso) {
    const [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    return realDate(y, m, d) ? { ok: true, value: s } : fail(' (no such day)');
  }
  // The locale's order with any of the usual separators; a trailing dot as Korean and Hungarian write.
  const fields = s.replace(/\.$/, '').split(/\s*[./-]\s*|\s+/);
  if (fields.length !== 3 || !fields.every((f) => /^\d+$/.test(f))) return fail(` in ${locale}`);
  const v: Record<'Y' | 'M' | 'D', string> = { Y: '', M: '', D: '' };
  order.forEach((k, i) => (v[k] = fields[i]!));
  if (v.Y.length !== 4) return fail(' (the year needs four digits)');
  if (v.M.length > 2 || v.D.length > 2) return fail(` in ${locale}`);
  const [y, m, d] = [Number(v.Y), Number(v.M), Number(v.D)];
  if (!realDate(y, m, d)) return fail(` in ${locale} (no such day)`);
  return { ok: true, value: `${pad(y, 4)}-${pad(m)}-${pad(d)}` };
}

/** YYYY-MM-DD as the locale writes it with numbers ("22.11.2025"): what a date field shows, and parses back. */
export function formatDateInput(iso: string, locale: string): string {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  return fieldFormat(locale).format(new Date(Date.UTC(y, m - 1, d))).replace(/[\u200e\u200f\u061c]/g, '');
}

/** YYYY-MM-DD for reading ("22 Nov 2025", "Nov 22, 2025"). */
export function formatDateShort(iso: string, locale: string): string {
  const [y, m, d] = iso.split('-').map(Number) as [number, number, number];
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date(Date.UTC(y, m - 1, d)));
}
