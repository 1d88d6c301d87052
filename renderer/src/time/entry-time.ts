// Times in the entry forms: <input type="datetime-local"> values on the user's clock, and durations typed
// as hours ("1.5", "1,5") or h:mm ("1:30").

/** An instant as a datetime-local value (local time, to the minute). */
export function toLocalInput(iso: string | number): string {
  const d = new Date(iso);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A datetime-local value as epoch ms; null when empty or not a time. */
export function fromLocalInput(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? null : t;
}

/** "1.5", "1,5", "1:30" or "0:05" → milliseconds; null when it is none of these (or over a year). */
export function parseDuration(text: string): number | null {
  const t = text.trim();
  let ms: number;
  const hm = /^(\d{1,4}):([0-5]\d)$/.exec(t);
  if (hm) ms = (Number(hm[1]) * 60 + Number(hm[2])) * 60_000;
  else if (/^\d{1,4}([.,]\d{1,4})?$/.test(t)) ms = Math.round(Number(t.replace(',', '.')) * 3_600_000);
  else return null;
  return ms <= 366 * 86_400_000 ? ms : null;
}

/** Milliseconds as h:mm (minutes rounded). */
export function formatHm(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}`;
}
