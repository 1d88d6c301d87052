// The one schema for every setting. Keys are the environment variable names, so a validation issue
// names exactly what the user has to fix, wherever the value came from (environment, .env, CLI flag).
import { z } from 'zod';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const NUMBER = { error: (iss: { code?: string }) => (iss.code === 'invalid_type' ? 'must be a number' : undefined) };
const int = (min: number, max: number) => z.coerce.number(NUMBER).int('must be a whole number').min(min).max(max);
const num = (min: number, max: number) => z.coerce.number(NUMBER).min(min).max(max);
const bool = z.stringbool({ error: 'must be true or false (also 1/0, yes/no, on/off)' });
const list = (item: z.ZodType<string, string>) =>
  z
    .string()
    .transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0))
    .pipe(z.array(item));

const ORIGIN_RE = /^(null|[a-z][a-z0-9+.-]*:\/\/(\[[0-9a-f:]+\]|[a-z0-9.-]+)(:\d{1,5})?)$/i;
const HOSTNAME_RE = /^(\[[0-9a-f:]+\]|[a-z0-9.-]+|[0-9a-f:]+)$/i;

export const settingsSchema = z.object({
  WESTFALL_HOST: z.string().regex(HOSTNAME_RE, 'must be a host name or IP address').default('127.0.0.1'),
  WESTFALL_PORT: int(0, 65535).default(8756),
  WESTFALL_MODEL: z.string().min(1).optional(),
  WESTFALL_MODELS_DIR: z.string().min(1).optional(),
  WESTFALL_DATA_DIR: z.string().min(1).optional(),
  WESTFALL_CONTEXT_SIZE: int(64, 1 << 20).default(4096),
  // 'auto': as many layers as the GPU's free memory takes at the configured context (src/engine/memory.ts).
  WESTFALL_GPU_LAYERS: z.union([z.literal('auto'), int(-1, 100_000)], { error: 'must be auto, -1 (all) or a number of layers' }).default('auto'),
  WESTFALL_THREADS: int(1, 512).optional(),
  WESTFALL_PARALLEL: int(1, 64).default(4),
  WESTFALL_QUEUE_LIMIT: int(0, 100_000).default(32),
  WESTFALL_TEMPERATURE: num(0, 10).default(0.7),
  WESTFALL_TOP_P: z.coerce.number(NUMBER).gt(0).max(1).default(0.9),
  WESTFALL_TOP_K: int(0, 1_000_000).default(40),
  WESTFALL_MAX_TOKENS: int(1, 1 << 20).default(2048),
  WESTFALL_LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  WESTFALL_LOG_FILE: bool.default(true),
  WESTFALL_API_TOKEN: z
    .string()
    .min(16, 'must be at least 16 characters')
    .max(512, 'must be at most 512 characters')
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  WESTFALL_ALLOWED_ORIGINS: list(z.string().regex(ORIGIN_RE, 'each entry must be an origin such as app://westfall or http://localhost:5173')).default([]),
  WESTFALL_ALLOWED_HOSTS: list(z.string().regex(HOSTNAME_RE, 'each entry must be a host name or IP address')).default([]),
  WESTFALL_BODY_LIMIT: int(1024, 256 * 1024 * 1024).default(4 * 1024 * 1024),
  WESTFALL_SHUTDOWN_TIMEOUT_MS: int(100, 120_000).default(5000),
  // Conversation states saved on disk so chats resume without re-reading their history (engine/
  // prompt-cache.ts); the least recently used go beyond this. 0 keeps none. Changeable in Settings.
  WESTFALL_PROMPT_CACHE_MB: int(0, 1 << 22).default(4096),
  // Several local models: one loaded by a request stays this many seconds after its last request (-1:
  // until unloaded); all of them together stay under this many MiB (unset: the machine's free memory).
  WESTFALL_KEEP_ALIVE: int(-1, 365 * 24 * 3600).default(300),
  WESTFALL_MODEL_MEMORY_MB: int(1, 1 << 24).optional(),
  // The model hub the Models screen searches and downloads from (a mirror, or a local fake in tests).
  WESTFALL_HUB_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://huggingface.co' }).default('https://huggingface.co'),
});

export type Settings = z.output<typeof settingsSchema>;
export type SettingKey = keyof typeof settingsSchema.shape;
export const SETTING_KEYS = Object.keys(settingsSchema.shape) as SettingKey[];

/** Raw setting values as strings (environment, .env) or typed values (CLI flags, tests). */
export type RawSettings = Partial<Record<SettingKey, string | number | boolean | readonly string[] | undefined>>;

/** The resolved configuration every part of the service receives. */
export interface Config {
  host: string;
  port: number;
  /** Absolute path of the model to load at startup, or null. */
  model: string | null;
  dataDir: string;
  modelsDir: string;
  logsDir: string;
  stateDir: string;
  contextSize: number;
  /** 'auto', or layers to offload (0 = CPU only, -1 = all). */
  gpuLayers: number | 'auto';
  threads: number | null;
  /** Sequences in the context: generations decoded together. */
  parallel: number;
  /** Requests that may wait for a free sequence; beyond it: 429. */
  queueLimit: number;
  sampling: { temperature: number; topP: number; topK: number; maxTokens: number };
  logLevel: LogLevelName;
  logFile: boolean;
  apiToken: string;
  /** True when the token was generated for this launch (not configured). */
  apiTokenGenerated: boolean;
  /** Origins allowed besides the service's own (http://127.0.0.1:PORT, http://localhost:PORT). */
  allowedOrigins: string[];
  /** Host names accepted in the Host header besides 127.0.0.1, localhost and [::1]. */
  allowedHosts: string[];
  bodyLimit: number;
  shutdownTimeoutMs: number;
  /** Cap for the conversation states kept on disk (bytes); 0 keeps none. */
  promptCacheMaxBytes: number;
  /** Seconds a model loaded by a request stays loaded after its last request; -1: until unloaded. */
  keepAliveSeconds: number;
  /** Bytes all local models may take together (planner estimate); null: the machine's free memory. */
  modelMemoryLimitBytes: number | null;
  /** Base URL of the model hub searched from the Models screen (no trailing slash). */
  hubUrl: string;
}
