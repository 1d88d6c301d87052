// Shapes of the tuning sweep: one configuration, its measurements, and the whole report. They are zod
// schemas so that a report written by `westfall bench` can be validated when the UI reads it back.
import { z } from 'zod';

/** KV-cache element types llama.cpp accepts for type_k / type_v (the common ones). */
export { KV_CACHE_TYPES } from '../engine/options.js';
import { KV_CACHE_TYPES } from '../engine/options.js';
export const kvCacheTypeSchema = z.enum(KV_CACHE_TYPES);
export type KvCacheType = z.infer<typeof kvCacheTypeSchema>;

export const flashAttentionSchema = z.enum(['on', 'off', 'auto']);
export type FlashAttention = z.infer<typeof flashAttentionSchema>;

/** One point of the sweep: everything that is set when the model is loaded and the context created. */
export const sweepConfigSchema = z
  .object({
    threads: z.number().int().min(1).max(512),
    batchSize: z.number().int().min(1).max(1 << 16),
    ubatchSize: z.number().int().min(1).max(1 << 16),
    gpuLayers: z.number().int().min(-1),
    flashAttention: flashAttentionSchema,
    kvCacheType: kvCacheTypeSchema,
    contextSize: z.number().int().min(64).max(1 << 20),
  })
  .strict()
  .refine((c) => c.ubatchSize <= c.batchSize, { message: 'ubatchSize must not exceed batchSize', path: ['ubatchSize'] });
export type SweepConfig = z.infer<typeof sweepConfigSchema>;

export const sampleSummarySchema = z.object({
  median: z.number(),
  min: z.number(),
  max: z.number(),
  n: z.number().int(),
  relativeSpread: z.number(),
});

export const bufferSchema = z.object({
  kind: z.enum(['model', 'kv', 'compute', 'output']),
  device: z.string(),
  bytes: z.number(),
});
export type EngineBuffer = z.infer<typeof bufferSchema>;

export const memoryFiguresSchema = z.object({
  /** RSS after the run minus RSS before the model was loaded (median over repetitions). */
  rssDeltaBytes: z.number(),
  /** Highest RSS of the process while this configuration ran (median over repetitions). */
  peakRssBytes: z.number(),
  /** Weights as llama.cpp reports them (model.info.tensorSizeBytes). */
  modelBytes: z.number(),
  /** KV cache: from llama.cpp's log when captured, else computed from the GGUF geometry. */
  kvBytes: z.number(),
  kvBytesSource: z.enum(['engine', 'estimate']),
  /** Compute (scratch) buffers, from llama.cpp's log; null when not captured. */
  computeBytes: z.number().nullable(),
  /** Every buffer llama.cpp allocated (model, kv, compute, output), when its log was captured. */
  buffers: z.array(bufferSchema),
});
export type MemoryFigures = z.infer<typeof memoryFiguresSchema>;

export const configResultSchema = z.object({
  id: z.string(),
  label: z.string(),
  config: sweepConfigSchema,
  /** This is what the engine does with no settings at all (the baseline for the speedup). */
  isDefault: z.boolean(),
  ok: z.boolean(),
  error: z.string().nullable(),
  /** Medians. NaN-free: 0 where the configuration failed. */
  ppTokensPerSecond: z.number(),
  tgTokensPerSecond: z.number(),
  ttftMs: z.number(),
  loadMs: z.number(),
  pp: sampleSummarySchema,
  tg: sampleSummarySchema,
  ttft: sampleSummarySchema,
  load: sampleSummarySchema,
  memory: memoryFiguresSchema,
  /** What `auto` resolved to, or the explicit value; null if unknown. */
  flashAttentionResolved: z.enum(['on', 'off']).nullable(),
  /** Wall time spent on this configuration, all repetitions. */
  wallMs: z.number(),
});
export type ConfigResult = z.infer<typeof configResultSchema>;

export const machineInfoSchema = z.object({
  cpu: z.string(),
  logicalCores: z.number().int(),
  totalMemoryBytes: z.number(),
  platform: z.string(),
  arch: z.string(),
  node: z.string(),
  backend: z.string(),
  gpuOffload: z.boolean(),
  cpuFeatures: z.string(),
  devices: z.array(z.object({ name: z.string(), type: z.string(), memoryTotal: z.number(), memoryFree: z.number() })),
});
export type MachineInfo = z.infer<typeof machineInfoSchema>;

export const modelDescriptorSchema = z.object({
  path: z.string(),
  /** File name of the profile without .json: `<slug>-<hash>`. */
  key: z.string().min(1),
  /** sha256 over the GGUF header (metadata and tensor table) and the file size, 16 hex digits. */
  hash: z.string().regex(/^[0-9a-f]{16}$/),
  name: z.string().nullable(),
  architecture: z.string(),
  fileSizeBytes: z.number().int().nonnegative(),
  parameterCount: z.number().nonnegative(),
  layerCount: z.number().int().nonnegative(),
  /** The synthetic shape this model was generated from, if any (e.g. 'qwen2-0.5b'). */
  synthetic: z.string().nullable(),
});
export type ModelDescriptor = z.infer<typeof modelDescriptorSchema>;

export const sweepSettingsSchema = z.object({
  promptTokens: z.number().int(),
  genTokens: z.number().int(),
  ttftPromptTokens: z.number().int(),
  repetitions: z.number().int(),
  warmup: z.boolean(),
  isolation: z.enum(['process', 'none']),
  sampling: z.string(),
});
export type SweepSettings = z.infer<typeof sweepSettingsSchema>;

export const sweepReportSchema = z.object({
  schemaVersion: z.literal(1),
  createdAt: z.string(),
  durationMs: z.number(),
  machine: machineInfoSchema,
  model: modelDescriptorSchema,
  settings: sweepSettingsSchema,
  results: z.array(configResultSchema),
  /** os.loadavg() before and after the sweep: figures from a busy machine are less trustworthy. */
  systemLoad: z.object({ before: z.array(z.number()), after: z.array(z.number()) }),
  /** Things the sweep could not do, e.g. a KV-cache type the engine cannot set. */
  notes: z.array(z.string()),
});
export type SweepReport = z.infer<typeof sweepReportSchema>;
