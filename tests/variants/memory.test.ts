// Arithmetic of the automatic GPU layers / context size plan (src/engine/memory.ts) on known shapes with
// fake device memory, plus one check of the KV-cache formula against what llama.cpp itself allocates.
import { describe, expect, it } from 'vitest';
import { BENCH_SPEC, TINY_SPEC, planSyntheticTensors, type SyntheticModelSpec } from '../../src/gguf/synthetic.js';
import { GgufValueType, ggmlTensorBytes, type GgufHeader, type GgufMetadataEntry } from '../../src/gguf/types.js';
import { readGgufHeader } from '../../src/gguf/reader.js';
import {
  KV_PAD,
  computeBufferBytes,
  kvBytesPerToken,
  modelGeometry,
  planMemory,
  usageAt,
  type ModelGeometry,
  type PlanOptions,
} from '../../src/engine/memory.js';
import { loadModel } from '../../src/engine/model.js';
import { setLogHandler } from '../../src/engine/system.js';
import { TINY_MODEL } from '../helpers/models.js';

const MiB = 1 << 20;
const GiB = 1 << 30;
const QWEN2_VOCAB = 151_936;

/** The header the synthetic generator would write for `spec` (metadata and tensor table, no data). */
function syntheticHeader(spec: SyntheticModelSpec, nVocab: number): Pick<GgufHeader, 'path' | 'metadata' | 'tensors'> {
  const u32 = (value: number): GgufMetadataEntry => ({ type: GgufValueType.UINT32, value });
  const metadata = new Map<string, GgufMetadataEntry>([
    ['general.architecture', { type: GgufValueType.STRING, value: 'qwen2' }],
    ['qwen2.context_length', u32(spec.contextLength)],
    ['qwen2.embedding_length', u32(spec.nEmbd)],
    ['qwen2.block_count', u32(spec.nLayer)],
    ['qwen2.feed_forward_length', u32(spec.nFf)],
    ['qwen2.attention.head_count', u32(spec.nHead)],
    ['qwen2.attention.head_count_kv', u32(spec.nHeadKv)],
    ['qwen2.vocab_size', u32(nVocab)],
  ]);
  let offset = 0;
  const tensors = planSyntheticTensors(spec, nVocab).map((t) => {
    const nBytes = Number(ggmlTensorBytes(t.type, t.shape));
    const info = { name: t.name, shape: t.shape, type: t.type, offset, nBytes, nElements: t.shape.reduce((a, b) => a * b, 1) };
    offset += Math.ceil(nBytes / 32) * 32;
    return info;
  });
  return { path: `${spec.kind}.gguf`, metadata, tensors };
}

const bench: ModelGeometry = modelGeometry(syntheticHeader(BENCH_SPEC, QWEN2_VOCAB));
const host16: PlanOptions['host'] = { free: 16 * GiB, total: 32 * GiB };

describe('model geometry (bench shape: 24 layers, n_embd 896, 14 heads, 2 KV heads, FFN 4864, qwen2 vocab)', () => {
  it('reads the shape from the metadata', () => {
    expect(bench).toMatchObject({ architecture: 'qwen2', nLayer: 24, nEmbd: 896, nHead: 14, headDimK: 64, headDimV: 64, nFf: 4864, nVocab: QWEN2_VOCAB, trainContext: 32768 });
    expect(bench.nHeadKv).toEqual(new Array(24).fill(2));
  });

  it('sums each block from the tensor table', () => {
    // Q4_0 (18 bytes per 32 weights): q and o 896x896, k and v 896x128, gate/up/down 896x4864
    const matrices = ((896 * 896 * 2 + 896 * 128 * 2 + 896 * 4864 * 3) / 32) * 18;
    // f32: two norms (896), q/k/v biases (896 + 128 + 128)
    const small = (896 * 2 + 896 + 128 + 128) * 4;
    expect(matrices + small).toBe(8_398_336);
    expect(bench.layerBytes).toEqual(new Array(24).fill(8_398_336));
    // the Q4_0 matrices are what the CPU backend repacks (biases and norms are not)
    expect(bench.layerRepackBytes).toEqual(new Array(24).fill(matrices));
  });

  it('keeps token_embd on the host and counts a copy of it for the tied output layer', () => {
    const embd = ((896 * QWEN2_VOCAB) / 32) * 18;
    expect(bench.inputBytes).toBe(embd);
    expect(bench.outputTied).toBe(true);
    expect(bench.outputBytes).toBe(embd + 896 * 4);
    expect(bench.outputCopyBytes).toBe(embd);
    expect(bench.outputRepackBytes).toBe(embd);
    // on the CPU: the mapped file (the tied output matrix is token_embd itself) plus the repacked copies of
    // the blocks' matrices and of the output matrix. llama.cpp logs 265.25 MiB CPU_Mapped and 264.98 MiB
    // CPU_REPACK for this model.
    const mapped = embd + 24 * 8_398_336 + 896 * 4;
    const repacked = 24 * bench.layerRepackBytes[0]! + embd;
    expect(mapped / MiB).toBeCloseTo(265.25, 2);
    expect(repacked / MiB).toBeCloseTo(264.98, 2);
    expect(usageAt(bench, 0, 2048).host.weights).toBe(mapped + repacked);
  });

  it('KV cache per token = n_layer x n_head_kv x head_dim x 2 x bytes of the cache type', () => {
    expect(kvBytesPerToken(bench, 'f16')).toBe(24 * 2 * 64 * 2 * 2); // 12 KiB
    expect(kvBytesPerToken(bench, 'f32')).toBe(24 * 2 * 64 * 2 * 4);
    expect(kvBytesPerToken(bench, 'q8_0')).toBe(24 * 2 * 64 * 2 * (34 / 32));
    expect(kvBytesPerToken(bench, 'q4_0')).toBe(24 * 2 * 64 * 2 * (18 / 32));
  });

  it('the compute buffer grows with the context, much faster without flash attention', () => {
    const fa4k = computeBufferBytes(bench, 4096, { flashAttention: true });
    const fa32k = computeBufferBytes(bench, 32768, { flashAttention: true });
    const noFa32k = computeBufferBytes(bench, 32768, { flashAttention: false });
    expect(fa32k).toBeGreaterThan(fa4k);
    // without flash attention: 14 heads x 512 x 32768 f32 scores = 896 MiB on top
    expect(noFa32k - fa32k).toBeGreaterThan(896 * MiB);
  });
});

describe('planMemory with fake device memory', () => {
  it('a roomy GPU takes every layer and the output layer, and the full training context', () => {
    const p = planMemory(bench, { device: { free: 8 * GiB, total: 8 * GiB }, host: host16 });
    expect(p).toMatchObject({ gpuLayers: 25, contextSize: 32768, fits: true });
    expect(p.device!.kvCache).toBe(12288 * 32768);
    expect(p.device!.weights).toBe(24 * 8_398_336 + bench.outputBytes);
    expect(p.device!.total).toBeLessThanOrEqual(p.device!.budget);
    expect(p.host.weights).toBe(bench.inputBytes);
    // every block on the GPU: it holds 192.2 MiB of them (llama.cpp: "Vulkan0 model buffer size = 192.23 MiB")
    expect((24 * 8_398_336) / MiB).toBeCloseTo(192.23, 1); // llama.cpp pads each tensor to its alignment
  });

  it('a 1 GiB GPU still takes every layer; the context is the largest multiple of 256 that fits', () => {
    const o: PlanOptions = { device: { free: 1 * GiB, total: 1 * GiB }, host: host16 };
    const p = planMemory(bench, o);
    expect(p.gpuLayers).toBe(25);
    expect(p.fits).toBe(true);
    expect(p.contextSize % KV_PAD).toBe(0);
    expect(p.contextSize).toBeGreaterThan(8192);
    expect(p.contextSize).toBeLessThan(32768);
    const budget = 1 * GiB - 512 * MiB; // the default margin: max(512 MiB, 10 %)
    expect(p.device!.budget).toBe(budget);
    expect(usageAt(bench, 25, p.contextSize, o).device.total).toBeLessThanOrEqual(budget);
    expect(usageAt(bench, 25, p.contextSize + KV_PAD, o).device.total).toBeGreaterThan(budget);
  });

  it('a GPU too small for the whole model gets the most layers that fit at the floor context', () => {
    const o: PlanOptions = { device: { free: 700 * MiB, total: 700 * MiB }, host: host16 };
    const p = planMemory(bench, o);
    expect(p.gpuLayers).toBeGreaterThan(0);
    expect(p.gpuLayers).toBeLessThan(24);
    expect(p.fits).toBe(true);
    const budget = p.device!.budget;
    // most layers at the floor (2048 tokens) ...
    expect(usageAt(bench, p.gpuLayers, 2048, o).device.total).toBeLessThanOrEqual(budget);
    expect(usageAt(bench, p.gpuLayers + 1, 2048, o).device.total).toBeGreaterThan(budget);
    // ... then the longest context that still fits with those layers (less than one more layer's worth)
    expect(p.contextSize).toBeGreaterThanOrEqual(2048);
    expect(p.contextSize).toBeLessThan(8192);
    expect(usageAt(bench, p.gpuLayers, p.contextSize, o).device.total).toBeLessThanOrEqual(budget);
    expect(usageAt(bench, p.gpuLayers, p.contextSize + KV_PAD, o).device.total).toBeGreaterThan(budget);
    // the blocks that stay on the CPU keep their KV cache there
    expect(p.host.kvCache).toBe((12288 / 24) * (24 - p.gpuLayers) * p.contextSize);
  });

  it('a GPU with less free memory than the margin gets no layers', () => {
    const p = planMemory(bench, { device: { free: 400 * MiB, total: 4 * GiB }, host: host16 });
    expect(p.gpuLayers).toBe(0);
    expect(p.device!.total).toBe(0);
  });

  it('without a GPU, the context comes from host memory', () => {
    const p = planMemory(bench, { device: null, host: host16 });
    expect(p).toMatchObject({ gpuLayers: 0, contextSize: 32768, fits: true, device: null });
    const tight = planMemory(bench, { device: null, host: { free: 1.8 * GiB, total: 4 * GiB } });
    expect(tight.fits).toBe(true);
    expect(tight.contextSize).toBeLessThan(32768);
    expect(tight.contextSize).toBeGreaterThanOrEqual(2048);
  });

  it('says so when not even the smallest setting fits', () => {
    const p = planMemory(bench, { device: null, host: { free: 1.2 * GiB, total: 2 * GiB } });
    expect(p.fits).toBe(false);
    expect(p.contextSize).toBe(2048);
    expect(p.reason).toMatch(/host memory/);
  });

  it('a quantized KV cache and flash attention buy context under the same budget', () => {
    const device = { free: 1 * GiB, total: 1 * GiB };
    const f16 = planMemory(bench, { device, host: host16 });
    const q8 = planMemory(bench, { device, host: host16, cacheType: 'q8_0' });
    const noFa = planMemory(bench, { device, host: host16, flashAttention: 'off' });
    expect(q8.contextSize).toBeGreaterThan(f16.contextSize);
    expect(noFa.contextSize).toBeLessThan(f16.contextSize);
  });

  it('honours the training length, a lower maximum, a floor and fixed settings', () => {
    const device = { free: 8 * GiB, total: 8 * GiB };
    expect(planMemory(bench, { device, host: host16, maxContext: 1 << 20 }).contextSize).toBe(32768);
    expect(planMemory(bench, { device, host: host16, maxContext: 8000 }).contextSize).toBe(8000);
    expect(planMemory(bench, { device, host: host16, gpuLayers: 10 })).toMatchObject({ gpuLayers: 10, contextSize: 32768 });
    expect(planMemory(bench, { device, host: host16, gpuLayers: -1 }).gpuLayers).toBe(25);
    const small = { free: 700 * MiB, total: 700 * MiB };
    const at2k = planMemory(bench, { device: small, host: host16 });
    const atFloor = planMemory(bench, { device: small, host: host16, minContext: 4096 });
    expect(atFloor.contextSize).toBeGreaterThanOrEqual(4096);
    expect(atFloor.gpuLayers).toBeLessThanOrEqual(at2k.gpuLayers);
    const fixedCtx = planMemory(bench, { device: small, host: host16, contextSize: 16384 });
    expect(fixedCtx.contextSize).toBe(16384);
    expect(fixedCtx.gpuLayers).toBeLessThan(atFloor.gpuLayers);
  });

  it('tiny model: a floor above the training length is capped to it', () => {
    const tiny = modelGeometry(syntheticHeader({ ...TINY_SPEC, contextLength: 1024 }, QWEN2_VOCAB));
    const p = planMemory(tiny, { device: { free: 8 * GiB, total: 8 * GiB }, host: host16 });
    expect(p).toMatchObject({ gpuLayers: 3, contextSize: 1024, fits: true });
  });
});

describe('against a generated file', () => {
  it('reads the geometry of the tiny test model from its GGUF header', async () => {
    const g = modelGeometry(await readGgufHeader(TINY_MODEL));
    expect(g).toMatchObject({ nLayer: TINY_SPEC.nLayer, nEmbd: TINY_SPEC.nEmbd, nHead: TINY_SPEC.nHead, trainContext: TINY_SPEC.contextLength });
    expect(g.nHeadKv).toEqual([TINY_SPEC.nHeadKv, TINY_SPEC.nHeadKv]);
    expect(g.layerBytes.every((b) => b > 0)).toBe(true);
    // 2 layers x 2 KV heads x (16 + 16) x 2 bytes
    expect(kvBytesPerToken(g)).toBe(256);
  });

  it('the KV cache formula matches what llama.cpp allocates', async () => {
    const lines: string[] = [];
    setLogHandler((_level, message) => lines.push(message), 'info');
    try {
      await using model = await loadModel({ path: TINY_MODEL });
      await using _ctx = await model.createContext({ contextSize: 1000, threads: 1 });
      // log lines travel to JavaScript asynchronously
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      setLogHandler(null);
    }
    const m = lines.map((l) => /llama_kv_cache: size =\s*([\d.]+) MiB \(\s*(\d+) cells/.exec(l)).find(Boolean);
    expect(m, 'llama.cpp logs its KV cache size').toBeTruthy();
    const cells = Number(m![2]);
    expect(cells).toBe(1024); // 1000 rounded up to 256
    const g = modelGeometry(await readGgufHeader(TINY_MODEL));
    expect(Number(m![1])).toBeCloseTo((kvBytesPerToken(g) * cells) / MiB, 2);
  });
});
