// Idle sequences are parked in host memory when another generation starts (native/src/objects/context.cpp),
// so the KV cache holds only what is generating; a prompt on a parked sequence brings its cache back.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Context, type Model } from '../../src/index.js';
import { TINY_MODEL } from '../helpers/models.js';

let model: Model;
let ctx: Context;
let residentCopy = '';
const dir = mkdtempSync(path.join(tmpdir(), 'westfall-park-'));
const greedy = { maxTokens: 12, ignoreEos: true, temperature: 0 } as const;
const prompts = ['Alpha went to the market', 'Bravo read a long book about ships', 'Charlie', 'Delta and Echo sang'];

beforeAll(async () => {
  model = await loadModel({ path: TINY_MODEL });
  ctx = await model.createContext({ contextSize: 1024, threads: 2, sequences: 4 });
});
afterAll(() => model.dispose());

/**
 * Greedy text of `prompt` in a context that ran only `first` before it. A restored cache lies in one
 * contiguous run of cells, as there; where the cells lie changes how llama.cpp groups the attention sums,
 * and random weights turn such rounding into other tokens, so this is the reference that must match.
 */
async function alone(first: string, prompt: string): Promise<string> {
  const c = await model.createContext({ contextSize: 1024, threads: 2 });
  try {
    await c.generate(first, greedy).result;
    return (await c.generate(prompt, greedy).result).text;
  } finally {
    c.dispose();
  }
}

describe('parking idle sequences', () => {
  it('keeps only the generating sequence in the KV cache and parks the others with their tokens', async () => {
    await Promise.all(prompts.map((p, i) => ctx.generate(p, { ...greedy, sequence: i }).result));
    const before = await ctx.cacheState();
    expect(before.map((s) => s.resident)).toEqual([true, true, true, true]);
    residentCopy = path.join(dir, 'seq3-resident.bin');
    await ctx.saveState(residentCopy, { sequence: 3 });
    expect(before.every((s) => s.tokens >= 12 && s.parkedBytes === 0)).toBe(true);

    await ctx.generate('Foxtrot', { ...greedy, sequence: 0 }).result;
    const after = await ctx.cacheState();
    expect(after.map((s) => s.resident)).toEqual([true, false, false, false]);
    expect(after[0]!.parkedBytes).toBe(0);
    for (let i = 1; i < 4; i++) {
      expect(after[i]!.tokens).toBe(before[i]!.tokens);
      expect(after[i]!.parkedBytes).toBeGreaterThan(0);
    }
  });

  it('a follow-up on a parked sequence reuses its prefix and continues as the sequence would alone', async () => {
    const prompt = `${prompts[1]} and then slept`;
    const r = await ctx.generate(prompt, { ...greedy, sequence: 1 }).result;
    expect(r.usage.reusedPromptTokens).toBeGreaterThanOrEqual(model.tokenize(prompts[1]!, { addSpecial: true, parseSpecial: true }).length - 1);
    expect(r.text).toBe(await alone(prompts[1]!, prompt));
    const state = await ctx.cacheState();
    expect(state.map((s) => s.resident)).toEqual([false, true, false, false]);
    expect(state[0]!.parkedBytes).toBeGreaterThan(0);
  });

  it('a prompt that shares nothing with a parked sequence drops the parked copy', async () => {
    // Every prompt starts with the BOS token, so share-nothing means another model-level start: use tokens.
    const tokens = model.tokenize('Zulu', { addSpecial: false, parseSpecial: false });
    const r = await ctx.generate(tokens, { ...greedy, sequence: 2 }).result;
    expect(r.usage.reusedPromptTokens).toBe(0);
    const state = await ctx.cacheState();
    expect(state[2]).toEqual({ tokens: tokens.length + greedy.maxTokens - 1, resident: true, parkedBytes: 0 });
  });

  it('saves a parked sequence (bringing it back first, unchanged) and clears one', async () => {
    const file = path.join(dir, 'seq3-parked.bin');
    const parked = (await ctx.cacheState())[3]!;
    expect(parked.resident).toBe(false);
    expect(await ctx.saveState(file, { sequence: 3 })).toBe(parked.tokens);
    // Parking and bringing back lost nothing: the same cache, byte for byte, as saved before parking.
    expect(readFileSync(file).equals(readFileSync(residentCopy))).toBe(true);

    const other = await model.createContext({ contextSize: 1024, threads: 2 });
    try {
      expect((await other.loadState(file)).length).toBe(parked.tokens);
      const prompt = `${prompts[3]} loudly`;
      const r = await other.generate(prompt, greedy).result;
      expect(r.usage.reusedPromptTokens).toBeGreaterThan(0);
      expect(r.text).toBe(await alone(prompts[3]!, prompt));
    } finally {
      other.dispose();
    }

    await ctx.generate('Hotel', { ...greedy, sequence: 2 }).result;
    expect((await ctx.cacheState())[0]!.parkedBytes).toBeGreaterThan(0);
    await ctx.clearSequence(0);
    expect((await ctx.cacheState())[0]).toEqual({ tokens: 0, resident: false, parkedBytes: 0 });
  });

  it('parked copies never take more than a full KV cache: the oldest is dropped first', async () => {
    const small = await model.createContext({ contextSize: 256, threads: 2, sequences: 4 });
    try {
      const long = { maxTokens: 150, ignoreEos: true, temperature: 0 };
      for (let i = 0; i < 3; i++) await small.generate(`Sequence ${i}`, { ...long, sequence: i }).result;
      const state = await small.cacheState();
      // 0 was parked when 1 started, then dropped when 1 was parked (together they exceed 256 cells).
      expect(state[0]).toEqual({ tokens: 0, resident: false, parkedBytes: 0 });
      expect(state[1]!.resident).toBe(false);
      expect(state[1]!.tokens).toBeGreaterThan(150);
      expect(state[1]!.parkedBytes).toBeGreaterThan(0);
      expect(state[2]!.resident).toBe(true);
    } finally {
      small.dispose();
    }
  });
});
