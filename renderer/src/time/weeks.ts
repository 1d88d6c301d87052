// ISO weeks on the user's clock, for the hours-per-week chart.

/** ISO week key 'YYYY-Www' of a local date. */
export function isoWeekKey(date: Date): string {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const dow = (d.getUTCDay() + 6) % 7;
  const thursday = new Date(d.getTime() + (3 - dow) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** A local date as YYYY-MM-DD. */
export function localIso(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The last `n` ISO weeks (oldest first) with the Monday that starts the first. */
export function lastWeeks(n: number, now = new Date()): { keys: string[]; from: string } {
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - ((now.getDay() + 6) % 7));
  const keys: string[] = [];
  for (let i = n - 1; i >= 0; i--) keys.push(isoWeekKey(new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() - 7 * i)));
  const first = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() - 7 * (n - 1));
  return { keys, from: localIso(first) };
}

export const tzOffsetMinutes = (): number => -new Date().getTimezoneOffset();
