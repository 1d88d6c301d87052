// CSV export of time entries, with each entry's billable amount.
import { stringify } from 'csv-stringify/sync';
import { currencyDigits, formatMinor } from '../finance/money.js';
import type { EntryFilter, Entries } from './entries.js';
import type { Projects } from './projects.js';
import { billableAmount, formatHours } from './reports.js';

export const TIME_CSV_COLUMNS = ['id', 'project', 'client', 'description', 'start', 'end', 'duration_minutes', 'hours', 'billable', 'rate', 'amount', 'currency', 'tags'] as const;

export function exportEntriesCsv(entries: Entries, projects: Projects, filter: Omit<EntryFilter, 'limit' | 'offset'> = {}): string {
  const byId = new Map(projects.list().map((p) => [p.id, p]));
  const rows = entries.all(filter).map((e) => {
    const p = byId.get(e.projectId);
    const digits = currencyDigits(p?.currency ?? 'USD');
    const amount = e.billable && p ? billableAmount(e.durationMs, p.hourlyRate) : 0;
    return [
      e.id,
      e.project,
      p?.client ?? '',
      e.description,
      e.startAt,
      e.endAt,
      Math.round(e.durationMs / 60_000),
      formatHours(e.durationMs),
      e.billable ? 'yes' : 'no',
      p ? formatMinor(p.hourlyRate, digits) : '',
      formatMinor(amount, digits),
      p?.currency ?? '',
      e.tags.join(';'),
    ];
  });
  return stringify(rows, { header: true, columns: [...TIME_CSV_COLUMNS] });
}
