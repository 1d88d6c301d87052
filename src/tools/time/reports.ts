// Reports: time by day, ISO week or project, with billable totals. An entry's billable amount is
// duration × hourly rate, computed in integers (BigInt: ms × minor units can pass 2^53) and rounded half
// up to a minor unit per entry, so every grouping of the same entries adds up to the same total.
import { ToolError } from '../errors.js';
import { isIsoDate } from '../finance/dates.js';
import type { Entries, TimeEntry } from './entries.js';
import type { Project, Projects } from './projects.js';
import type { ReportGroup, MoneyTotal } from './types.js';

export type { ReportGroup, MoneyTotal } from './types.js';

export type ReportGrouping = 'day' | 'week' | 'project';

export interface ReportOptions {
  groupBy: ReportGrouping;
  /** First day, YYYY-MM-DD (local to tzOffsetMinutes). */
  from?: string;
  /** Last day, inclusive. */
  to?: string;
  projectId?: number;
  tag?: string;
  /** Minutes east of UTC of the user's clock (e.g. 60 for CET); default: this machine's current offset. */
  tzOffsetMinutes?: number;
}



export interface Report {
  groupBy: ReportGrouping;
  from: string | null;
  to: string | null;
  groups: ReportGroup[];
  totals: Omit<ReportGroup, 'key' | 'label'>;
  /** Per project in the report that has a budget: the budget and how much of it all its billable time uses. */
  budgets: { projectId: number; project: string; currency: string; budget: number; used: number; remaining: number }[];
}

const HOUR_MS = 3_600_000n;

/** round_half_up(durationMs × rate / 3 600 000), in minor units. */
export function billableAmount(durationMs: number, hourlyRate: number): number {
  const num = BigInt(durationMs) * BigInt(hourlyRate);
  const q = num / HOUR_MS;
  const r = num % HOUR_MS;
  return Number(r * 2n >= HOUR_MS ? q + 1n : q);
}

/** "1.50" for 5 400 000 ms (hundredths of an hour, rounded half up). */
export function formatHours(ms: number): string {
  const hundredths = Math.floor((ms * 100 + 1_800_000) / 3_600_000);
  return `${Math.floor(hundredths / 100)}.${String(hundredths % 100).padStart(2, '0')}`;
}

export function localDay(ms: number, tzOffsetMinutes: number): string {
  return new Date(ms + tzOffsetMinutes * 60_000).toISOString().slice(0, 10);
}

/** ISO 8601 week of a YYYY-MM-DD day: 'YYYY-Www' (weeks start on Monday; week 1 holds January 4). */
export function isoWeek(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const dow = (d.getUTCDay() + 6) % 7; // Monday 0
  const thursday = new Date(d.getTime() + (3 - dow) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const jan1 = Date.UTC(year, 0, 1);
  const week = Math.floor((thursday.getTime() - jan1) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The Monday of the ISO week of a day. */
export function weekStart(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  const dow = (d.getUTCDay() + 6) % 7;
  return new Date(d.getTime() - dow * 86_400_000).toISOString().slice(0, 10);
}

export function dayBounds(from: string | undefined, to: string | undefined, tz: number): { from?: number; to?: number } {
  const out: { from?: number; to?: number } = {};
  for (const [k, v] of [['from', from], ['to', to]] as const) {
    if (v === undefined) continue;
    if (!isIsoDate(v)) throw new ToolError('invalid_params', `${k} must be YYYY-MM-DD`, { details: { fields: [{ path: k, message: 'invalid date' }] } });
    const start = Date.parse(`${v}T00:00:00Z`) - tz * 60_000;
    out[k] = k === 'from' ? start : start + 86_400_000;
  }
  return out;
}

export function currentTzOffset(): number {
  return -new Date().getTimezoneOffset();
}

export class Reports {
  constructor(
    private readonly entries: Entries,
    private readonly projects: Projects,
  ) {}

  report(options: ReportOptions): Report {
    const tz = options.tzOffsetMinutes ?? currentTzOffset();
    const bounds = dayBounds(options.from, options.to, tz);
    const entries = this.entries.all({
      ...bounds,
      ...(options.projectId !== undefined ? { projectId: options.projectId } : {}),
      ...(options.tag !== undefined ? { tag: options.tag } : {}),
    });
    const projects = new Map<number, Project>(this.projects.list().map((p) => [p.id, p]));
    const groups = new Map<string, { label: string; list: TimeEntry[] }>();
    for (const e of entries) {
      const day = localDay(Date.parse(e.startAt), tz);
      let key: string;
      let label: string;
      if (options.groupBy === 'day') {
        key = day;
        label = day;
      } else if (options.groupBy === 'week') {
        key = isoWeek(day);
        label = `${key} (from ${weekStart(day)})`;
      } else {
        key = String(e.projectId);
        label = e.project;
      }
      const g = groups.get(key) ?? { label, list: [] };
      g.list.push(e);
      groups.set(key, g);
    }
    const summarize = (list: TimeEntry[]) => {
      let totalMs = 0;
      let billableMs = 0;
      const amounts = new Map<string, number>();
      for (const e of list) {
        totalMs += e.durationMs;
        if (!e.billable) continue;
        billableMs += e.durationMs;
        const p = projects.get(e.projectId);
        if (!p) continue;
        amounts.set(p.currency, (amounts.get(p.currency) ?? 0) + billableAmount(e.durationMs, p.hourlyRate));
      }
      return {
        totalMs,
        billableMs,
        hours: formatHours(totalMs),
        billableHours: formatHours(billableMs),
        amounts: [...amounts.entries()].sort().map(([currency, amount]) => ({ currency, amount })),
        entries: list.length,
      };
    };
    const sorted = [...groups.entries()].sort((a, b) =>
      options.groupBy === 'project' ? a[1].label.localeCompare(b[1].label) : a[0].localeCompare(b[0]),
    );
    const budgets: Report['budgets'] = [];
    // Budgets are for a project's whole life, whatever the report's period.
    for (const id of new Set(entries.map((e) => e.projectId))) {
      const p = projects.get(id);
      if (!p || p.budget === null) continue;
      const used = this.entries
        .all({ projectId: id, billable: true })
        .reduce((s, e) => s + billableAmount(e.durationMs, p.hourlyRate), 0);
      budgets.push({ projectId: id, project: p.name, currency: p.currency, budget: p.budget, used, remaining: p.budget - used });
    }
    return {
      groupBy: options.groupBy,
      from: options.from ?? null,
      to: options.to ?? null,
      groups: sorted.map(([key, g]) => ({ key, label: g.label, ...summarize(g.list) })),
      totals: summarize(entries),
      budgets,
    };
  }
}
