// What a remote provider is: the base URL of an OpenAI-compatible server (llama-server, vLLM, Ollama's
// /v1, LM Studio, a hosted service), an optional API key, a timeout and an optional model filter. The
// key is write-only at the API: it goes in, is sealed at rest (secret-box.ts), and only `hasApiKey`
// ever comes back out.
import { z } from 'zod';

/** A name that prefixes the provider's model ids in /v1 ("home/qwen3:8b"), so it cannot hold a slash. */
export const providerNameSchema = z
  .string()
  .min(1)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits, ".", "_" and "-", starting with a letter or digit');

/** Shell-style patterns ("qwen3*", "*-instruct"): only matching upstream models are offered. */
export const modelFilterSchema = z.array(z.string().min(1).max(200)).max(50);

/** What an Authorization header can carry: printable ASCII without spaces (no header injection). */
const apiKeySchema = z.string().max(4096).regex(/^[\x21-\x7e]*$/, 'printable ASCII characters without spaces');

export const fallbackSchema = z.union([z.literal('local'), z.string().regex(/^prv_[a-z0-9]+$/)]).nullable();

export const providerInputSchema = z
  .object({
    name: providerNameSchema,
    baseUrl: z.string().min(1).max(2000),
    /** Empty string or null: no key. */
    apiKey: apiKeySchema.nullable().optional(),
    timeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
    modelFilter: modelFilterSchema.default([]),
    /** Where a request goes when this provider fails before its first token: another provider or the local model. */
    fallback: fallbackSchema.default(null),
    enabled: z.boolean().default(true),
  })
  .strict();
export type ProviderInput = z.input<typeof providerInputSchema>;

/** PATCH: any field; `apiKey` absent keeps the key, null or "" removes it. */
export const providerPatchSchema = providerInputSchema
  .extend({ timeoutMs: z.number().int().min(1000).max(600_000), modelFilter: modelFilterSchema, fallback: fallbackSchema, enabled: z.boolean() })
  .partial()
  .strict();
export type ProviderPatch = z.output<typeof providerPatchSchema>;

/** A test of connection details before saving them (or of a saved provider with a new key). */
export const providerTestSchema = z
  .object({ baseUrl: z.string().min(1).max(2000), apiKey: apiKeySchema.nullable().optional(), timeoutMs: z.number().int().min(1000).max(600_000).optional(), modelFilter: modelFilterSchema.optional() })
  .strict();

/** A provider as stored and used in the backend (the key decrypted only when a request needs it). */
export interface ProviderRecord {
  id: string;
  name: string;
  baseUrl: string;
  hasApiKey: boolean;
  timeoutMs: number;
  modelFilter: string[];
  fallback: string | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export type HealthState = 'unknown' | 'ok' | 'error';

export interface ProviderHealth {
  state: HealthState;
  checkedAt: string | null;
  latencyMs: number | null;
  /** Models the provider offers after the filter. */
  models: string[];
  error: { code: string; message: string } | null;
}

/** What the API shows of a provider. */
export interface ProviderView extends ProviderRecord {
  /** The host requests go to (shown in the UI wherever a chat leaves the machine). */
  host: string;
  health: ProviderHealth;
}

/** Set on replies served by a remote provider, or by a fallback after one failed. */
export interface RemoteReplyInfo {
  provider: string;
  host: string;
  model: string;
  /** The provider (or 'local') that answered after the asked one failed before its first token. */
  fallback?: { from: string; to: string; reason: string };
  attempts: number;
}
