// zod schemas for every public engine input, with the product's defaults. Validation happens here, in
// JavaScript, with messages that name the field; the addon only ever sees well-formed values.
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { WestfallError } from '../errors.js';
import { checkGrammar, checkJsonSchema, refineWith } from './grammar-check.js';

export const DEFAULTS = {
  contextSize: 4096,
  temperature: 0.7,
  topP: 0.9,
  topK: 40,
  maxTokens: 2048,
} as const;

export function defaultThreads(): number {
  // Decode is memory-bound; more threads than cores only adds contention.
  return Math.max(1, Math.min(availableParallelism(), 8));
}

export const loadModelOptionsSchema = z.object({
  path: z.string().min(1, 'path must name a GGUF file'),
  gpuLayers: z.number().int().min(-1).default(0),
  vocabOnly: z.boolean().default(false),
  useMmap: z.boolean().default(true),
  // Linux: back the model's and its contexts' CPU buffers with transparent huge pages (docs/engine.md).
  // Ignored elsewhere, and where THP is set to "never".
  hugePages: z.boolean().default(true),
  // Other machines running `westfall worker` (host:port): the model's layers are spread over this machine
  // and the workers in proportion to free memory, or to `split` (this machine first, then each worker).
  // ggml aborts a process whose worker is lost: the server runs such a model in a child process.
  workers: z.array(z.string().min(1)).max(16).default([]),
  split: z.array(z.number().min(0)).optional(),
  onProgress: z.function().optional(),
  signal: z.instanceof(AbortSignal).optional(),
});
export type LoadModelOptions = z.input<typeof loadModelOptionsSchema> & {
  onProgress?: (progress: number) => void;
};

export const KV_CACHE_TYPES = ['f32', 'f16', 'bf16', 'q8_0', 'q5_1', 'q5_0', 'q4_1', 'q4_0', 'iq4_nl'] as const;

export const contextOptionsSchema = z
  .object({
    contextSize: z.number().int().min(64).max(1 << 20).default(DEFAULTS.contextSize),
    batchSize: z.number().int().min(1).max(1 << 16).default(512),
    ubatchSize: z.number().int().min(1).max(1 << 16).optional(),
    threads: z.number().int().min(1).max(512).optional(),
    threadsBatch: z.number().int().min(1).max(512).optional(),
    sequences: z.number().int().min(1).max(64).default(1),
    flashAttention: z.enum(['auto', 'on', 'off']).default('auto'),
    embeddings: z.boolean().default(false),
    // KV-cache element types: quantized caches hold longer contexts in the same memory. llama.cpp needs
    // flash attention for a quantized V cache.
    typeK: z.enum(KV_CACHE_TYPES).default('f16'),
    typeV: z.enum(KV_CACHE_TYPES).default('f16'),
  })
  .strict()
  .refine((o) => o.typeV === 'f16' || o.typeV === 'f32' || o.typeV === 'bf16' || o.flashAttention !== 'off', {
    message: 'a quantized V cache needs flash attention (flashAttention "on" or "auto")',
    path: ['typeV'],
  });
export type ContextOptions = z.input<typeof contextOptionsSchema>;

export const samplingSchema = z.object({
  temperature: z.number().min(0).max(10).default(DEFAULTS.temperature),
  topK: z.number().int().min(0).default(DEFAULTS.topK),
  topP: z.number().gt(0).max(1).default(DEFAULTS.topP),
  minP: z.number().min(0).max(1).default(0),
  repeatPenalty: z.number().gt(0).max(10).default(1),
  repeatLastN: z.number().int().min(0).default(64),
  presencePenalty: z.number().min(-10).max(10).default(0),
  frequencyPenalty: z.number().min(-10).max(10).default(0),
  seed: z.number().int().min(0).max(0xffffffff).optional(),
});

export const generateParamsSchema = samplingSchema
  .extend({
    maxTokens: z.number().int().min(1).max(1 << 20).default(DEFAULTS.maxTokens),
    stop: z.array(z.string().min(1)).max(16).default([]),
    // Checked here so that every caller (engine users, /api, /v1, the agent) is covered: some grammars and
    // schemas hang or abort llama.cpp instead of failing (grammar-check.ts).
    grammar: z.string().superRefine(refineWith(checkGrammar)).optional(),
    jsonSchema: z.record(z.string(), z.unknown()).superRefine(refineWith(checkJsonSchema)).optional(),
    sequence: z.number().int().min(0).optional(),
    ignoreEos: z.boolean().default(false),
    renderSpecial: z.boolean().default(false),
    // A chat format's constraints (chat-format.ts formatGenerateParams): the grammar applies lazily,
    // once a trigger appears; preserved tokens are shown as text; the generation prompt advances the
    // grammar (grammarPrefill) and the reasoning budget past what the template wrote.
    grammarLazy: z.boolean().default(false),
    grammarTriggers: z
      .array(z.object({ type: z.enum(['word', 'token', 'pattern', 'pattern_full']), value: z.string().max(4096) }).strict())
      .max(64)
      .default([]),
    grammarPrefill: z.boolean().default(false),
    preservedTokens: z.array(z.string().min(1).max(256)).max(256).default([]),
    generationPrompt: z.string().max(4096).default(''),
    reasoningBudget: z
      .object({
        tokens: z.number().int().min(0).max(1 << 20),
        startTag: z.string().min(1).max(256),
        endTags: z.array(z.string().min(1).max(256)).min(1).max(8),
        message: z.string().max(1024).optional(),
      })
      .strict()
      .optional(),
    // false: evaluate the whole prompt without reusing any cache, and save nothing (like-for-like timing).
    cachePrompt: z.boolean().default(true),
    // The owner of the conversation state saved after this reply (a conversation id): deleting the
    // conversation removes it (prompt-cache.ts).
    cacheTag: z.string().min(1).max(200).optional(),
    signal: z.instanceof(AbortSignal).optional(),
  })
  .strict()
  .refine((p) => !(p.grammar && p.jsonSchema), { message: 'give either grammar or jsonSchema, not both', path: ['grammar'] });
export type GenerateParams = z.input<typeof generateParamsSchema>;
export type ResolvedGenerateParams = z.output<typeof generateParamsSchema>;

export const chatMessageSchema = z.object({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof chatMessageSchema>;

export const chatSessionOptionsSchema = z
  .object({
    systemPrompt: z.string().optional(),
    messages: z.array(chatMessageSchema).default([]),
    // Room kept free for the reply when deciding whether the history still fits.
    reserveTokens: z.number().int().min(0).optional(),
  })
  .strict();
export type ChatSessionOptions = z.input<typeof chatSessionOptionsSchema>;

export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const fields = r.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  const list = fields.map((f) => `${f.path}: ${f.message}`).join('; ');
  throw new WestfallError('invalid_params', `invalid ${what}: ${list}`, { details: { fields } });
}
