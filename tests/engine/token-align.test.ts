// The next turn's prompt reuses the previous reply's own tokens when its text tokenizes back differently
// (src/engine/token-align.ts): checked on a toy vocabulary, then with the real tokenizer and engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Context, type Model } from '../../src/index.js';
import { commonPrefix, spliceHeld, type TokenBytes } from '../../src/engine/token-align.js';
import { TINY_MODEL } from '../helpers/models.js';

// A toy vocabulary: ids index these spellings; 9 is a control token spelled like the text "<e>".
const VOCAB = ['a', 'he', 'llo', 'hello', ' ', 'wor', 'ld', 'world', '!', '<e>', '<', 'e', '>'];
const toyBytes: TokenBytes = (tokens) => {
  const parts = [...tokens].map((t) => (t === 9 ? Buffer.from([0xff, 9, 0, 0, 0, 0xff]) : Buffer.from(VOCAB[t]!, 'utf8')));
  const ends = new Uint32Array(parts.length);
  let at = 0;
  parts.forEach((p, i) => (ends[i] = at += p.length));
  return { bytes: Buffer.concat(parts), ends };
};
const ids = (...t: number[]) => Int32Array.from(t);

describe('spliceHeld', () => {
  it('takes the held tokens where both spell the same text, then the prompt’s own', () => {
    // held: a "he" "llo" " " "wor" "ld"; prompt: a "hello" " " "world" "!"
    const out = spliceHeld(ids(0, 3, 4, 7, 8), ids(0, 1, 2, 4, 5, 6), toyBytes);
    expect(out).not.toBeNull();
    expect([...out!.tokens]).toEqual([0, 1, 2, 4, 5, 6, 8]);
    expect(out!.reused).toBe(6);
    expect(toyBytes(out!.tokens).bytes.equals(toyBytes(ids(0, 3, 4, 7, 8)).bytes)).toBe(true);
  });

  it('stops where the texts part, at the last point where both runs end together', () => {
    // held: a "he" "llo" "!"; prompt: a "hello" " " ... : the texts part after "hello"
    const out = spliceHeld(ids(0, 3, 4, 7), ids(0, 1, 2, 8), toyBytes);
    expect([...out!.tokens]).toEqual([0, 1, 2, 4, 7]);
    expect(out!.reused).toBe(3);
  });

  it('never matches a control token with the same text spelled out', () => {
    // held: a <e>(control) "world"; prompt: a "<" "e" ">" "world"
    expect(spliceHeld(ids(0, 10, 11, 12, 7), ids(0, 9, 7), toyBytes)).toBeNull();
  });

  it('gains nothing when the prompt continues what is held, or the held run spells other text', () => {
    expect(spliceHeld(ids(0, 3, 4), ids(0, 3), toyBytes)).toBeNull();
    expect(spliceHeld(ids(0, 7), ids(0, 3), toyBytes)).toBeNull();
    expect(commonPrefix(ids(1, 2, 3), ids(1, 2, 4))).toBe(2);
  });
});

describe('a reply that tokenizes back differently', () => {
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    model = await loadModel({ path: TINY_MODEL });
    ctx = await model.createContext({ contextSize: 2048, threads: 2, sequences: 2 });
  });
  afterAll(() => model.dispose());

  it('is not evaluated again on the next turn: the prompt takes the generated tokens', async () => {
    // Random weights emit token runs that rarely tokenize back the same; find a reply that does not.
    let found: { first: string; reply: string; promptTokens: number; generated: Int32Array } | null = null;
    for (let i = 0; i < 40 && !found; i++) {
      const first = `Turn ${i}: tell me about the weather in the mountains today`;
      const gen = ctx.generate(first, { maxTokens: 48, ignoreEos: true, temperature: 0, sequence: 0 });
      const r = await gen.result;
      const back = model.tokenize(r.text);
      // The reply's text must spell exactly its tokens: no control token (no text) and whole UTF-8.
      const spelled = Buffer.from(model.tokenBytes(r.tokens).bytes).equals(Buffer.from(r.text, 'utf8'));
      if (spelled && commonPrefix(back, r.tokens) < r.tokens.length - 8) found = { first, reply: r.text, promptTokens: r.usage.promptTokens, generated: r.tokens };
    }
    expect(found, 'a reply that does not tokenize back to its own tokens').not.toBeNull();
    const { first, reply, promptTokens, generated } = found!;

    const next = `${first}${reply} and tomorrow?`;
    const canonical = model.tokenizePrompt(next);
    const held = new Int32Array([...model.tokenizePrompt(first), ...generated]);
    const { usage } = await ctx.generate(next, { maxTokens: 4, ignoreEos: true, temperature: 0, sequence: 0 }).result;
    // Everything the sequence held is reused (the last generated token was never decoded), far past where
    // the canonical tokens part from the held ones.
    expect(usage.reusedPromptTokens).toBeGreaterThanOrEqual(promptTokens + generated.length - 1);
    expect(usage.reusedPromptTokens).toBeGreaterThan(commonPrefix(canonical, held) + 4);
    expect(usage.evaluatedPromptTokens).toBe(usage.promptTokens - usage.reusedPromptTokens);

    // cache_prompt false keeps the canonical tokens.
    const plain = await ctx.generate(next, { maxTokens: 1, temperature: 0, sequence: 1, cachePrompt: false }).result;
    expect(plain.usage.promptTokens).toBe(canonical.length);
  });
});
