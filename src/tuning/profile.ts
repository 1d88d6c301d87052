// Tuning profiles: the recommended settings for one model on this machine, saved as
// <dataDir>/profiles/<model key>.json for the backend (and the UI) to use. The key is
// `<file name slug>-<header hash>` (see model-id.ts), so a renamed file still finds its profile.
import { mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { WestfallError } from '../errors.js';
import { describeModel } from './model-id.js';
import type { Recommendation } from './recommend.js';
import { describeObjective } from './recommend.js';
import { flashAttentionSchema, kvCacheTypeSchema, machineInfoSchema, modelDescriptorSchema, type ConfigResult, type SweepReport } from './types.js';

export const PROFILE_SCHEMA_VERSION = 1;
export const PROFILES_DIR = 'profiles';

/** The settings the backend applies: loadModel({ gpuLayers }) and model.createContext({ ...the rest }). */
export const profileSettingsSchema = z
  .object({
    threads: z.number().int().min(1).max(512),
    threadsBatch: z.number().int().min(1).max(512),
    batchSize: z.number().int().min(1).max(1 << 16),
    ubatchSize: z.number().int().min(1).max(1 << 16),
    flashAttention: flashAttentionSchema,
    gpuLayers: z.number().int().min(-1),
    contextSize: z.number().int().min(64).max(1 << 20),
    /** Informational until the engine can set it (llama_context_params.type_k / type_v). */
    kvCacheType: kvCacheTypeSchema,
  })
  .strict()
  .refine((s) => s.ubatchSize <= s.batchSize, { message: 'ubatchSize must not exceed batchSize', path: ['ubatchSize'] });
export type ProfileSettings = z.infer<typeof profileSettingsSchema>;

const measuredSchema = z.object({
  ppTokensPerSecond: z.number().nonnegative(),
  tgTokensPerSecond: z.number().nonnegative(),
  ttftMs: z.number().nonnegative(),
  loadMs: z.number().nonnegative(),
  peakRssBytes: z.number().nonnegative(),
  kvBytes: z.number().nonnegative(),
});
export type ProfileMeasured = z.infer<typeof measuredSchema>;

export const tuningProfileSchema = z
  .object({
    schemaVersion: z.literal(PROFILE_SCHEMA_VERSION),
    createdAt: z.string().datetime(),
    model: modelDescriptorSchema,
    machine: machineInfoSchema,
    settings: profileSettingsSchema,
    measured: measuredSchema,
    /** The engine's defaults measured in the same run, and the recommended settings' ratio to them. */
    baseline: z.object({ label: z.string(), measured: measuredSchema }).nullable(),
    speedup: z.object({ tg: z.number(), pp: z.number(), ttft: z.number() }).nullable(),
    objective: z.string(),
    sweep: z.object({
      configurations: z.number().int().min(1),
      repetitions: z.number().int().min(1),
      promptTokens: z.number().int(),
      genTokens: z.number().int(),
      durationMs: z.number(),
    }),
    /** Chart of the sweep, a file name next to the profile (optional). */
    chart: z.string().regex(/^[^/\\]+\.svg$/).nullable().default(null),
  })
  .strict();
export type TuningProfile = z.infer<typeof tuningProfileSchema>;

function measured(r: ConfigResult): ProfileMeasured {
  return {
    ppTokensPerSecond: r.ppTokensPerSecond,
    tgTokensPerSecond: r.tgTokensPerSecond,
    ttftMs: r.ttftMs,
    loadMs: r.loadMs,
    peakRssBytes: r.memory.peakRssBytes,
    kvBytes: r.memory.kvBytes,
  };
}

/** The profile for a sweep's recommendation. */
export function createProfile(report: SweepReport, rec: Recommendation, opts: { chart?: string | null } = {}): TuningProfile {
  const c = rec.best.config;
  return tuningProfileSchema.parse({
    schemaVersion: PROFILE_SCHEMA_VERSION,
    createdAt: new Date().toISOString(),
    model: report.model,
    machine: report.machine,
    settings: {
      threads: c.threads,
      threadsBatch: c.threads,
      batchSize: c.batchSize,
      ubatchSize: c.ubatchSize,
      flashAttention: c.flashAttention === 'auto' && rec.best.flashAttentionResolved ? rec.best.flashAttentionResolved : c.flashAttention,
      gpuLayers: c.gpuLayers,
      contextSize: c.contextSize,
      kvCacheType: c.kvCacheType,
    },
    measured: measured(rec.best),
    baseline: rec.baseline ? { label: rec.baseline.label, measured: measured(rec.baseline) } : null,
    speedup: rec.speedup,
    objective: describeObjective(rec.objective),
    sweep: {
      configurations: report.results.length,
      repetitions: report.settings.repetitions,
      promptTokens: report.settings.promptTokens,
      genTokens: report.settings.genTokens,
      durationMs: report.durationMs,
    },
    chart: opts.chart ?? null,
  });
}

/** Validates a profile read from anywhere; throws invalid_config naming the fields. */
export function parseProfile(value: unknown, where = 'profile'): TuningProfile {
  const r = tuningProfileSchema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  throw new WestfallError('invalid_config', `invalid tuning profile ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
    details: { where, issues },
  });
}

export function profilesDir(dataDir: string): string {
  return path.join(dataDir, PROFILES_DIR);
}

export function profilePath(dataDir: string, key: string): string {
  if (!/^[a-z0-9_][a-z0-9._-]{0,127}$/.test(key)) throw new WestfallError('invalid_params', `invalid profile key '${key}'`);
  return path.join(profilesDir(dataDir), `${key}.json`);
}

/** Writes the profile atomically to <dataDir>/profiles/<model key>.json and returns the path. */
export async function saveProfile(dataDir: string, profile: TuningProfile): Promise<string> {
  const p = parseProfile(profile, `for ${profile?.model?.key ?? 'an unknown model'}`);
  const file = profilePath(dataDir, p.model.key);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(p, null, 2)}\n`);
  await rename(tmp, file);
  return file;
}

async function readProfileFile(file: string): Promise<TuningProfile> {
  const text = await readFile(file, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new WestfallError('invalid_config', `invalid tuning profile ${file}: not JSON (${(err as Error).message})`, { cause: err, details: { where: file } });
  }
  return parseProfile(json, file);
}

/**
 * The profile for a model: `model` is a GGUF path (its key is computed from the file, and a profile saved
 * under another file name with the same header hash is found too) or a profile key. Without `model`, the
 * most recent valid profile (a machine-level fallback; its gpuLayers and contextSize belong to another model).
 * Returns null when there is none; throws invalid_config when the matching file is not a valid profile.
 */
export async function loadProfile(dataDir: string, model?: string): Promise<TuningProfile | null> {
  const dir = profilesDir(dataDir);
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = names.filter((n) => n.endsWith('.json'));
  if (model === undefined) {
    let newest: TuningProfile | null = null;
    for (const f of files) {
      const p = await readProfileFile(path.join(dir, f)).catch(() => null);
      if (p && (!newest || p.createdAt > newest.createdAt)) newest = p;
    }
    return newest;
  }
  let key = model;
  let hash: string | null = null;
  if (model.toLowerCase().endsWith('.gguf') || model.includes('/') || model.includes('\\')) {
    const d = await describeModel(model);
    key = d.key;
    hash = d.hash;
  }
  if (files.includes(`${key}.json`)) return readProfileFile(profilePath(dataDir, key));
  if (hash) {
    const other = files.find((f) => f.endsWith(`-${hash}.json`));
    if (other) return readProfileFile(path.join(dir, other));
  }
  return null;
}

/** Every valid profile, newest first; invalid files are reported in `invalid`. */
export async function listProfiles(dataDir: string): Promise<{ profiles: TuningProfile[]; invalid: { file: string; error: string }[] }> {
  const dir = profilesDir(dataDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  const profiles: TuningProfile[] = [];
  const invalid: { file: string; error: string }[] = [];
  for (const n of names) {
    try {
      profiles.push(await readProfileFile(path.join(dir, n)));
    } catch (err) {
      invalid.push({ file: path.join(dir, n), error: (err as Error).message });
    }
  }
  profiles.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  return { profiles, invalid };
}

/** The engine options a profile stands for. */
export function profileToEngineOptions(profile: TuningProfile): {
  load: { gpuLayers: number };
  context: { contextSize: number; threads: number; threadsBatch: number; batchSize: number; ubatchSize: number; flashAttention: 'on' | 'off' | 'auto' };
} {
  const s = profile.settings;
  return {
    load: { gpuLayers: s.gpuLayers },
    context: {
      contextSize: s.contextSize,
      threads: s.threads,
      threadsBatch: s.threadsBatch,
      batchSize: s.batchSize,
      ubatchSize: s.ubatchSize,
      flashAttention: s.flashAttention,
    },
  };
}
