import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import { openDatabase, type DB } from '../../src/storage/index.js';
import { TimeService, billableAmount, formatHours, isoWeek, nextOccurrence, type ReminderEvent } from '../../src/tools/time/index.js';
import { tempDir } from './helpers.js';

const H = 3_600_000;
const M = 60_000;
let dbPath: string;
let db: DB;
let clock: number;
let time: TimeService;
let cleanup: () => void;

beforeEach(() => {
  const t = tempDir();
  cleanup = t.cleanup;
  dbPath = join(t.dir, 'westfall.db');
  db = openDatabase(dbPath);
  clock = Date.parse('2024-03-04T09:00:00Z'); // a Monday
  time = new TimeService(db, { now: () => clock });
});
afterEach(() => {
  time.reminders.stop();
  if (db.open) db.close();
  cleanup();
});

describe('billable arithmetic', () => {
  it('hours × rate in integers, rounded half up per entry', () => {
    expect(billableAmount(H, 12_000)).toBe(12_000);
    expect(billableAmount(90 * M, 12_000)).toBe(18_000);
    expect(billableAmount(1, 1_800)).toBe(0); // 0.0005 cents
    expect(billableAmount(1_000, 1_800)).toBe(1); // exactly 0.5 cent rounds up
    expect(billableAmount(999, 1_800)).toBe(0);
    // 2^53-scale products stay exact
    expect(billableAmount(1_000 * H, 9_007_199_254)).toBe(9_007_199_254_000);
    expect(formatHours(90 * M)).toBe('1.50');
    expect(formatHours(20 * M)).toBe('0.33');
    expect(formatHours(0)).toBe('0.00');
    expect(isoWeek('2024-01-01')).toBe('2024-W01');
    expect(isoWeek('2023-01-01')).toBe('2022-W52');
    expect(isoWeek('2020-12-31')).toBe('2020-W53');
  });
});

describe('timer', () => {
  it('start, pause, resume, stop: paused time does not count, and the entry is written', () => {
    const p = time.projects.create({ name: 'Acme site', client: 'Acme', hourlyRate: 10_000, currency: 'EUR' });
    const events: unknown[] = [];
    time.timer.on('change', (s) => events.push(s?.state ?? null));
    time.timer.start({ projectId: p.id, description: 'Layout', tags: ['design', 'Design', ' web '] });
    clock += 30 * M;
    expect(time.timer.pause()).toMatchObject({ state: 'paused', elapsedMs: 30 * M, runningSince: null });
    clock += 2 * H; // a long lunch, not counted
    expect(time.timer.status()!.elapsedMs).toBe(30 * M);
    time.timer.resume();
    clock += 15 * M;
    expect(time.timer.status()!.elapsedMs).toBe(45 * M);
    const e = time.timer.stop();
    expect(e).toMatchObject({ projectId: p.id, project: 'Acme site', durationMs: 45 * M, source: 'timer', billable: true, description: 'Layout', tags: ['design', 'web'] });
    expect(Date.parse(e.startAt)).toBe(Date.parse('2024-03-04T09:00:00Z'));
    expect(time.timer.status()).toBeNull();
    expect(events).toEqual(['running', 'paused', 'running', null]);
  });

  it('runs one at a time and survives a restart of the service', () => {
    const p = time.projects.create({ name: 'A' });
    time.timer.start({ projectId: p.id });
    try {
      time.timer.start({ projectId: p.id });
      expect.unreachable();
    } catch (err) {
      expect(isWestfallError(err, 'timer_running')).toBe(true);
    }
    clock += 10 * M;
    // The backend restarts: a new connection and service over the same file.
    db.close();
    db = openDatabase(dbPath);
    time = new TimeService(db, { now: () => clock });
    clock += 5 * M;
    expect(time.timer.status()).toMatchObject({ state: 'running', project: 'A', elapsedMs: 15 * M });
    expect(time.timer.stop().durationMs).toBe(15 * M);
    expect(() => time.timer.stop()).toThrow(/no timer is running/);
    expect(() => time.timer.pause()).toThrow(/no timer/);
  });
});

describe('reports', () => {
  function seed() {
    const acme = time.projects.create({ name: 'Acme', client: 'Acme Inc', hourlyRate: 12_000, currency: 'EUR', budget: 50_000 });
    const blog = time.projects.create({ name: 'Blog', hourlyRate: 0, currency: 'EUR' });
    const usd = time.projects.create({ name: 'US client', hourlyRate: 9_999, currency: 'USD' });
    const at = (iso: string) => Date.parse(iso);
    // Week 10 of 2024 (Mon 4 March .. Sun 10 March), UTC
    time.entries.create({ projectId: acme.id, startAt: at('2024-03-04T09:00:00Z'), durationMs: 90 * M, tags: ['dev'] }); // 18 000
    time.entries.create({ projectId: acme.id, startAt: at('2024-03-04T13:00:00Z'), durationMs: 20 * M }); // 4 000
    time.entries.create({ projectId: acme.id, startAt: at('2024-03-05T10:00:00Z'), durationMs: 60 * M, billable: false });
    time.entries.create({ projectId: blog.id, startAt: at('2024-03-05T20:00:00Z'), durationMs: 45 * M });
    time.entries.create({ projectId: usd.id, startAt: at('2024-03-06T08:00:00Z'), endAt: at('2024-03-06T08:10:00Z') }); // 9999 × 1/6 = 1666.5 → 1667
    // Week 11
    time.entries.create({ projectId: acme.id, startAt: at('2024-03-11T09:00:00Z'), durationMs: 3 * H, tags: ['dev'] }); // 36 000
    return { acme, blog, usd };
  }

  it('by project, with billable totals per currency and budget use', () => {
    const { acme } = seed();
    const r = time.reports.report({ groupBy: 'project', tzOffsetMinutes: 0 });
    expect(r.groups.map((g) => [g.label, g.totalMs, g.billableMs, g.amounts])).toEqual([
      ['Acme', (90 + 20 + 60 + 180) * M, (90 + 20 + 180) * M, [{ currency: 'EUR', amount: 18_000 + 4_000 + 36_000 }]],
      ['Blog', 45 * M, 45 * M, [{ currency: 'EUR', amount: 0 }]],
      ['US client', 10 * M, 10 * M, [{ currency: 'USD', amount: 1_667 }]],
    ]);
    expect(r.totals).toMatchObject({ totalMs: 405 * M, billableMs: 345 * M, hours: '6.75', billableHours: '5.75', entries: 6, amounts: [{ currency: 'EUR', amount: 58_000 }, { currency: 'USD', amount: 1_667 }] });
    expect(r.budgets).toEqual([{ projectId: acme.id, project: 'Acme', currency: 'EUR', budget: 50_000, used: 58_000, remaining: -8_000 }]);
  });

  it('by day and by ISO week over a date range; every grouping adds up to the same total', () => {
    seed();
    const days = time.reports.report({ groupBy: 'day', from: '2024-03-04', to: '2024-03-10', tzOffsetMinutes: 0 });
    expect(days.groups.map((g) => [g.key, g.hours, g.amounts])).toEqual([
      ['2024-03-04', '1.83', [{ currency: 'EUR', amount: 22_000 }]],
      ['2024-03-05', '1.75', [{ currency: 'EUR', amount: 0 }]],
      ['2024-03-06', '0.17', [{ currency: 'USD', amount: 1_667 }]],
    ]);
    const weeks = time.reports.report({ groupBy: 'week', tzOffsetMinutes: 0 });
    expect(weeks.groups.map((g) => [g.key, g.totalMs])).toEqual([
      ['2024-W10', 225 * M],
      ['2024-W11', 180 * M],
    ]);
    expect(weeks.groups[0]!.label).toBe('2024-W10 (from 2024-03-04)');
    const byProject = time.reports.report({ groupBy: 'project', tzOffsetMinutes: 0 });
    expect(weeks.totals.amounts).toEqual(byProject.totals.amounts);
    // The user's time zone decides the day: 20:00 UTC on the 5th is the 6th in UTC+5.
    const east = time.reports.report({ groupBy: 'day', from: '2024-03-06', to: '2024-03-06', tzOffsetMinutes: 300 });
    expect(east.groups[0]!.entries).toBe(2);
    expect(time.reports.report({ groupBy: 'project', tag: 'dev', tzOffsetMinutes: 0 }).totals.totalMs).toBe(270 * M);
  });

  it('exports entries as CSV with amounts', () => {
    seed();
    const rows = parse(time.exportCsv({}), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(6);
    expect(rows[0]).toMatchObject({ project: 'Acme', client: 'Acme Inc', duration_minutes: '90', hours: '1.50', billable: 'yes', rate: '120.00', amount: '180.00', currency: 'EUR', tags: 'dev' });
    expect(rows.find((r) => r.billable === 'no')!.amount).toBe('0.00');
  });
});

describe('reminders', () => {
  afterEach(() => vi.useRealTimers());

  it('fires at the set time as an event, and loads pending ones after a restart', () => {
    vi.useFakeTimers({ now: new Date('2024-03-04T09:00:00Z') });
    const svc = new TimeService(db); // Date.now, faked
    const got: ReminderEvent[] = [];
    svc.reminders.on('reminder', (e) => got.push(e));
    svc.reminders.start();
    svc.reminders.create({ message: 'Stand-up', dueAt: Date.parse('2024-03-04T09:30:00Z') });
    svc.reminders.create({ message: 'Log time', dueAt: Date.parse('2024-03-04T17:00:00Z'), repeat: 'weekdays' });
    vi.advanceTimersByTime(29 * M);
    expect(got).toEqual([]);
    vi.advanceTimersByTime(1 * M);
    expect(got.map((e) => e.message)).toEqual(['Stand-up']);
    svc.reminders.stop();

    // Down over the weekend: at start the overdue reminder is delivered once, then it moves on.
    vi.setSystemTime(new Date('2024-03-09T12:00:00Z')); // Saturday
    const again = new TimeService(db);
    const later: ReminderEvent[] = [];
    again.reminders.on('reminder', (e) => later.push(e));
    again.reminders.start();
    expect(later.map((e) => [e.message, e.nextAt])).toEqual([['Log time', '2024-03-11T17:00:00.000Z']]);
    expect(again.reminders.list().map((r) => r.message)).toEqual(['Log time']); // the one-off is done
    vi.advanceTimersByTime(2 * 24 * H + 5 * H);
    expect(later).toHaveLength(2);
    again.reminders.stop();
  });

  it('computes the next time of repeating reminders', () => {
    const fri = Date.parse('2024-03-08T17:00:00Z');
    expect(new Date(nextOccurrence(fri, 'weekdays', fri)!).toISOString()).toBe('2024-03-11T17:00:00.000Z');
    expect(new Date(nextOccurrence(fri, 'daily', fri + 3 * 24 * H)!).toISOString()).toBe('2024-03-12T17:00:00.000Z');
    expect(new Date(nextOccurrence(fri, 'weekly', fri)!).toISOString()).toBe('2024-03-15T17:00:00.000Z');
    expect(nextOccurrence(fri, 'none', fri)).toBeNull();
  });
});
