// Resolves the configuration: CLI overrides > environment variables > .env file (current directory, then
// the data directory) > defaults. Every invalid value is reported at once, by its key.
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import { WestfallError } from '../errors.js';
import { readEnvFile } from './env-file.js';
import { modelFileProblem } from './model-file.js';
import { dataSubdirs, defaultDataDir, type PlatformInfo } from './paths.js';
import { SETTING_KEYS, settingsSchema, type Config, type RawSettings, type SettingKey, type Settings } from './schema.js';
import { homedir } from 'node:os';

export type SettingSource = 'override' | 'env' | 'env-file' | 'default';

export interface ConfigIssue {
  key: SettingKey | string;
  message: string;
}

export class ConfigError extends WestfallError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    const list = issues.map((i) => `  ${i.key}: ${i.message}`).join('\n');
    super('invalid_config', `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${list}`, {
      details: { issues },
    });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

export interface LoadConfigOptions {
  /** Environment variables; default process.env. */
  env?: Record<string, string | undefined>;
  /** Where relative paths and the first .env are resolved; default process.cwd(). */
  cwd?: string;
  /** Highest precedence (CLI flags). */
  overrides?: RawSettings;
  /** Explicit .env files to read instead of the defaults, or false to read none. */
  envFiles?: string[] | false;
  /** For tests: pretend to run on another OS. */
  platform?: Partial<PlatformInfo>;
}

export interface LoadedConfig {
  config: Config;
  /** Where each setting's value came from. */
  sources: Record<SettingKey, SettingSource>;
  /** The .env files that were found and read, in precedence order. */
  envFiles: string[];
  /** Non-fatal remarks, e.g. unknown WESTFALL_* keys (likely typos). */
  warnings: string[];
}

const KNOWN = new Set<string>(SETTING_KEYS);
// Values never echoed in messages or logs.
const SECRET_KEYS = new Set<string>(['WESTFALL_API_TOKEN']);

function pickSettings(record: Record<string, unknown>): RawSettings {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record)) {
    if (!KNOWN.has(k) || v === undefined || v === null) continue;
    if (typeof v === 'string' && v.trim() === '') continue; // an empty value means "unset"
    out[k] = v;
  }
  return out as RawSettings;
}

function unknownKeys(record: Record<string, unknown>, where: string): string[] {
  return Object.keys(record)
    .filter((k) => k.startsWith('WESTFALL_') && !KNOWN.has(k))
    .map((k) => `unknown setting ${k} in ${where} (ignored)`);
}

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const platform: PlatformInfo = {
    platform: options.platform?.platform ?? process.platform,
    env: options.platform?.env ?? env,
    home: options.platform?.home ?? homedir(),
  };
  const overrides = pickSettings(options.overrides ?? {});
  const fromEnv = pickSettings(env);
  const warnings = unknownKeys(env, 'the environment');

  // .env files: the one in the working directory, then the one in the data directory (whose location
  // may itself come from the first).
  const envFiles: string[] = [];
  const fileLayers: RawSettings[] = [];
  const readLayer = (file: string) => {
    const values = readEnvFile(file);
    if (!values) return;
    envFiles.push(file);
    fileLayers.push(pickSettings(values));
    warnings.push(...unknownKeys(values, file));
  };
  if (options.envFiles === false) {
    // none
  } else if (options.envFiles) {
    for (const f of options.envFiles) readLayer(path.resolve(cwd, f));
  } else {
    readLayer(path.join(cwd, '.env'));
    const dataDirSetting = overrides.WESTFALL_DATA_DIR ?? fromEnv.WESTFALL_DATA_DIR ?? fileLayers[0]?.WESTFALL_DATA_DIR;
    const dataDir = typeof dataDirSetting === 'string' ? path.resolve(cwd, dataDirSetting) : defaultDataDir(platform);
    const dataEnv = path.join(dataDir, '.env');
    if (dataEnv !== path.join(cwd, '.env')) readLayer(dataEnv);
  }

  const merged: RawSettings = {};
  const sources = {} as Record<SettingKey, SettingSource>;
  for (const key of SETTING_KEYS) {
    const layers: [RawSettings, SettingSource][] = [[overrides, 'override'], [fromEnv, 'env'], ...fileLayers.map((l) => [l, 'env-file'] as [RawSettings, SettingSource])];
    const hit = layers.find(([layer]) => layer[key] !== undefined);
    sources[key] = hit ? hit[1] : 'default';
    if (hit) merged[key] = normalize(hit[0][key]);
  }

  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    // One entry per key, with every reason it fails.
    const byKey = new Map<string, string[]>();
    for (const i of parsed.error.issues) {
      const key = String(i.path[0] ?? '(config)');
      byKey.set(key, [...(byKey.get(key) ?? []), i.message]);
    }
    throw new ConfigError(
      [...byKey].map(([key, messages]) => ({
        key,
        message: describeIssue([...new Set(messages)].join('; '), SECRET_KEYS.has(key) ? undefined : merged[key as SettingKey]),
      })),
    );
  }
  const config = toConfig(parsed.data, cwd, platform);
  const issues = checkPaths(config);
  if (issues.length > 0) throw new ConfigError(issues);
  return { config, sources, envFiles, warnings };
}

function normalize(v: RawSettings[SettingKey]): string | number | boolean | undefined {
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'boolean') return String(v);
  return v as string | number | undefined;
}

function describeIssue(message: string, value: unknown): string {
  if (value === undefined) return message;
  const shown = typeof value === 'string' && value.length > 60 ? `${value.slice(0, 57)}...` : String(value);
  return `${message} (got "${shown}")`;
}

function toConfig(s: Settings, cwd: string, platform: PlatformInfo): Config {
  const dataDir = s.WESTFALL_DATA_DIR ? path.resolve(cwd, s.WESTFALL_DATA_DIR) : defaultDataDir(platform);
  const sub = dataSubdirs(dataDir);
  const modelsDir = s.WESTFALL_MODELS_DIR ? path.resolve(cwd, s.WESTFALL_MODELS_DIR) : sub.modelsDir;
  return {
    host: s.WESTFALL_HOST,
    port: s.WESTFALL_PORT,
    model: s.WESTFALL_MODEL ? resolveModelPath(s.WESTFALL_MODEL, cwd, modelsDir) : null,
    dataDir,
    modelsDir,
    logsDir: sub.logsDir,
    stateDir: sub.stateDir,
    contextSize: s.WESTFALL_CONTEXT_SIZE,
    gpuLayers: s.WESTFALL_GPU_LAYERS,
    threads: s.WESTFALL_THREADS ?? null,
    parallel: s.WESTFALL_PARALLEL,
    queueLimit: s.WESTFALL_QUEUE_LIMIT,
    sampling: {
      temperature: s.WESTFALL_TEMPERATURE,
      topP: s.WESTFALL_TOP_P,
      topK: s.WESTFALL_TOP_K,
      maxTokens: s.WESTFALL_MAX_TOKENS,
    },
    logLevel: s.WESTFALL_LOG_LEVEL,
    logFile: s.WESTFALL_LOG_FILE,
    apiToken: s.WESTFALL_API_TOKEN ?? randomBytes(24).toString('base64url'),
    apiTokenGenerated: s.WESTFALL_API_TOKEN === undefined,
    allowedOrigins: s.WESTFALL_ALLOWED_ORIGINS,
    allowedHosts: s.WESTFALL_ALLOWED_HOSTS.map((h) => h.toLowerCase()),
    bodyLimit: s.WESTFALL_BODY_LIMIT,
    shutdownTimeoutMs: s.WESTFALL_SHUTDOWN_TIMEOUT_MS,
    promptCacheMaxBytes: s.WESTFALL_PROMPT_CACHE_MB * 1024 * 1024,
    keepAliveSeconds: s.WESTFALL_KEEP_ALIVE,
    modelMemoryLimitBytes: s.WESTFALL_MODEL_MEMORY_MB !== undefined ? s.WESTFALL_MODEL_MEMORY_MB * 1024 * 1024 : null,
    hubUrl: s.WESTFALL_HUB_URL.replace(/\/+$/, ''),
  };
}

/** A relative model path is looked up in the working directory first, then in the models directory. */
function resolveModelPath(model: string, cwd: string, modelsDir: string): string {
  if (path.isAbsolute(model)) return model;
  const inCwd = path.resolve(cwd, model);
  if (isFile(inCwd)) return inCwd;
  const inModels = path.resolve(modelsDir, model);
  return isFile(inModels) ? inModels : inCwd;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function checkPaths(c: Config): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (c.model) {
    const problem = modelFileProblem(c.model);
    if (problem) issues.push({ key: 'WESTFALL_MODEL', message: problem });
  }
  return issues;
}

/** A configuration for tests and embedding: defaults plus the given settings, no .env files read. */
export function configFrom(settings: RawSettings = {}, options: Omit<LoadConfigOptions, 'overrides' | 'env' | 'envFiles'> = {}): Config {
  return loadConfig({ ...options, env: {}, envFiles: false, overrides: settings }).config;
}
