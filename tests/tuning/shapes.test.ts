import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import {
  BENCH_SPEC,
  GgmlType,
  SYNTHETIC_SPEC_KEY,
  getArchitecture,
  getMetadataNumber,
  getMetadataString,
  planSyntheticTensors,
  readGgufHeader,
  type SyntheticModelSpec,
} from '../../src/gguf/index.js';
import { QWEN2_1_5B_SPEC, SYNTHETIC_SHAPES, describeModel, ensureSyntheticShape, estimateKvBytes, isSyntheticShapeName } from '../../src/tuning/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'westfall-shapes-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

// A small shape with every geometry field distinct from the tiny test model's, so the header check means something.
const SMALL: SyntheticModelSpec = {
  kind: 'test-shape',
  name: 'Test shape',
  nEmbd: 96,
  nLayer: 3,
  nHead: 6,
  nHeadKv: 3,
  nFf: 160,
  contextLength: 2048,
  ropeFreqBase: 10_000,
  rmsEps: 1e-5,
  matrixType: GgmlType.Q4_0,
  seed: 7,
};

describe('synthetic shapes', () => {
  it('writes a model whose GGUF header has the requested geometry, and keeps it on the next call', async () => {
    const r = await ensureSyntheticShape(SMALL, { modelsDir: dir, fileName: 'small.gguf' });
    expect(r.created).toBe(true);
    const h = await readGgufHeader(r.path);
    expect(getArchitecture(h)).toBe('qwen2');
    expect(getMetadataNumber(h, 'qwen2.embedding_length')).toBe(96);
    expect(getMetadataNumber(h, 'qwen2.block_count')).toBe(3);
    expect(getMetadataNumber(h, 'qwen2.attention.head_count')).toBe(6);
    expect(getMetadataNumber(h, 'qwen2.attention.head_count_kv')).toBe(3);
    expect(getMetadataNumber(h, 'qwen2.feed_forward_length')).toBe(160);
    expect(getMetadataNumber(h, 'qwen2.context_length')).toBe(2048);
    expect(JSON.parse(getMetadataString(h, SYNTHETIC_SPEC_KEY)!)).toEqual(SMALL);
    const k = h.tensors.find((t) => t.name === 'blk.2.attn_k.weight')!;
    expect([...k.shape]).toEqual([96, 48]); // head dim 16 × 3 KV heads
    expect([...h.tensors.find((t) => t.name === 'blk.0.ffn_down.weight')!.shape]).toEqual([160, 96]);
    expect(h.tensors.some((t) => t.name.startsWith('blk.3.'))).toBe(false);
    // KV estimate: 3 layers × 2048 cells × (48 + 48) × 2 bytes
    expect(estimateKvBytes(h, 2048)).toBe(3 * 2048 * 96 * 2);
    expect((await describeModel(r.path)).synthetic).toBe('test-shape');

    const again = await ensureSyntheticShape(SMALL, { modelsDir: dir, fileName: 'small.gguf' });
    expect(again.created).toBe(false);
    expect((await readdir(dir)).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('has the qwen2-0.5b shape of the engine benchmark and a larger qwen2-1.5b shape', () => {
    expect(SYNTHETIC_SHAPES['qwen2-0.5b'].spec).toBe(BENCH_SPEC);
    expect(QWEN2_1_5B_SPEC).toMatchObject({ nLayer: 28, nEmbd: 1536, nHead: 12, nHeadKv: 2, nFf: 8960 });
    const plan = planSyntheticTensors(QWEN2_1_5B_SPEC, 151_936);
    expect(plan.find((t) => t.name === 'blk.27.attn_k.weight')!.shape).toEqual([1536, 256]);
    expect(plan.find((t) => t.name === 'blk.27.ffn_up.weight')!.shape).toEqual([1536, 8960]);
    expect(plan.every((t) => !t.name.startsWith('blk.28.'))).toBe(true);
    expect(isSyntheticShapeName('qwen2-1.5b')).toBe(true);
    expect(isSyntheticShapeName('toString')).toBe(false);
  });

  it('rejects an unknown shape name', async () => {
    let err: unknown;
    try {
      await ensureSyntheticShape('qwen9-huge' as never, { modelsDir: dir });
    } catch (e) {
      err = e;
    }
    expect(isWestfallError(err, 'invalid_params')).toBe(true);
  });
});
