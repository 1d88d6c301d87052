// A short, fixed-seed run of the grammar and JSON-schema fuzzer (scripts/fuzz-grammar.ts,
// `npm run fuzz:grammar` for the long one): random, mutated and pathological GBNF grammars and JSON
// schemas on /api/llm/chat and /v1/chat/completions, against the service in a child process, so that an
// abort inside llama.cpp shows up as a reported crash, not as a dead test runner.
import { describe, expect, it } from 'vitest';
import { describeGrammarFailure, runGrammarFuzz } from '../../scripts/fuzz-grammar.js';

describe('grammar and schema fuzzing (bounded)', () => {
  it(
    '120 grammars and schemas: 200 or a typed 4xx, never a 5xx, a crash or a hang',
    async () => {
      // A generous per-request limit: a loaded machine is slow, not wrong; a real hang ends at the test's timeout.
      const report = await runGrammarFuzz({ cases: 120, seed: 5, limitSeconds: 300 });
      expect(report.failures.map(describeGrammarFailure)).toEqual([]);
      expect(report.crashes).toBe(0);
      // Both halves of the property were exercised: some generated, some were refused.
      expect(report.outcomes['200']).toBeGreaterThan(0);
      expect(Object.keys(report.outcomes).some((k) => k.startsWith('400'))).toBe(true);
    },
    600_000,
  );
});
