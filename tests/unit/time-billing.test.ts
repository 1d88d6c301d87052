// Billable amounts: per entry round_half_up(ms × rate / 1 h) in integers, summed per project and in total
// (both groupings add to the same total), then paired with each project's rate and currency for the
// report card (renderer/src/time/billing.ts) and formatted with Intl.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { billableSummary, formatAmount, formatBillableHours, parseRate } from '../../renderer/src/time/billing.js';
import { billableAmount } from '../../src/tools/time/reports.js';
import { createToolServices } from '../../src/tools/index.js';

const dir = mkdtempSync(join(tmpdir(), 'westfall-billing-'));
const services = createToolServices(dir);
afterAll(() => {
  services.close();
  rmSync(dir, { recursive: true, force: true });
});

const MIN = 60_000;
const start = Date.parse('2026-03-02T09:00:00Z');

describe('billableAmount', () => {
  it('rounds half up to a minor unit, in integers', () => {
    expect(billableAmount(3_600_000, 8500)).toBe(8500);
    expect(billableAmount(20 * MIN, 8500)).toBe(2833); // 2833.33
    expect(billableAmount(30 * MIN, 8501)).toBe(4251); // 4250.5 → up
    expect(billableAmount(1, 1)).toBe(0);
    // Past 2^53 in the product: still exact.
    expect(billableAmount(366 * 86_400_000, 9_007_199_254)).toBe(79_119_238_247_136);
  });
});

describe('billable totals of a report', () => {
  const garden = services.time.projects.create({ name: 'Garden', hourlyRate: 8550, currency: 'EUR' });
  const site = services.time.projects.create({ name: 'Site', hourlyRate: 12000, currency: 'USD' });
  const yen = services.time.projects.create({ name: 'Tokyo', hourlyRate: 5000, currency: 'JPY' });
  const internal = services.time.projects.create({ name: 'Internal', hourlyRate: 0, currency: 'EUR' });
  const add = (projectId: number, minutes: number, billable = true, day = 0) =>
    services.time.entries.create({ projectId, startAt: start + day * 86_400_000, durationMs: minutes * MIN, billable });
  add(garden.id, 20); // 2850
  add(garden.id, 20, true, 1); // 2850
  add(garden.id, 50, false); // not billable
  add(site.id, 90); // 18000
  add(site.id, 7); // 1400
  add(yen.id, 45); // 3750
  add(internal.id, 60); // 0

  it('adds per project and in total the same, per currency', () => {
    const report = services.time.reports.report({ groupBy: 'project', tzOffsetMinutes: 0 });
    const g = (name: string) => report.groups.find((x) => x.label === name)!;
    expect(g('Garden')).toMatchObject({ billableMs: 40 * MIN, totalMs: 90 * MIN, amounts: [{ currency: 'EUR', amount: 5700 }] });
    expect(g('Site').amounts).toEqual([{ currency: 'USD', amount: 19400 }]);
    expect(g('Tokyo').amounts).toEqual([{ currency: 'JPY', amount: 3750 }]);
    expect(report.totals.amounts).toEqual([
      { currency: 'EUR', amount: 5700 },
      { currency: 'JPY', amount: 3750 },
      { currency: 'USD', amount: 19400 },
    ]);
    // Grouped by day, the same total.
    expect(services.time.reports.report({ groupBy: 'day', tzOffsetMinutes: 0 }).totals.amounts).toEqual(report.totals.amounts);

    const summary = billableSummary(report, services.time.projects.list());
    expect(summary.lines.map((l) => [l.project, l.billableMs / MIN, l.rate, l.currency, l.amount])).toEqual([
      ['Garden', 40, 8550, 'EUR', 5700],
      ['Internal', 60, 0, 'EUR', 0],
      ['Site', 97, 12000, 'USD', 19400],
      ['Tokyo', 45, 5000, 'JPY', 3750],
    ]);
    expect(summary.totals).toEqual(report.totals.amounts);
  });

  it('follows a changed rate', () => {
    services.time.projects.update(garden.id, { hourlyRate: 9000 });
    const report = services.time.reports.report({ groupBy: 'project', tzOffsetMinutes: 0 });
    expect(billableSummary(report, services.time.projects.list()).lines[0]).toMatchObject({ project: 'Garden', rate: 9000, amount: 6000 });
  });
});

describe('formatting and rate input', () => {
  it('formats amounts with Intl in the given locale and the currency’s decimals', () => {
    expect(formatAmount(5700, 'EUR', 'de-DE')).toBe('57,00\u00a0€');
    expect(formatAmount(1940000, 'USD', 'en-US')).toBe('$19,400.00');
    expect(formatAmount(3750, 'JPY', 'en-US')).toBe('¥3,750');
    expect(formatBillableHours(97 * MIN, 'en-US')).toBe('1.62');
    expect(formatBillableHours(90 * MIN, 'de-DE')).toBe('1,50');
  });

  it('parses a rate in minor units, refusing what is not a plain amount', () => {
    expect(parseRate('85', 'EUR')).toBe(8500);
    expect(parseRate('85,5', 'EUR')).toBe(8550);
    expect(parseRate(' 85.50 ', 'USD')).toBe(8550);
    expect(parseRate('5000', 'JPY')).toBe(5000);
    for (const bad of ['', '-5', '8.555', '1,000.00', 'abc', '50.5']) expect(parseRate(bad, bad === '50.5' ? 'JPY' : 'USD'), bad).toBeNull();
  });
});
