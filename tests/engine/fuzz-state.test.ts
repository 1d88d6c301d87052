// A short run of the saved-state fuzzer (scripts/fuzz-state.ts; `npm run fuzz:state` for a long one): damaged
// state files, with and without a fixed-up checksum, never crash, hang, or change an answer the checksum
// could have protected.
import { describe, expect, it } from 'vitest';
import { fuzzStates } from '../../scripts/fuzz-state.js';

describe('saved-state fuzzing', () => {
  it('24 damaged states: each restored or evaluated, none crashes, hangs or answers wrongly', async () => {
    const report = await fuzzStates({ cases: 24, seed: Number(process.env.WESTFALL_FUZZ_SEED ?? 7), timeoutMs: 300_000 });
    expect(report.cases).toHaveLength(24);
    expect(report.failures).toEqual([]);
    // Both paths were exercised: some damage was caught and evaluated, some state was still loaded.
    expect(report.counts.evaluated ?? 0).toBeGreaterThan(0);
  }, 900_000);
});
