// The shape of a catalog entry, apart from the catalog's data so that the renderer's type check (which
// follows src/models/types.ts here) does not reach the Node-side memory estimate the data is built with.

import { z } from 'zod';

export const SHA256_RE = /^[0-9a-f]{64}$/;
/** A bare file name that can live directly in the models directory. */
export const MODEL_FILE_NAME_RE = /^(?!\.)[A-Za-z0-9._-]{1,200}\.gguf$/;

export const hashSourceSchema = z.enum([
  /** `sha256` below is pinned in the catalog. */
  'catalog',
  /** The SHA-256 comes from the Hugging Face LFS `X-Linked-ETag` response header, read at download time. */
  'x-linked-etag',
]);
export type HashSource = z.infer<typeof hashSourceSchema>;

export const catalogEntrySchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case id of letters, digits, dot, dash, underscore'),
    name: z.string().min(1),
    family: z.string().min(1),
    /** For display ("4B", "21B (3.6B active)"). */
    parameters: z.string().min(1),
    /** Parameters that rank the model (see the top of this file). */
    parameterCount: z.number().positive(),
    quantization: z.string().min(1),
    fileName: z.string().regex(MODEL_FILE_NAME_RE, 'a bare *.gguf file name'),
    url: z.url({ protocol: /^https?$/ }),
    /** Approximate size in bytes. */
    sizeBytes: z.number().int().positive(),
    /** Approximate memory (RAM or VRAM) to run it at an 8k context: weights, KV cache, compute buffer. */
    memoryBytes: z.number().int().positive(),
    /** Emits reasoning before its answer. */
    thinks: z.boolean(),
    /** Its chat template supports tool calling. */
    toolCalls: z.boolean(),
    license: z.string().min(1),
    licenseUrl: z.url().optional(),
    /** Trained context length in tokens (what the GGUF metadata reports). */
    contextLength: z.number().int().positive(),
    sha256: z.string().regex(SHA256_RE, '64 lower-case hex digits').optional(),
    hashSource: hashSourceSchema,
    description: z.string().min(1),
    default: z.boolean().optional(),
  })
  .strict()
  .refine((e) => e.hashSource !== 'catalog' || e.sha256 !== undefined, {
    message: "hashSource 'catalog' needs sha256",
    path: ['sha256'],
  })
  .refine((e) => e.memoryBytes > e.sizeBytes, { message: 'memoryBytes includes the weights', path: ['memoryBytes'] });
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;
