import { describe, expect, it } from 'vitest';
import { defaultThreads } from '../../src/engine/options.js';
import { buildGrid, configId, defaultConfig, niceScale, escapeXml, renderSvg, svgElement } from '../../src/tuning/index.js';
import { EngineLogReader } from '../../src/tuning/measure.js';

const CPU = { gpuOffload: false, kvCacheTypeSupported: false };

describe('buildGrid', () => {
  it('crosses every setting and adds the engine defaults once', () => {
    const { configs, defaultId } = buildGrid({ model: 'x', threads: [1, 2], batchSizes: [128, 512], flashAttention: ['on', 'off'] }, CPU);
    expect(configs).toHaveLength(9);
    expect(defaultId).toBe(configId(defaultConfig()));
    expect(configs.filter((c) => configId(c) === defaultId)).toHaveLength(1);
    expect(configs.map((c) => c.ubatchSize)).toContain(128);
    // The defaults already in the grid are not added again.
    const d = defaultConfig();
    const g = buildGrid({ model: 'x', threads: [d.threads], batchSizes: [512], flashAttention: ['auto'] }, CPU);
    expect(g.configs).toHaveLength(1);
    expect(buildGrid({ model: 'x', threads: [defaultThreads()], includeDefaults: false }, CPU).defaultId).toBeNull();
  });

  it('pairs micro-batches only with batches they do not exceed', () => {
    const { configs } = buildGrid({ model: 'x', threads: [1], batchSizes: [128, 512], ubatchSizes: [128, 256], flashAttention: ['on'], includeDefaults: false }, CPU);
    expect(configs.map((c) => `${c.batchSize}/${c.ubatchSize}`)).toEqual(['128/128', '512/128', '512/256']);
  });

  it('drops what the engine cannot do, with a note', () => {
    const g = buildGrid({ model: 'x', threads: [1], gpuLayers: [0, -1, 10], kvCacheTypes: ['f16', 'q8_0'], includeDefaults: false }, CPU);
    expect(g.configs.every((c) => c.gpuLayers === 0 && c.kvCacheType === 'f16')).toBe(true);
    expect(g.notes.join('\n')).toMatch(/no GPU offload/);
    expect(g.notes.join('\n')).toMatch(/type_k \/ type_v/);
    const gpu = buildGrid({ model: 'x', threads: [1], gpuLayers: [0, -1], flashAttention: ['on', 'off'], kvCacheTypes: ['f16', 'q8_0'], includeDefaults: false }, { gpuOffload: true, kvCacheTypeSupported: true });
    // q8_0 V cache needs flash attention: (on, f16), (on, q8_0), (off, f16) per GPU setting
    expect(gpu.configs).toHaveLength(6);
    expect(gpu.notes).toEqual([]);
  });

  it('the defaults row offloads what the backend would offload by itself', () => {
    const gpu = { gpuOffload: true, kvCacheTypeSupported: true, autoGpuLayers: 25 };
    const g = buildGrid({ model: 'x', threads: [1], gpuLayers: [0], flashAttention: ['on'] }, gpu);
    expect(g.defaultId).toBe(configId(defaultConfig(undefined, 25)));
    expect(g.configs.find((c) => configId(c) === g.defaultId)!.gpuLayers).toBe(25);
    // Without GPU offload the plan is irrelevant: the defaults run on the CPU.
    expect(buildGrid({ model: 'x', threads: [1] }, { ...CPU, autoGpuLayers: 25 }).defaultId).toBe(configId(defaultConfig()));
  });
});

describe('EngineLogReader', () => {
  it('reads buffer sizes, KV types and the flash-attention decision from llama.cpp log lines', () => {
    const r = new EngineLogReader();
    for (const l of [
      'load_tensors:   CPU_Mapped model buffer size =     5.26 MiB',
      'llama_kv_cache:        CPU KV buffer size =     1.00 MiB',
      'llama_kv_cache: size =    1.00 MiB (  4096 cells,   2 layers,  1/1 seqs), K (f16):    0.50 MiB, V (q8_0):    0.50 MiB',
      'resolve_fused_ops: Flash Attention enabled',
      'sched_reserve:        CPU compute buffer size =     5.01 MiB',
    ])
      r.line(l);
    expect(r.buffers).toEqual([
      { kind: 'model', device: 'CPU_Mapped', bytes: Math.round(5.26 * 2 ** 20) },
      { kind: 'kv', device: 'CPU', bytes: 2 ** 20 },
      { kind: 'compute', device: 'CPU', bytes: Math.round(5.01 * 2 ** 20) },
    ]);
    expect(r.kvTypes).toEqual({ k: 'f16', v: 'q8_0' });
    expect(r.flashAttention).toBe('on');
  });
});

describe('svg writer', () => {
  it('escapes text and attributes', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
    expect(renderSvg(svgElement('text', { x: 1.234, 'data-x': '"<&>' }, 'x < y & z'))).toBe('<text x="1.23" data-x="&quot;&lt;&amp;&gt;">x &lt; y &amp; z</text>');
    expect(renderSvg(svgElement('g', {}, svgElement('rect', { width: 2 }), null, false))).toBe('<g>\n  <rect width="2"/>\n</g>');
  });

  it('chooses round axis steps', () => {
    expect(niceScale(94)).toEqual({ max: 100, step: 20 });
    expect(niceScale(231)).toEqual({ max: 250, step: 50 });
    expect(niceScale(0)).toEqual({ max: 1, step: 0.2 });
    expect(niceScale(1.1).max).toBeGreaterThanOrEqual(1.1);
  });
});
