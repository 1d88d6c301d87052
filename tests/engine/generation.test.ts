import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Context, type Model } from '../../src/index.js';
import { TINY_MODEL } from '../helpers/models.js';

let model: Model;
let ctx: Context;

beforeAll(async () => {
  model = await loadModel({ path: TINY_MODEL });
  ctx = await model.createContext({ contextSize: 1024, threads: 2, sequences: 2 });
});
afterAll(() => model.dispose());

const collect = async (gen: AsyncIterable<{ text: string; tokens: Int32Array }>) => {
  const tokens: number[] = [];
  let text = '';
  for await (const c of gen) {
    tokens.push(...c.tokens);
    text += c.text;
  }
  return { tokens, text };
};

describe('generation', () => {
  it('streams chunks whose concatenation is the result, with usage and timings', async () => {
    const gen = ctx.generate('The capital of France is', { maxTokens: 12, ignoreEos: true, seed: 7 });
    const streamed = await collect(gen);
    const r = await gen.result;
    expect(r.text).toBe(streamed.text);
    expect(Array.from(r.tokens)).toEqual(streamed.tokens);
    expect(r.stopReason).toBe('max_tokens');
    expect(r.usage.completionTokens).toBe(12);
    expect(r.usage.promptTokens).toBe(model.tokenize('The capital of France is', { addSpecial: true, parseSpecial: true }).length);
    expect(r.timings.timeToFirstTokenMs).toBeGreaterThan(0);
    expect(r.timings.generationTokensPerSecond).toBeGreaterThan(0);
  });

  it('delivers text in groups at most every 30 ms, losing nothing', async () => {
    // Text after a generation's first is handed to JavaScript at most every 30 ms
    // (native/src/objects/context.cpp): every chunk but the first and the last waited for the interval.
    const t0 = performance.now();
    const gen = ctx.generate('Once upon a time', { maxTokens: 600, ignoreEos: true, seed: 3 });
    const chunks: number[] = [];
    let text = '';
    for await (const c of gen) {
      chunks.push(c.tokens.length);
      text += c.text;
    }
    const r = await gen.result;
    const elapsedMs = performance.now() - t0;
    expect(r.usage.completionTokens).toBe(600);
    expect(chunks.reduce((a, b) => a + b, 0)).toBe(600);
    expect(text).toBe(r.text);
    expect(chunks.length).toBeLessThanOrEqual(Math.floor(elapsedMs / 30) + 2);
  });

  it('same seed gives the same tokens; greedy is deterministic', async () => {
    const run = async (params: object) => Array.from((await ctx.generate('Once upon a time', { maxTokens: 16, ignoreEos: true, ...params }).result).tokens);
    const a = await run({ seed: 42, temperature: 1 });
    const b = await run({ seed: 42, temperature: 1 });
    const c = await run({ seed: 43, temperature: 1 });
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    expect(await run({ temperature: 0 })).toEqual(await run({ temperature: 0, seed: 99 }));
  });

  it('a stop sequence ends generation and is not part of the text', async () => {
    const greedy = await ctx.generate('Once upon a time', { maxTokens: 24, ignoreEos: true, temperature: 0 }).result;
    // Pick a stop string from the middle of what greedy decoding produces.
    const full = greedy.text;
    const start = Math.floor(full.length / 2);
    const stop = full.slice(start, start + 3);
    expect(stop.length).toBe(3);
    const r = await ctx.generate('Once upon a time', { maxTokens: 24, ignoreEos: true, temperature: 0, stop: [stop] }).result;
    expect(r.stopReason).toBe('stop_sequence');
    expect(r.text).toBe(full.slice(0, full.indexOf(stop)));
    expect(r.text).not.toContain(stop);
  });

  it('abort mid-stream ends promptly with the aborted reason; the context stays usable', async () => {
    const ac = new AbortController();
    const gen = ctx.generate('Tell me a long story', { maxTokens: 5000, ignoreEos: true, signal: ac.signal });
    let chunks = 0;
    let seen = 0;
    for await (const c of gen) {
      seen += c.tokens.length;
      if (++chunks === 3) ac.abort();
    }
    const r = await gen.result;
    expect(r.stopReason).toBe('aborted');
    // Decoding runs ahead of JavaScript: the tiny model makes a token every ~0.3 ms, so tokens decoded while
    // the abort travels from the event loop to the decode thread are expected. Promptly = no more than
    // 100 ms worth of tokens after the ones seen (a missed abort would run on to 5000).
    const tokensIn100ms = (r.timings.generationTokensPerSecond * 100) / 1000;
    expect(r.usage.completionTokens).toBeLessThanOrEqual(seen + Math.max(10, tokensIn100ms));
    expect(r.usage.completionTokens).toBeLessThan(5000 / 4);
    const next = await ctx.generate('Hello', { maxTokens: 4, ignoreEos: true }).result;
    expect(next.stopReason).toBe('max_tokens');
  });

  it('aborts during prompt evaluation', async () => {
    const ac = new AbortController();
    // The tiny model evaluates ~100k prompt tokens/s, so ~700 tokens take a few ms: the abort is sent at
    // once (the decode thread has just started on the prompt). Waiting for a later event-loop turn let the
    // whole prompt and the first tokens finish first now and then.
    const long = 'lorem ipsum dolor sit amet '.repeat(140);
    const gen = ctx.generate(long, { maxTokens: 4, signal: ac.signal });
    ac.abort();
    const r = await gen.result;
    expect(r.stopReason).toBe('aborted');
    expect(r.usage.completionTokens).toBe(0);
    expect((await ctx.generate('Hi', { maxTokens: 2, ignoreEos: true }).result).usage.completionTokens).toBe(2);
  });

  it('breaking out of the loop stops the generation', async () => {
    const gen = ctx.generate('Count:', { maxTokens: 500, ignoreEos: true });
    for await (const _ of gen) break;
    expect((await gen.result).stopReason).toBe('aborted');
  });

  it('a JSON schema constrains random weights to valid JSON', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string', maxLength: 8 }, age: { type: 'integer' }, ok: { type: 'boolean' } },
      required: ['name', 'age', 'ok'],
      additionalProperties: false,
    };
    for (const seed of [1, 2, 3]) {
      const r = await ctx.generate('Give me JSON:', { jsonSchema: schema, maxTokens: 400, seed }).result;
      expect(r.stopReason).toBe('eos');
      const value = JSON.parse(r.text);
      expect(Object.keys(value).sort()).toEqual(['age', 'name', 'ok']);
      expect(Number.isInteger(value.age)).toBe(true);
      expect(typeof value.ok).toBe('boolean');
    }
  });

  it('a GBNF grammar constrains output', async () => {
    const r = await ctx.generate('Answer:', { grammar: 'root ::= ("yes" | "no") "."', maxTokens: 10, seed: 5 }).result;
    expect(r.text).toMatch(/^(yes|no)\.$/);
  });

  it('runs two sequences concurrently in one context', async () => {
    const a = ctx.generate('First stream', { maxTokens: 20, ignoreEos: true, temperature: 0 });
    const b = ctx.generate('Second stream', { maxTokens: 20, ignoreEos: true, temperature: 0 });
    const [ra, rb] = await Promise.all([a.result, b.result]);
    expect(ra.usage.completionTokens).toBe(20);
    expect(rb.usage.completionTokens).toBe(20);
    // Batched decoding gives the same greedy text as running alone.
    const alone = await ctx.generate('First stream', { maxTokens: 20, ignoreEos: true, temperature: 0 }).result;
    expect(alone.text).toBe(ra.text);
  });

  it('a third request waits for a free sequence', async () => {
    const gens = [1, 2, 3].map((i) => ctx.generate(`Request ${i}`, { maxTokens: 8, ignoreEos: true }));
    const results = await Promise.all(gens.map((g) => g.result));
    expect(results.map((r) => r.usage.completionTokens)).toEqual([8, 8, 8]);
  });

  it('reuses the cached prefix of a follow-up prompt', async () => {
    const base = 'The quick brown fox jumps over the lazy dog. '.repeat(4);
    await ctx.generate(base, { maxTokens: 1, sequence: 0 }).result;
    const r = await ctx.generate(base + 'And then', { maxTokens: 1, sequence: 0 }).result;
    const baseLen = model.tokenize(base, { addSpecial: true, parseSpecial: true }).length;
    expect(r.usage.reusedPromptTokens).toBeGreaterThanOrEqual(baseLen - 1);
    expect(r.usage.evaluatedPromptTokens).toBe(r.usage.promptTokens - r.usage.reusedPromptTokens);
    expect(r.usage.evaluatedPromptTokens).toBeLessThanOrEqual(4);
  });

  it('stops at the end of the context with context_full', async () => {
    const small = await model.createContext({ contextSize: 64, threads: 2 });
    try {
      const r = await small.generate('Hello', { maxTokens: 500, ignoreEos: true }).result;
      expect(r.stopReason).toBe('context_full');
      // llama.cpp rounds small contexts up; the limit is what the context reports.
      expect(r.usage.promptTokens + r.usage.completionTokens).toBeLessThanOrEqual(small.info.contextSizePerSequence);
      expect(r.usage.completionTokens).toBeGreaterThan(small.info.contextSizePerSequence - 10);
    } finally {
      small.dispose();
    }
  });

  it('takes the KV cache type; a quantized V cache needs flash attention', async () => {
    const q = await model.createContext({ contextSize: 256, threads: 2, typeK: 'bf16', typeV: 'bf16', flashAttention: 'on' });
    try {
      const r = await q.generate('Hello there', { maxTokens: 8, ignoreEos: true }).result;
      expect(r.usage.completionTokens).toBe(8);
    } finally {
      q.dispose();
    }
    // The tiny model's 16-wide heads cannot hold 32-wide q8_0 blocks: llama.cpp refuses, and says why.
    await expect(model.createContext({ contextSize: 256, typeK: 'q8_0', typeV: 'q8_0', flashAttention: 'on' })).rejects.toMatchObject({
      code: 'native_error',
      message: expect.stringMatching(/could not create the context: .+/),
    });
    await expect(model.createContext({ typeV: 'q4_0', flashAttention: 'off' })).rejects.toMatchObject({ code: 'invalid_params' });
    await expect(model.createContext({ typeK: 'q3_k' as never })).rejects.toMatchObject({ code: 'invalid_params' });
  });

  it('embeds text as a deterministic, normalized vector', async () => {
    const a = await model.embed('hello world');
    const b = await model.embed('hello world');
    expect(a.length).toBe(64);
    const norm = Math.hypot(...a);
    expect(norm).toBeCloseTo(1, 4);
    expect(Array.from(a)).toEqual(Array.from(b));
  });
});
