// A small, curated catalog of GGUF models that suit a personal assistant on ordinary hardware.
//
// Hashes: we pin `sha256` only where we know it exactly. Every entry here is a Hugging Face LFS file, and for
// those the `resolve` URL answers with a redirect whose `X-Linked-ETag` header carries the file's SHA-256 (LFS
// stores objects by their SHA-256 and exposes it as the linked ETag). The downloader reads that header from the
// redirect hop at download time and verifies the whole file against it before the file is used
// (`hashSource: 'x-linked-etag'`). Sizes are approximate (for display and a first disk-space estimate); the
// download itself trusts Content-Length / Content-Range.

import { z } from 'zod';
import { WestfallError } from '../errors.js';

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
    parameters: z.string().min(1),
    quantization: z.string().min(1),
    fileName: z.string().regex(MODEL_FILE_NAME_RE, 'a bare *.gguf file name'),
    url: z.url({ protocol: /^https?$/ }),
    /** Approximate size in bytes. */
    sizeBytes: z.number().int().positive(),
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
  });
export type CatalogEntry = z.infer<typeof catalogEntrySchema>;

const hf = (repo: string, file: string): string => `https://huggingface.co/${repo}/resolve/main/${file}`;
const GB = 1e9;
const MB = 1e6;

const RAW_CATALOG = [
  {
    id: 'qwen2.5-0.5b-instruct-q4_k_m',
    name: 'Qwen2.5 0.5B Instruct',
    family: 'qwen2',
    parameters: '0.5B',
    quantization: 'Q4_K_M',
    fileName: 'Qwen2.5-0.5B-Instruct-Q4_K_M.gguf',
    url: hf('bartowski/Qwen2.5-0.5B-Instruct-GGUF', 'Qwen2.5-0.5B-Instruct-Q4_K_M.gguf'),
    sizeBytes: Math.round(398 * MB),
    license: 'Apache-2.0',
    licenseUrl: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/LICENSE',
    contextLength: 32768,
    hashSource: 'x-linked-etag',
    description: 'Tiny and fast; fine for quick replies and very low-memory machines.',
  },
  {
    id: 'qwen2.5-1.5b-instruct-q4_k_m',
    name: 'Qwen2.5 1.5B Instruct',
    family: 'qwen2',
    parameters: '1.5B',
    quantization: 'Q4_K_M',
    fileName: 'Qwen2.5-1.5B-Instruct-Q4_K_M.gguf',
    url: hf('bartowski/Qwen2.5-1.5B-Instruct-GGUF', 'Qwen2.5-1.5B-Instruct-Q4_K_M.gguf'),
    sizeBytes: Math.round(986 * MB),
    license: 'Apache-2.0',
    licenseUrl: 'https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/LICENSE',
    contextLength: 32768,
    hashSource: 'x-linked-etag',
    description: 'Small, multilingual and good at following instructions; the recommended first model.',
    default: true,
  },
  {
    id: 'qwen2.5-3b-instruct-q4_k_m',
    name: 'Qwen2.5 3B Instruct',
    family: 'qwen2',
    parameters: '3B',
    quantization: 'Q4_K_M',
    fileName: 'Qwen2.5-3B-Instruct-Q4_K_M.gguf',
    url: hf('bartowski/Qwen2.5-3B-Instruct-GGUF', 'Qwen2.5-3B-Instruct-Q4_K_M.gguf'),
    sizeBytes: Math.round(1.93 * GB),
    license: 'Qwen Research License',
    licenseUrl: 'https://huggingface.co/Qwen/Qwen2.5-3B-Instruct/blob/main/LICENSE',
    contextLength: 32768,
    hashSource: 'x-linked-etag',
    description: 'Noticeably better answers than 1.5B at about twice the memory (non-commercial licence).',
  },
  {
    id: 'qwen2.5-7b-instruct-q4_k_m',
    name: 'Qwen2.5 7B Instruct',
    family: 'qwen2',
    parameters: '7B',
    quantization: 'Q4_K_M',
    fileName: 'Qwen2.5-7B-Instruct-Q4_K_M.gguf',
    url: hf('bartowski/Qwen2.5-7B-Instruct-GGUF', 'Qwen2.5-7B-Instruct-Q4_K_M.gguf'),
    sizeBytes: Math.round(4.68 * GB),
    license: 'Apache-2.0',
    licenseUrl: 'https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/LICENSE',
    contextLength: 32768,
    hashSource: 'x-linked-etag',
    description: 'The strongest model here; wants 8 GB of free memory or a GPU.',
  },
  {
    id: 'llama-3.2-1b-instruct-q4_k_m',
    name: 'Llama 3.2 1B Instruct',
    family: 'llama',
    parameters: '1B',
    quantization: 'Q4_K_M',
    fileName: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf',
    url: hf('bartowski/Llama-3.2-1B-Instruct-GGUF', 'Llama-3.2-1B-Instruct-Q4_K_M.gguf'),
    sizeBytes: Math.round(808 * MB),
    license: 'Llama 3.2 Community License',
    licenseUrl: 'https://huggingface.co/meta-llama/Llama-3.2-1B-Instruct/blob/main/LICENSE.txt',
    contextLength: 131072,
    hashSource: 'x-linked-etag',
    description: "Meta's smallest instruction model; long context, light on memory.",
  },
  {
    id: 'llama-3.2-3b-instruct-q4_k_m',
    name: 'Llama 3.2 3B Instruct',
    family: 'llama',
    parameters: '3B',
    quantization: 'Q4_K_M',
    fileName: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf',
    url: hf('bartowski/Llama-3.2-3B-Instruct-GGUF', 'Llama-3.2-3B-Instruct-Q4_K_M.gguf'),
    sizeBytes: Math.round(2.02 * GB),
    license: 'Llama 3.2 Community License',
    licenseUrl: 'https://huggingface.co/meta-llama/Llama-3.2-3B-Instruct/blob/main/LICENSE.txt',
    contextLength: 131072,
    hashSource: 'x-linked-etag',
    description: 'A good general assistant with tool-use training and long context.',
  },
  {
    id: 'phi-3.5-mini-instruct-q4_k_m',
    name: 'Phi-3.5 mini Instruct',
    family: 'phi3',
    parameters: '3.8B',
    quantization: 'Q4_K_M',
    fileName: 'Phi-3.5-mini-instruct-Q4_K_M.gguf',
    url: hf('bartowski/Phi-3.5-mini-instruct-GGUF', 'Phi-3.5-mini-instruct-Q4_K_M.gguf'),
    sizeBytes: Math.round(2.39 * GB),
    license: 'MIT',
    licenseUrl: 'https://huggingface.co/microsoft/Phi-3.5-mini-instruct/blob/main/LICENSE',
    contextLength: 131072,
    hashSource: 'x-linked-etag',
    description: 'Strong reasoning for its size, MIT licensed; mostly English.',
  },
  {
    id: 'gemma-2-2b-it-q4_k_m',
    name: 'Gemma 2 2B it',
    family: 'gemma2',
    parameters: '2.6B',
    quantization: 'Q4_K_M',
    fileName: 'gemma-2-2b-it-Q4_K_M.gguf',
    url: hf('bartowski/gemma-2-2b-it-GGUF', 'gemma-2-2b-it-Q4_K_M.gguf'),
    sizeBytes: Math.round(1.71 * GB),
    license: 'Gemma Terms of Use',
    licenseUrl: 'https://ai.google.dev/gemma/terms',
    contextLength: 8192,
    hashSource: 'x-linked-etag',
    description: "Google's small chat model; fluent writing, short context.",
  },
] as const satisfies readonly z.input<typeof catalogEntrySchema>[];

/** Validates a catalog: every entry well-formed, ids and file names unique, exactly one default. */
export function parseCatalog(raw: readonly unknown[]): readonly CatalogEntry[] {
  const entries = z.array(catalogEntrySchema).parse(raw);
  const ids = new Set<string>();
  const files = new Set<string>();
  for (const e of entries) {
    if (ids.has(e.id)) throw new Error(`catalog: duplicate id ${e.id}`);
    if (files.has(e.fileName)) throw new Error(`catalog: duplicate fileName ${e.fileName}`);
    ids.add(e.id);
    files.add(e.fileName);
  }
  const defaults = entries.filter((e) => e.default === true);
  if (defaults.length !== 1) throw new Error(`catalog: expected exactly one default entry, found ${defaults.length}`);
  return Object.freeze(entries.map((e) => Object.freeze(e)));
}

export const MODEL_CATALOG: readonly CatalogEntry[] = parseCatalog(RAW_CATALOG);

export function getCatalogEntry(id: string, catalog: readonly CatalogEntry[] = MODEL_CATALOG): CatalogEntry {
  const e = catalog.find((c) => c.id === id);
  if (!e) {
    throw new WestfallError('invalid_params', `unknown catalog id: ${id}`, {
      details: { fields: [{ path: 'catalogId', message: `unknown catalog id '${id}'` }] },
    });
  }
  return e;
}

export function getDefaultCatalogEntry(catalog: readonly CatalogEntry[] = MODEL_CATALOG): CatalogEntry {
  const e = catalog.find((c) => c.default === true) ?? catalog[0];
  if (!e) throw new Error('catalog is empty');
  return e;
}
