// The model catalog's data (every entry valid, unique, plausible memory figures) and the recommendation by
// the machine's memory (fake sizes: no real machine is consulted).

import { totalmem } from 'node:os';
import { describe, expect, it } from 'vitest';
import { MODEL_CATALOG, catalogEntrySchema, parseCatalog, type CatalogEntry } from '../../src/models/catalog.js';
import { detectMachineMemory, fitCatalog, hostModelBudget, modelBudget } from '../../src/models/fit.js';
import { TYPICAL_CONTEXT, estimateMemoryBytes, kvCacheBytes } from '../../src/models/footprint.js';

const GiB = 2 ** 30;
const byId = (id: string): CatalogEntry => {
  const e = MODEL_CATALOG.find((c) => c.id === id);
  if (!e) throw new Error(`no catalog entry ${id}`);
  return e;
};
const recommended = (totalBytes: number, gpuBytes: number | null = null): CatalogEntry => {
  const id = fitCatalog(MODEL_CATALOG, { totalBytes, gpuBytes }).recommended;
  return byId(id!);
};

describe('catalog data', () => {
  it('every entry passes the schema, and ids and file names are unique', () => {
    for (const e of MODEL_CATALOG) {
      const r = catalogEntrySchema.safeParse(e);
      expect(r.success, `${e.id}: ${r.success ? '' : r.error.message}`).toBe(true);
    }
    expect(new Set(MODEL_CATALOG.map((e) => e.id)).size).toBe(MODEL_CATALOG.length);
    expect(new Set(MODEL_CATALOG.map((e) => e.fileName)).size).toBe(MODEL_CATALOG.length);
    expect(new Set(MODEL_CATALOG.map((e) => e.url)).size).toBe(MODEL_CATALOG.length);
    expect(() => parseCatalog([...MODEL_CATALOG, { ...MODEL_CATALOG[1]!, default: false, id: 'other' }])).toThrow(/duplicate fileName/);
  });

  it('states capabilities, licence and memory for every entry', () => {
    for (const e of MODEL_CATALOG) {
      expect(typeof e.thinks).toBe('boolean');
      expect(typeof e.toolCalls).toBe('boolean');
      expect(e.license.length).toBeGreaterThan(0);
      expect(e.licenseUrl).toMatch(/^https:\/\//);
      expect(e.contextLength).toBeGreaterThanOrEqual(TYPICAL_CONTEXT);
      // The weights plus a KV cache and compute buffer: more than the file, and not absurdly more.
      expect(e.memoryBytes, e.id).toBeGreaterThan(e.sizeBytes);
      expect(e.memoryBytes - e.sizeBytes, e.id).toBeLessThan(4e9);
      // Without a pinned hash the downloader needs Hugging Face's X-Linked-ETag.
      expect(e.sha256 !== undefined || e.hashSource === 'x-linked-etag').toBe(true);
    }
    // Today's small models are here, and most of them think and call tools.
    const agentic = MODEL_CATALOG.filter((e) => e.thinks && e.toolCalls).map((e) => e.id);
    expect(agentic).toEqual(expect.arrayContaining(['qwen3.5-4b-q4_k_m', 'gemma-4-e4b-it-q4_k_m', 'gpt-oss-20b-mxfp4', 'smollm3-3b-q4_k_m']));
    expect(byId('deepseek-r1-distill-qwen-1.5b-q4_k_m')).toMatchObject({ thinks: true, toolCalls: false, license: 'MIT' });
    expect(byId('gemma-2-2b-it-q4_k_m')).toMatchObject({ thinks: false, toolCalls: false, license: 'Gemma Terms of Use' });
    expect(byId('llama-3.2-3b-instruct-q4_k_m').license).toBe('Llama 3.2 Community License');
  });

  it('estimates memory from the architecture: sliding windows and recurrent blocks keep the KV cache small', () => {
    // Llama 3.2 3B: 28 blocks × 8 KV heads × 128 × (K + V) × f16 = 112 KiB per token.
    const llama = { embd: 3072, heads: 24, ff: 8192, vocab: 128256, kv: [{ layers: 28, kvHeads: 8, headDim: 128 }] };
    expect(kvCacheBytes(llama, 8192)).toBe(28 * 8 * 128 * 2 * 2 * 8192);
    // A sliding-window group caches window + micro-batch cells, whatever the context.
    const swa = { ...llama, kv: [{ layers: 28, kvHeads: 8, headDim: 128, window: 512 }] };
    expect(kvCacheBytes(swa, 8192)).toBe(28 * 8 * 128 * 2 * 2 * 1024);
    expect(kvCacheBytes(swa, 65536)).toBe(kvCacheBytes(swa, 8192));
    // More context costs more; the estimate is at least file + KV cache.
    expect(estimateMemoryBytes(2e9, llama, 32768)).toBeGreaterThan(estimateMemoryBytes(2e9, llama, 8192));
    expect(estimateMemoryBytes(2e9, llama)).toBeGreaterThan(2e9 + kvCacheBytes(llama));
    // Phi-3.5 mini (no grouped-query attention) needs far more for its cache than the hybrid Qwen3.5 4B.
    const phi = byId('phi-3.5-mini-instruct-q4_k_m');
    const qwen = byId('qwen3.5-4b-q4_k_m');
    expect(phi.memoryBytes - phi.sizeBytes).toBeGreaterThan(5 * (qwen.memoryBytes - qwen.sizeBytes));
  });
});

describe('recommendation by memory', () => {
  it('budgets RAM after what the system keeps, or the GPU after its margin, whichever is larger', () => {
    expect(hostModelBudget(2 * GiB)).toBe(0);
    expect(hostModelBudget(8 * GiB)).toBe(8 * GiB - Math.round(0.35 * 8 * GiB));
    expect(modelBudget({ totalBytes: 8 * GiB })).toBe(hostModelBudget(8 * GiB));
    expect(modelBudget({ totalBytes: 8 * GiB, gpuBytes: 24 * GiB })).toBeGreaterThan(20 * GiB);
    expect(modelBudget({ totalBytes: 32 * GiB, gpuBytes: 4 * GiB })).toBe(hostModelBudget(32 * GiB));
  });

  it('reads this machine without loading the engine', () => {
    // Nothing in this file loads the addon, so no GPU is known (choosing a variant would probe GPUs).
    expect(detectMachineMemory()).toEqual({ totalBytes: totalmem(), gpuBytes: null });
  });

  it('8 GB picks a ~4B model that thinks and calls tools', () => {
    const r = recommended(8 * GiB);
    expect(r.parameterCount).toBeGreaterThanOrEqual(3.5e9);
    expect(r.parameterCount).toBeLessThanOrEqual(5e9);
    expect(r).toMatchObject({ thinks: true, toolCalls: true });
    expect(r.memoryBytes).toBeLessThanOrEqual(hostModelBudget(8 * GiB));
  });

  it('16 GB picks a larger one, 32 GB gpt-oss-20b', () => {
    const r16 = recommended(16 * GiB);
    expect(r16.parameterCount).toBeGreaterThan(recommended(8 * GiB).parameterCount);
    expect(r16.id).not.toBe('gpt-oss-20b-mxfp4');
    expect(recommended(32 * GiB).id).toBe('gpt-oss-20b-mxfp4');
    // A GPU with 24 GB on a machine with 8 GB of RAM runs it too.
    expect(recommended(8 * GiB, 24 * GiB).id).toBe('gpt-oss-20b-mxfp4');
  });

  it('2 GB: nothing fits, the smallest model is still recommended', () => {
    const fit = fitCatalog(MODEL_CATALOG, { totalBytes: 2 * GiB });
    expect([...fit.fits.values()].some(Boolean)).toBe(false);
    const smallest = [...MODEL_CATALOG].sort((a, b) => a.memoryBytes - b.memoryBytes)[0]!;
    expect(fit.recommended).toBe(smallest.id);
  });

  it('prefers models that think and call tools over bigger ones that do not', () => {
    const catalog = MODEL_CATALOG.filter((e) => ['qwen3.5-2b-q4_k_m', 'qwen2.5-7b-instruct-q4_k_m', 'deepseek-r1-distill-qwen-1.5b-q4_k_m'].includes(e.id));
    expect(fitCatalog(catalog, { totalBytes: 64 * GiB }).recommended).toBe('qwen3.5-2b-q4_k_m');
    // Without any agentic model, the one with the most parameters.
    expect(fitCatalog(catalog.filter((e) => !e.toolCalls || !e.thinks), { totalBytes: 64 * GiB }).recommended).toBe('qwen2.5-7b-instruct-q4_k_m');
    // The fits map agrees with the budget for every entry.
    const fit = fitCatalog(MODEL_CATALOG, { totalBytes: 12 * GiB });
    for (const e of MODEL_CATALOG) expect(fit.fits.get(e.id)).toBe(e.memoryBytes <= fit.budgetBytes);
    expect(fitCatalog([], { totalBytes: 8 * GiB }).recommended).toBeNull();
  });
});
