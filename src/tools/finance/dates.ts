// Calendar dates as 'YYYY-MM-DD' strings, and parsing of the formats bank exports use, described with
// tokens: YYYY, YY, MM, M, DD, D (M and D accept one or two digits); anything else is a literal.

export const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
export const MONTH_RE = /^\d{4}-\d{2}$/;

export function isValidDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1 || y < 1 || y > 9999) return false;
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  return d <= days;
}

export function isIsoDate(s: string): boolean {
  if (!ISO_DATE_RE.test(s)) return false;
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  return isValidDate(y, m, d);
}

export function isMonth(s: string): boolean {
  if (!MONTH_RE.test(s)) return false;
  const m = Number(s.slice(5));
  return m >= 1 && m <= 12;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function isoDate(y: number, m: number, d: number): string {
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

/** First and last day of a month 'YYYY-MM'. */
export function monthRange(month: string): { from: string; to: string } {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7));
  return { from: `${month}-01`, to: isoDate(y, m, new Date(Date.UTC(y, m, 0)).getUTCDate()) };
}

const TOKEN_RE = /YYYY|YY|MM|DD|M|D/g;

function compile(format: string): { re: RegExp; fields: string[] } {
  const fields: string[] = [];
  let src = '^';
  let last = 0;
  for (const m of format.matchAll(TOKEN_RE)) {
    src += format.slice(last, m.index).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    fields.push(m[0]);
    src += { YYYY: '(\\d{4})', YY: '(\\d{2})', MM: '(\\d{2})', DD: '(\\d{2})', M: '(\\d{1,2})', D: '(\\d{1,2})' }[m[0]];
    last = m.index + m[0].length;
  }
  src += `${format.slice(last).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`;
  return { re: new RegExp(src), fields };
}

const cache = new Map<string, { re: RegExp; fields: string[] }>();

/** Whether a format has a year, a month and a day. */
export function isValidDateFormat(format: string): boolean {
  const { fields } = compile(format);
  const has = (...t: string[]) => fields.filter((f) => t.includes(f)).length === 1;
  return has('YYYY', 'YY') && has('MM', 'M') && has('DD', 'D');
}

/** Parses `text` in `format` into 'YYYY-MM-DD'; null when it does not match or is not a real date. */
export function parseDate(text: string, format: string): string | null {
  let c = cache.get(format);
  if (!c) {
    c = compile(format);
    cache.set(format, c);
  }
  const m = c.re.exec(text.trim());
  if (!m) return null;
  let y = 0;
  let mo = 0;
  let d = 0;
  c.fields.forEach((f, i) => {
    const v = Number(m[i + 1]);
    if (f === 'YYYY') y = v;
    else if (f === 'YY') y = v < 70 ? 2000 + v : 1900 + v;
    else if (f === 'MM' || f === 'M') mo = v;
    else d = v;
  });
  return isValidDate(y, mo, d) ? isoDate(y, mo, d) : null;
}
