// Hand-made sweep results for tests of recommend(), reports and profiles.
import { configId, configLabel, summarize, type ConfigResult, type SweepConfig, type SweepReport } from '../../src/tuning/index.js';

export interface FakeFigures {
  threads?: number;
  batch?: number;
  fa?: 'on' | 'off' | 'auto';
  pp: number;
  tg: number;
  ttft: number;
  peakMiB?: number;
  isDefault?: boolean;
  ok?: boolean;
}

export function fakeResult(f: FakeFigures): ConfigResult {
  const config: SweepConfig = {
    threads: f.threads ?? 2,
    batchSize: f.batch ?? 512,
    ubatchSize: Math.min(f.batch ?? 512, 512),
    gpuLayers: 0,
    flashAttention: f.fa ?? 'on',
    kvCacheType: 'f16',
    contextSize: 4096,
  };
  const ok = f.ok ?? true;
  return {
    id: configId(config),
    label: f.isDefault ? `defaults (${configLabel(config)})` : configLabel(config),
    config,
    isDefault: f.isDefault ?? false,
    ok,
    error: ok ? null : 'boom',
    ppTokensPerSecond: ok ? f.pp : 0,
    tgTokensPerSecond: ok ? f.tg : 0,
    ttftMs: ok ? f.ttft : 0,
    loadMs: 500,
    pp: summarize(ok ? [f.pp * 0.98, f.pp, f.pp * 1.01] : []),
    tg: summarize(ok ? [f.tg * 0.99, f.tg, f.tg * 1.02] : []),
    ttft: summarize(ok ? [f.ttft] : []),
    load: summarize([500]),
    memory: {
      rssDeltaBytes: (f.peakMiB ?? 700) * 2 ** 20 - 60 * 2 ** 20,
      peakRssBytes: (f.peakMiB ?? 700) * 2 ** 20,
      modelBytes: 270 * 2 ** 20,
      kvBytes: 48 * 2 ** 20,
      kvBytesSource: 'engine',
      computeBytes: 30 * 2 ** 20,
      buffers: [],
    },
    flashAttentionResolved: config.flashAttention === 'auto' ? 'on' : config.flashAttention,
    wallMs: 1000,
  };
}

export function fakeReport(results: ConfigResult[]): SweepReport {
  return {
    schemaVersion: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    durationMs: 12_000,
    machine: {
      cpu: 'Test CPU <&>',
      logicalCores: 2,
      totalMemoryBytes: 8 * 2 ** 30,
      platform: 'linux',
      arch: 'x64',
      node: 'v20.0.0',
      backend: 'cpu',
      gpuOffload: false,
      cpuFeatures: 'AVX2',
      devices: [],
    },
    model: {
      path: '/models/test.gguf',
      key: 'test-0123456789abcdef',
      hash: '0123456789abcdef',
      name: 'Test "model"',
      architecture: 'qwen2',
      fileSizeBytes: 1000,
      parameterCount: 494_000_000,
      layerCount: 24,
      synthetic: null,
    },
    settings: { promptTokens: 512, genTokens: 128, ttftPromptTokens: 32, repetitions: 3, warmup: true, isolation: 'process', sampling: 'default' },
    results,
    systemLoad: { before: [0.5, 0.5, 0.5], after: [0.6, 0.6, 0.6] },
    notes: [],
  };
}
