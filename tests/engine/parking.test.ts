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
  it('keeps only the latest sequence in the KV cache when idle, the generating one while it runs', async () => {
    await Promise.all(prompts.map((p, i) => ctx.generate(p, { ...greedy, sequence: i }).result));
    const idle = await ctx.cacheState();
    expect(idle.filter((s) => s.resident)).toHaveLength(1);
    expect(idle.every((s) => s.tokens >= 12 && (s.resident ? s.parkedBytes === 0 : s.parkedBytes > 0))).toBe(true);

    const gen = ctx.generate('Foxtrot', { maxTokens: 400, ignoreEos: true, temperature: 0, sequence: 0 });
    const it = gen[Symbol.asyncIterator]();
    await it.next(); // generating now
    const running = await ctx.cacheState();
    gen.abort();
    await gen.result;
    expect(running.map((s) => s.resident)).toEqual([true, false, false, false]);
    for (let i = 1; i < 4; i++) {
      expect(running[i]!.tokens).toBe(idle[i]!.tokens);
      expect(running[i]!.parkedBytes).toBeGreaterThan(0);
    }
  });

  it('routes a prompt that continues no sequence to the one used longest ago, keeping the recent one', async () => {
    const c = await model.createContext({ contextSize: 1024, threads: 2, sequences: 2 });
    try {
      await c.generate('Kilo', { ...greedy, sequence: 0 }).result;
      await c.generate('Lima', { ...greedy, sequence: 1 }).result;
      const before = await c.cacheState();
      await c.generate('Mike', greedy).result; // shares the BOS token with both
      const after = await c.cacheState();
      expect(after[1]!.tokens).toBe(before[1]!.tokens);
      expect(after[0]!.resident).toBe(true);
      expect(after[0]!.tokens).toBe(model.tokenize('Mike', { addSpecial: true, parseSpecial: true }).length + greedy.maxTokens - 1);
    } finally {
      c.dispose();
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
    const c = await model.createContext({ contextSize: 1024, threads: 2, sequences: 2 });
    const resident = path.join(dir, 'resident.bin');
    const parked = path.join(dir, 'parked.bin');
    try {
      const n = (await c.generate(prompts[3]!, { ...greedy, sequence: 1 }).result).usage;
      expect((await c.cacheState())[1]).toMatchObject({ resident: true });
      expect(await c.saveState(resident, { sequence: 1 })).toBe(n.promptTokens + n.completionTokens - 1);
      await c.generate('November', { ...greedy, sequence: 0 }).result;
      expect((await c.cacheState())[1]).toMatchObject({ resident: false });
      expect(await c.saveState(parked, { sequence: 1 })).toBe(n.promptTokens + n.completionTokens - 1);
      // Parking and bringing back lost nothing: the same cache, byte for byte.
      expect(readFileSync(parked).equals(readFileSync(resident))).toBe(true);
      await c.generate('Oscar', { ...greedy, sequence: 0 }).result;
      expect((await c.cacheState())[1]!.parkedBytes).toBeGreaterThan(0);
      await c.clearSequence(1);
      expect((await c.cacheState())[1]).toEqual({ tokens: 0, resident: false, parkedBytes: 0 });
    } finally {
      c.dispose();
    }

    const other = await model.createContext({ contextSize: 1024, threads: 2 });
    try {
      await other.loadState(parked);
      const prompt = `${prompts[3]} loudly`;
      const r = await other.generate(prompt, greedy).result;
      expect(r.usage.reusedPromptTokens).toBeGreaterThan(0);
      expect(r.text).toBe(await alone(prompts[3]!, prompt));
    } finally {
      other.dispose();
    }
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
