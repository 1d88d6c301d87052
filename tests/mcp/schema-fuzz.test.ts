// A third party's tool schemas are a security boundary (issue 20): the grammar fuzzer's random, mutated and
// pathological JSON schemas (scripts/fuzz-grammar.ts), each wrapped as an MCP tool's input schema, go
// through the same checks a server's tools pass before the model sees them. Each one is accepted (and
// then converts to a grammar our grammar checks accept) or refused with mcp_bad_schema; none throws
// anything else, crashes or hangs.
import { describe, expect, it } from 'vitest';
import { caseRng, Random } from '../../scripts/fuzz-harness.js';
import { makeSchema } from '../../scripts/fuzz-grammar.js';
import { checkGrammar } from '../../src/engine/grammar-check.js';
import { jsonSchemaToGrammar } from '../../src/engine/index.js';
import { isWestfallError } from '../../src/errors.js';
import { guardToolSchema } from '../../src/mcp/index.js';

describe('MCP tool schemas (bounded fuzz)', () => {
  it('300 hostile or random input schemas: accepted and convertible, or refused with mcp_bad_schema', () => {
    const outcomes = { accepted: 0, refused: 0 };
    const failures: string[] = [];
    for (let i = 0; i < 300; i++) {
      const r = new Random(caseRng(18, i));
      const { schema, how } = makeSchema(r);
      // Half as the whole input schema, half as one property of an object (how real tools nest them).
      const input = i % 2 === 0 ? schema : { type: 'object', properties: { arg: schema }, required: ['arg'] };
      try {
        const clean = guardToolSchema(`case_${i}`, input, jsonSchemaToGrammar);
        expect(clean.type).toBe('object');
        checkGrammar(jsonSchemaToGrammar(clean));
        outcomes.accepted++;
      } catch (err) {
        if (isWestfallError(err) && err.code === 'mcp_bad_schema') outcomes.refused++;
        else failures.push(`case ${i} (${how}): ${(err as Error).message.slice(0, 200)}`);
      }
    }
    expect(failures).toEqual([]);
    expect(outcomes.accepted).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  }, 300_000);
});
