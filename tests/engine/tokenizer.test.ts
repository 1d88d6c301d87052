// Tokenization must match llama.cpp's own test vectors (models/ggml-vocab-*.gguf.inp/.out), the same
// check its test-tokenizer-0 runs: no special tokens added, none parsed.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/index.js';
import { vocabFile } from '../helpers/models.js';

function readVectors(name: string): { text: string; tokens: number[] }[] {
  const raw = readFileSync(`${vocabFile(name)}.inp`, 'utf8');
  const out = readFileSync(`${vocabFile(name)}.out`, 'utf8').split('\n');
  const inputs: string[] = [];
  const sep = '\n__ggml_vocab_test__\n';
  let pos = 0;
  while (pos < raw.length) {
    const next = raw.indexOf(sep, pos);
    if (next < 0) {
      inputs.push(raw.slice(pos));
      break;
    }
    inputs.push(raw.slice(pos, next));
    pos = next + sep.length;
  }
  return inputs.map((text, i) => ({
    text,
    tokens: (out[i] ?? '').trim().split(' ').filter(Boolean).map(Number),
  }));
}

const VOCABS = ['qwen2', 'llama-spm', 'llama-bpe', 'gpt-2', 'phi-3', 'bert-bge'];

describe('tokenizer matches llama.cpp test vectors', () => {
  const models: Model[] = [];
  afterAll(() => models.forEach((m) => m.dispose()));

  for (const name of VOCABS) {
    it(`${name}`, async () => {
      const model = await loadModel({ path: vocabFile(name), vocabOnly: true });
      models.push(model);
      const vectors = readVectors(name);
      expect(vectors.length).toBeGreaterThan(20);
      for (const v of vectors) {
        expect(Array.from(model.tokenize(v.text)), JSON.stringify(v.text)).toEqual(v.tokens);
      }
    });
  }

  it('round-trips text through detokenize and handles special tokens', async () => {
    const model = await loadModel({ path: vocabFile('qwen2'), vocabOnly: true });
    models.push(model);
    const text = 'Hello world, this is 🦙.cpp — ünïcødé';
    expect(model.detokenize(model.tokenize(text))).toBe(text);
    // With parseSpecial the control token is one id; without it, it is plain text split into pieces.
    const special = model.tokenize('<|im_start|>user', { parseSpecial: true });
    const plain = model.tokenize('<|im_start|>user', { parseSpecial: false });
    expect(special.length).toBeLessThan(plain.length);
    expect(model.detokenize(special, { renderSpecial: true })).toBe('<|im_start|>user');
    expect(() => model.detokenize([10 ** 9])).toThrow(/outside the vocabulary/);
  });
});
