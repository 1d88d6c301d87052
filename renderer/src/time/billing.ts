// Billable amounts for the report card: one line per project (billable hours × the project's hourly rate)
// and a total per currency. The amounts themselves come from the backend's report (rounded per entry in
// integers, src/tools/time/reports.ts), so the screen and the CSV export can never disagree; this only
// pairs them with each project's rate and currency and formats them with Intl.
import type { MoneyTotal, Project, ReportGroup } from '../../../src/tools/time/types.js';

export interface BillableLine {
  projectId: number;
  project: string;
  billableMs: number;
  /** Minor units of `currency` per hour. */
  rate: number;
  currency: string;
  /** Minor units. */
  amount: number;
}

export interface BillableSummary {
  lines: BillableLine[];
  /** One per currency: amounts in different currencies are never added. */
  totals: MoneyTotal[];
}

/** The lines and totals of a report grouped by project. */
export function billableSummary(report: { groups: ReportGroup[]; totals: { amounts: MoneyTotal[] } }, projects: readonly Project[]): BillableSummary {
  const byId = new Map(projects.map((p) => [String(p.id), p]));
  const lines: BillableLine[] = [];
  for (const g of report.groups) {
    const p = byId.get(g.key);
    if (!p || g.billableMs === 0) continue;
    lines.push({
      projectId: p.id,
      project: p.name,
      billableMs: g.billableMs,
      rate: p.hourlyRate,
      currency: p.currency,
      amount: g.amounts.find((a) => a.currency === p.currency)?.amount ?? 0,
    });
  }
  return { lines, totals: report.totals.amounts.filter((a) => lines.some((l) => l.currency === a.currency)) };
}

/** Minor units as money in the user's locale (`locale` undefined: the browser's). */
export function formatAmount(minor: number, currency: string, locale?: string): string {
  const f = new Intl.NumberFormat(locale, { style: 'currency', currency });
  const digits = f.resolvedOptions().maximumFractionDigits ?? 2;
  return f.format(minor / 10 ** digits);
}

/** Hours with two decimals in the user's locale ("1.50" / "1,50"). */
export function formatBillableHours(ms: number, locale?: string): string {
  return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(Math.round(ms / 36_000) / 100);
}

/**
 * A rate as the user typed it ("85", "85.5", "85,50") → minor units per hour; null when it is not a plain
 * non-negative number with at most the currency's decimals.
 */
export function parseRate(text: string, currency: string): number | null {
  const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  const t = text.trim().replace(',', '.');
  const re = digits > 0 ? new RegExp(`^\\d{1,9}(\\.\\d{1,${digits}})?$`) : /^\d{1,9}$/;
  if (!re.test(t)) return null;
  const [whole = '0', frac = ''] = t.split('.');
  return Number(whole) * 10 ** digits + (digits > 0 ? Number(frac.padEnd(digits, '0')) : 0);
}
