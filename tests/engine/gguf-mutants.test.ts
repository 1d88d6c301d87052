// The single-byte mutations of the tiny model that aborted the process in the fuzzer (scripts/fuzz-gguf.ts)
// now end in invalid_model before llama.cpp opens the file. The mutated bytes are found by meaning rather
// than by offset (seed 1 hit them at offsets 337666, 1347504, ... and the sweep at 533), so the test
// survives changes of the generated model.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, WestfallError } from '../../src/index.js';
import { readGgufHeader } from '../../src/gguf/index.js';
import { TINY_MODEL } from '../helpers/models.js';

const dir = mkdtempSync(join(tmpdir(), 'westfall-mutants-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const original = readFileSync(TINY_MODEL);

function lengthPrefixed(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(bytes.length));
  return Buffer.concat([len, bytes]);
}

/** The only offset at which `needle` occurs. */
function uniqueOffset(needle: Buffer): number {
  const at = original.indexOf(needle);
  expect(at).toBeGreaterThan(0);
  expect(original.indexOf(needle, at + 1)).toBe(-1);
  return at;
}

function mutant(name: string, offset: number, byte: number): string {
  const buf = Buffer.from(original);
  buf[offset] = byte;
  const path = join(dir, name);
  writeFileSync(path, buf);
  return path;
}

async function loadError(path: string): Promise<WestfallError> {
  const err = await loadModel({ path }).then(
    async (m) => {
      await m[Symbol.asyncDispose]();
      return null;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WestfallError);
  expect((err as WestfallError).code).toBe('invalid_model');
  return err as WestfallError;
}

describe('fuzzer findings on the tiny model', () => {
  it('a token whose last byte is set to 0, making it equal a shorter token → invalid_model', async () => {
    const header = await readGgufHeader(TINY_MODEL);
    const tokens = header.metadata.get('tokenizer.ggml.tokens')!.value as { items: string[] };
    const vocab = new Set(tokens.items);
    // A plain ASCII token whose prefix is also a token, e.g. "ther" and "the".
    const token = tokens.items.find((t) => /^[a-z]{3,8}$/.test(t) && vocab.has(t.slice(0, -1)) && original.indexOf(lengthPrefixed(t)) > 0)!;
    expect(token).toBeTruthy();
    const at = uniqueOffset(lengthPrefixed(token));
    const err = await loadError(mutant('dup-token.gguf', at + 8 + token.length - 1, 0));
    expect(err.message).toContain(`${JSON.stringify(token.slice(0, -1))} duplicates token ${tokens.items.indexOf(token.slice(0, -1))}`);
  });

  it('the rms epsilon with its top byte set to 0xFF (NaN) → invalid_model', async () => {
    const key = 'qwen2.attention.layer_norm_rms_epsilon';
    // key, then the u32 value type, then the f32 value; its last byte holds the sign and exponent.
    const at = uniqueOffset(lengthPrefixed(key)) + 8 + key.length + 4 + 3;
    const err = await loadError(mutant('nan-eps.gguf', at, 0xff));
    expect(err.message).toMatch(/layer_norm_rms_epsilon is NaN/);
  });

  it('block_count set to 0 → invalid_model', async () => {
    const key = 'qwen2.block_count';
    const at = uniqueOffset(lengthPrefixed(key)) + 8 + key.length + 4;
    expect(original[at]).toBeGreaterThan(0);
    const err = await loadError(mutant('no-layers.gguf', at, 0));
    expect(err.message).toMatch(/block_count is 0/);
  });

  it('the unmutated model still loads and answers', async () => {
    const model = await loadModel({ path: TINY_MODEL });
    try {
      const ctx = await model.createContext({ contextSize: 128, threads: 1 });
      const r = await ctx.generate('Hello', { maxTokens: 2, temperature: 0 }).result;
      expect(r.usage.completionTokens).toBeGreaterThan(0);
      await ctx[Symbol.asyncDispose]();
    } finally {
      await model[Symbol.asyncDispose]();
    }
  });
});
