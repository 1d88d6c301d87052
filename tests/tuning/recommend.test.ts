import { describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import { DEFAULT_OBJECTIVE, describeObjective, recommend } from '../../src/tuning/index.js';
import { fakeResult } from './fake.js';

describe('recommend()', () => {
  it('picks the fastest generation among configurations that meet the latency guard', () => {
    const slowTtft = fakeResult({ threads: 1, batch: 128, pp: 200, tg: 60, ttft: 400 }); // fastest tg but TTFT 4x the best
    const best = fakeResult({ threads: 2, batch: 512, pp: 300, tg: 50, ttft: 100 });
    const other = fakeResult({ threads: 2, batch: 256, pp: 290, tg: 40, ttft: 105 });
    const failed = fakeResult({ threads: 1, batch: 512, pp: 999, tg: 999, ttft: 1, ok: false });
    const rec = recommend([slowTtft, best, other, failed]);
    expect(rec.best.id).toBe(best.id);
    expect(rec.excluded.map((e) => e.id)).toEqual([slowTtft.id]);
    expect(rec.ranking.map((r) => r.id)).toEqual([best.id, other.id, slowTtft.id]); // failed ones are not ranked
  });

  it('excludes configurations whose prompt processing is far below the best', () => {
    const lowPp = fakeResult({ threads: 1, batch: 128, pp: 100, tg: 52, ttft: 100 });
    const good = fakeResult({ threads: 2, batch: 512, pp: 300, tg: 48, ttft: 100 });
    expect(recommend([lowPp, good]).best.id).toBe(good.id);
    // With a looser guard the faster generator wins.
    expect(recommend([lowPp, good], { ppSlack: 0.8 }).best.id).toBe(lowPp.id);
  });

  it('breaks a tie in generation speed by memory, then prompt speed, then fewer threads', () => {
    const a = fakeResult({ threads: 2, batch: 512, pp: 300, tg: 50, ttft: 100, peakMiB: 900 });
    const b = fakeResult({ threads: 2, batch: 256, pp: 280, tg: 49.5, ttft: 100, peakMiB: 700 }); // within 3%: tie; less memory
    const c = fakeResult({ threads: 1, batch: 256, pp: 250, tg: 49.2, ttft: 100, peakMiB: 705 }); // same memory class as b, slower pp
    const rec = recommend([a, b, c]);
    expect(rec.tied.sort()).toEqual([a.id, b.id, c.id].sort());
    expect(rec.best.id).toBe(b.id);
    expect(rec.ranking.map((r) => r.id)).toEqual([b.id, c.id, a.id]);

    const d = fakeResult({ threads: 4, batch: 256, pp: 280, tg: 50, ttft: 100, peakMiB: 700 });
    const e = fakeResult({ threads: 3, batch: 256, pp: 280, tg: 50, ttft: 100, peakMiB: 700 });
    expect(recommend([d, e]).best.id).toBe(e.id);
  });

  it('does not call a real difference a tie', () => {
    const a = fakeResult({ threads: 2, batch: 512, pp: 300, tg: 50, ttft: 100, peakMiB: 900 });
    const b = fakeResult({ threads: 1, batch: 512, pp: 300, tg: 45, ttft: 100, peakMiB: 600 });
    expect(recommend([a, b]).best.id).toBe(a.id);
  });

  it('honours a memory cap and reports the speedup over the defaults', () => {
    const big = fakeResult({ threads: 2, batch: 1024, pp: 320, tg: 55, ttft: 95, peakMiB: 1200 });
    const small = fakeResult({ threads: 2, batch: 256, pp: 280, tg: 50, ttft: 100, peakMiB: 700 });
    const defaults = fakeResult({ threads: 2, batch: 512, fa: 'auto', pp: 250, tg: 40, ttft: 110, peakMiB: 800, isDefault: true });
    const rec = recommend([big, small, defaults], { maxMemoryBytes: 1000 * 2 ** 20 });
    expect(rec.best.id).toBe(small.id);
    expect(rec.baseline?.id).toBe(defaults.id);
    expect(rec.speedup!.tg).toBeCloseTo(50 / 40, 6);
    expect(rec.speedup!.pp).toBeCloseTo(280 / 250, 6);
    expect(rec.speedup!.ttft).toBeCloseTo(100 / 110, 6);
    expect(recommend([big, small, defaults]).best.id).toBe(big.id);
  });

  it('throws when nothing ran', () => {
    let err: unknown;
    try {
      recommend([fakeResult({ pp: 1, tg: 1, ttft: 1, ok: false })]);
    } catch (e) {
      err = e;
    }
    expect(isWestfallError(err, 'invalid_params')).toBe(true);
  });

  it('describes its objective', () => {
    expect(describeObjective(DEFAULT_OBJECTIVE)).toMatch(/maximize generation tokens\/s subject to TTFT ≤ best × 1\.25/);
  });
});
