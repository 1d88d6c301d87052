// Prompt batches of 64 rows and more go through our grouped flash-attention kernel on the CPU
// (scripts/patches/cpu). Its results must agree with attention computed without flash attention (KQ,
// softmax and KQV as separate ops), up to the rounding that F16 caches and, where the CPU has AVX512-BF16,
// the kernel's BF16 operands give: a mistake in the kernel's head or token mapping, its masking or its
// online softmax shows up as a much larger difference. Measured here (random weights spread attention
// evenly, which makes this the worst case for rounding): 1 - cosine 6.3e-6 when right with BF16 (7e-7
// with F32 GEMMs); a 1% error in the attention scale alone gives 2.7e-5 with either.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/index.js';
import { TINY_MODEL } from '../helpers/models.js';

let model: Model;
beforeAll(async () => {
  model = await loadModel({ path: TINY_MODEL });
});
afterAll(() => model.dispose());

const words = 'river stone lantern orchard copper meadow signal harbor violet thunder ledger canyon pepper'.split(' ');

async function embed(tokens: Int32Array, flashAttention: 'on' | 'off'): Promise<Float32Array> {
  const n = tokens.length;
  const ctx = await model.createContext({ embeddings: true, contextSize: 1024, batchSize: n, ubatchSize: n, threads: 2, flashAttention });
  try {
    return await ctx.embedTokens(tokens);
  } finally {
    ctx.dispose();
  }
}

function cosineDistance(a: Float32Array, b: Float32Array): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return 1 - ab / Math.sqrt(aa * bb);
}

describe('CPU flash attention over grouped query heads', () => {
  it('agrees with attention without flash attention over a 461-token batch', async () => {
    const text = Array.from({ length: 400 }, (_, j) => words[(j * 7) % words.length]).join(' ');
    const tokens = model.tokenize(text, { addSpecial: true, parseSpecial: true });
    expect(tokens.length).toBeGreaterThan(64 * 4); // several blocks per unit, several KV tiles, a causal mask
    const plain = await embed(tokens, 'off');
    const flash = await embed(tokens, 'on');
    expect(flash.length).toBe(plain.length);
    expect(cosineDistance(plain, flash)).toBeLessThan(1.3e-5);
  });
});
