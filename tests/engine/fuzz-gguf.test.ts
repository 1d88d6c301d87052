// A short, fixed-seed run of the GGUF mutation fuzzer (scripts/fuzz-gguf.ts, `npm run fuzz:gguf` for the
// long one): every mutant of the tiny model must load and answer or fail with a typed error. Each case
// runs in a child process, so a regression shows up as a reported crash, not as a dead test runner.
import { describe, expect, it } from 'vitest';
import { describeCase, runFuzz } from '../../scripts/fuzz-gguf.js';
import { TINY_MODEL } from '../helpers/models.js';

describe('GGUF mutation fuzzing (bounded)', () => {
  it(
    '30 single-byte mutations: no crash, no hang, no untyped error',
    async () => {
      // No per-case timeout: a loaded machine is slow, not wrong; a real hang ends at the test's timeout.
      const report = await runFuzz({ model: TINY_MODEL, cases: 30, seed: 20, timeoutSeconds: 0 });
      expect(report.cases).toHaveLength(30);
      expect(report.failures.map(describeCase)).toEqual([]);
      expect(report.counts.ok + report.counts.typed).toBe(30);
      // The harness itself works: some mutants load and answer, some are refused.
      expect(report.counts.ok).toBeGreaterThan(0);
      expect(report.counts.typed).toBeGreaterThan(0);
    },
    600_000,
  );
});
