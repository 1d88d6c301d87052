// A small, curated catalog of GGUF models that suit a personal assistant on ordinary hardware: current small
// models first (the newest families, most think and call tools), then older ones kept because users have them
// installed under these file names.
//
// Hashes: we pin `sha256` only where we know it exactly. Every entry here is a Hugging Face LFS file, and for
// those the `resolve` URL answers with a redirect whose `X-Linked-ETag` header carries the file's SHA-256 (LFS
// stores objects by their SHA-256 and exposes it as the linked ETag). The downloader reads that header from the
// redirect hop at download time and verifies the whole file against it before the file is used
// (`hashSource: 'x-linked-etag'`). Sizes are approximate (for display and a first disk-space estimate); the
// download itself trusts Content-Length / Content-Range.
//
// Capabilities: `thinks` means the model emits reasoning before its answer (a thinking block, a reasoning
// channel), always or when asked; `toolCalls` means its own chat template declares tools and formats calls,
// so the tool-using agent can work with it. `parameterCount` ranks models for the recommendation: every
// expert of a mixture of experts counts (they all hold knowledge), Gemma's per-layer embedding tables do not
// (they are lookups, not compute), so Gemma 4 E2B / E4B count their effective 2.3B / 4.5B.
//
// Memory: `memoryBytes` is what the model needs at TYPICAL_CONTEXT (8k tokens), from the file size and the
// architecture's shape (footprint.ts, on the engine's memory model). The shapes are the models' published
// configurations (layers, KV heads, head sizes, sliding windows); they only feed the estimate.

import { z } from 'zod';
import { WestfallError } from '../errors.js';
import { catalogEntrySchema, type CatalogEntry } from './catalog-schema.js';
import { estimateMemoryBytes, type ModelShape } from './footprint.js';

export { MODEL_FILE_NAME_RE, SHA256_RE, catalogEntrySchema, hashSourceSchema, type CatalogEntry, type HashSource } from './catalog-schema.js';

const hf = (repo: string, file: string): string => `https://huggingface.co/${repo}/resolve/main/${file}`;
const GB = 1e9;
const MB = 1e6;
const APACHE = 'https://www.apache.org/licenses/LICENSE-2.0';

type RawEntry = Omit<z.input<typeof catalogEntrySchema>, 'memoryBytes' | 'url' | 'hashSource'> & {
  repo: string;
  shape: ModelShape;
};

/** An entry whose file is verified by X-Linked-ETag, with its memory estimated from its shape. */
function entry({ repo, shape, ...e }: RawEntry): z.input<typeof catalogEntrySchema> {
  return { ...e, url: hf(repo, e.fileName), hashSource: 'x-linked-etag', memoryBytes: estimateMemoryBytes(e.sizeBytes, shape) };
}

// Qwen3.5 small models: 3 Gated DeltaNet blocks per attention block; the recurrent state is
// heads × 128 × 128 f32 per DeltaNet block.
const qwen35 = (embd: number, heads: number, ff: number, layers: number, kvHeads: number, deltaHeads: number): ModelShape => ({
  embd,
  heads,
  ff,
  vocab: 248320,
  kv: [{ layers: layers / 4, kvHeads, headDim: 256 }],
  recurrentStateBytes: ((layers * 3) / 4) * deltaHeads * 128 * 128 * 4,
});

const RAW_CATALOG: readonly RawEntry[] = [
  {
    id: 'qwen3.5-0.8b-q4_k_m',
    name: 'Qwen3.5 0.8B',
    family: 'qwen35',
    parameters: '0.8B',
    parameterCount: 0.8e9,
    quantization: 'Q4_K_M',
    fileName: 'Qwen3.5-0.8B-Q4_K_M.gguf',
    repo: 'unsloth/Qwen3.5-0.8B-GGUF',
    sizeBytes: 532_517_120,
    thinks: true,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: APACHE,
    contextLength: 262144,
    description: 'The smallest model that thinks and calls tools; for machines with little memory.',
    shape: qwen35(1024, 8, 3584, 24, 2, 16),
  },
  {
    id: 'qwen3.5-2b-q4_k_m',
    name: 'Qwen3.5 2B',
    family: 'qwen35',
    parameters: '2B',
    parameterCount: 2e9,
    quantization: 'Q4_K_M',
    fileName: 'Qwen3.5-2B-Q4_K_M.gguf',
    repo: 'unsloth/Qwen3.5-2B-GGUF',
    sizeBytes: 1_280_835_840,
    thinks: true,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: APACHE,
    contextLength: 262144,
    description: 'Small, multilingual, thinks and uses tools; a good first model for almost any computer.',
    default: true,
    shape: qwen35(2048, 8, 6144, 24, 2, 16),
  },
  {
    id: 'qwen3.5-4b-q4_k_m',
    name: 'Qwen3.5 4B',
    family: 'qwen35',
    parameters: '4B',
    parameterCount: 4.2e9,
    quantization: 'Q4_K_M',
    fileName: 'Qwen3.5-4B-Q4_K_M.gguf',
    repo: 'unsloth/Qwen3.5-4B-GGUF',
    sizeBytes: 2_740_937_888,
    thinks: true,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: APACHE,
    contextLength: 262144,
    description: 'A capable everyday assistant with reasoning and tool use on an 8 GB computer.',
    shape: qwen35(2560, 16, 9216, 32, 4, 32),
  },
  {
    id: 'qwen3.5-9b-q4_k_m',
    name: 'Qwen3.5 9B',
    family: 'qwen35',
    parameters: '9B',
    parameterCount: 9e9,
    quantization: 'Q4_K_M',
    fileName: 'Qwen3.5-9B-Q4_K_M.gguf',
    repo: 'unsloth/Qwen3.5-9B-GGUF',
    sizeBytes: 5_680_522_464,
    thinks: true,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: APACHE,
    contextLength: 262144,
    description: 'Strong reasoning and tool use for 16 GB computers or a GPU with 8 GB.',
    shape: qwen35(4096, 16, 12288, 32, 4, 32),
  },
  {
    id: 'gemma-4-e2b-it-q4_k_m',
    name: 'Gemma 4 E2B it',
    family: 'gemma4',
    parameters: '2.3B effective (5.1B with embeddings)',
    parameterCount: 2.3e9,
    quantization: 'Q4_K_M',
    fileName: 'gemma-4-E2B-it-Q4_K_M.gguf',
    repo: 'unsloth/gemma-4-E2B-it-GGUF',
    sizeBytes: Math.round(3.11 * GB),
    thinks: true,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: APACHE,
    contextLength: 131072,
    description: "Google's small on-device model: optional thinking, native function calling, many languages.",
    // 35 blocks, the last 20 reuse earlier blocks' KV; of the 15 with a cache, every fifth is global.
    shape: { embd: 1536, heads: 8, ff: 12288, vocab: 262144, kv: [{ layers: 3, kvHeads: 1, headDim: 512 }, { layers: 12, kvHeads: 1, headDim: 256, window: 512 }] },
  },
  {
    id: 'gemma-4-e4b-it-q4_k_m',
    name: 'Gemma 4 E4B it',
    family: 'gemma4',
    parameters: '4.5B effective (8B with embeddings)',
    parameterCount: 4.5e9,
    quantization: 'Q4_K_M',
    fileName: 'gemma-4-E4B-it-Q4_K_M.gguf',
    repo: 'unsloth/gemma-4-E4B-it-GGUF',
    sizeBytes: 4_977_171_584,
    thinks: true,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: APACHE,
    contextLength: 131072,
    description: "Google's larger on-device model: good writing and tool use with optional thinking.",
    // 42 blocks, the last 18 reuse earlier blocks' KV; of the 24 with a cache, every sixth is global.
    shape: { embd: 2560, heads: 8, ff: 10240, vocab: 262144, kv: [{ layers: 4, kvHeads: 2, headDim: 512 }, { layers: 20, kvHeads: 2, headDim: 256, window: 512 }] },
  },
  {
    id: 'gpt-oss-20b-mxfp4',
    name: 'gpt-oss 20B',
    family: 'gpt-oss',
    parameters: '21B (3.6B active)',
    parameterCount: 21e9,
    quantization: 'MXFP4',
    fileName: 'openai_gpt-oss-20b-MXFP4.gguf',
    repo: 'bartowski/openai_gpt-oss-20b-GGUF',
    sizeBytes: Math.round(12.1 * GB),
    thinks: true,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: 'https://huggingface.co/openai/gpt-oss-20b/blob/main/LICENSE',
    contextLength: 131072,
    description: "OpenAI's open mixture of experts: strong reasoning and tool use, fast for its size; wants 24 GB or more.",
    // Alternating full and 128-token sliding-window blocks; 4 of 32 experts (2880 wide) per token.
    shape: { embd: 2880, heads: 64, ff: 4 * 2880, vocab: 201088, kv: [{ layers: 12, kvHeads: 8, headDim: 64 }, { layers: 12, kvHeads: 8, headDim: 64, window: 128 }] },
  },
  {
    id: 'smollm3-3b-q4_k_m',
    name: 'SmolLM3 3B',
    family: 'smollm3',
    parameters: '3B',
    parameterCount: 3.08e9,
    quantization: 'Q4_K_M',
    fileName: 'SmolLM3-Q4_K_M.gguf',
    repo: 'ggml-org/SmolLM3-3B-GGUF',
    sizeBytes: 1_924_563_328,
    thinks: true,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: APACHE,
    contextLength: 65536,
    description: "Hugging Face's fully open small model with switchable thinking and tool calling.",
    shape: { embd: 2048, heads: 16, ff: 11008, vocab: 128256, kv: [{ layers: 36, kvHeads: 4, headDim: 128 }] },
  },
  {
    id: 'phi-4-mini-instruct-q4_k_m',
    name: 'Phi-4 mini Instruct',
    family: 'phi3',
    parameters: '3.8B',
    parameterCount: 3.84e9,
    quantization: 'Q4_K_M',
    fileName: 'Phi-4-mini-instruct-Q4_K_M.gguf',
    repo: 'unsloth/Phi-4-mini-instruct-GGUF',
    sizeBytes: 2_491_874_272,
    thinks: false,
    toolCalls: true,
    license: 'MIT',
    licenseUrl: 'https://huggingface.co/microsoft/Phi-4-mini-instruct/blob/main/LICENSE',
    contextLength: 131072,
    description: "Microsoft's compact model: good at math and instructions, function calling, MIT licensed.",
    shape: { embd: 3072, heads: 24, ff: 8192, vocab: 200064, kv: [{ layers: 32, kvHeads: 8, headDim: 128 }] },
  },
  {
    id: 'granite-4.0-h-micro-q4_k_m',
    name: 'Granite 4.0 H Micro',
    family: 'granitehybrid',
    parameters: '3B',
    parameterCount: 3.19e9,
    quantization: 'Q4_K_M',
    fileName: 'granite-4.0-h-micro-Q4_K_M.gguf',
    repo: 'ibm-granite/granite-4.0-h-micro-GGUF',
    sizeBytes: 1_942_564_512,
    thinks: false,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: APACHE,
    contextLength: 131072,
    description: "IBM's hybrid Mamba model: reliable tool calling, and long contexts cost little memory.",
    // 40 blocks: 4 attention, 36 Mamba2 (64 heads × 64 × 128 f32 state and about 64 KiB of convolution state each).
    shape: { embd: 2048, heads: 32, ff: 8192, vocab: 100352, kv: [{ layers: 4, kvHeads: 8, headDim: 64 }], recurrentStateBytes: 36 * (64 * 64 * 128 * 4 + 64 * 1024) },
  },
  {
    id: 'ministral-3-3b-instruct-2512-q4_k_m',
    name: 'Ministral 3 3B Instruct',
    family: 'mistral3',
    parameters: '3.4B',
    parameterCount: 3.4e9,
    quantization: 'Q4_K_M',
    fileName: 'Ministral-3-3B-Instruct-2512-Q4_K_M.gguf',
    repo: 'mistralai/Ministral-3-3B-Instruct-2512-GGUF',
    sizeBytes: 2_147_023_008,
    thinks: false,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: APACHE,
    contextLength: 262144,
    description: "Mistral's smallest current model: concise answers, native function calling, European languages.",
    shape: { embd: 3072, heads: 32, ff: 9216, vocab: 131072, kv: [{ layers: 26, kvHeads: 8, headDim: 128 }] },
  },
  {
    id: 'deepseek-r1-distill-qwen-1.5b-q4_k_m',
    name: 'DeepSeek R1 Distill Qwen 1.5B',
    family: 'qwen2',
    parameters: '1.8B',
    parameterCount: 1.78e9,
    quantization: 'Q4_K_M',
    fileName: 'DeepSeek-R1-Distill-Qwen-1.5B-Q4_K_M.gguf',
    repo: 'bartowski/DeepSeek-R1-Distill-Qwen-1.5B-GGUF',
    sizeBytes: Math.round(1.12 * GB),
    thinks: true,
    toolCalls: false,
    license: 'MIT',
    licenseUrl: 'https://huggingface.co/deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B/blob/main/LICENSE',
    contextLength: 131072,
    description: 'Always reasons step by step; good at math for its size, weak at chat, no tool calling.',
    shape: { embd: 1536, heads: 12, ff: 8960, vocab: 151936, kv: [{ layers: 28, kvHeads: 2, headDim: 128 }] },
  },
  {
    id: 'llama-3.2-1b-instruct-q4_k_m',
    name: 'Llama 3.2 1B Instruct',
    family: 'llama',
    parameters: '1B',
    parameterCount: 1.24e9,
    quantization: 'Q4_K_M',
    fileName: 'Llama-3.2-1B-Instruct-Q4_K_M.gguf',
    repo: 'bartowski/Llama-3.2-1B-Instruct-GGUF',
    sizeBytes: Math.round(808 * MB),
    thinks: false,
    toolCalls: true,
    license: 'Llama 3.2 Community License',
    licenseUrl: 'https://huggingface.co/meta-llama/Llama-3.2-1B-Instruct/blob/main/LICENSE.txt',
    contextLength: 131072,
    description: "Meta's smallest instruction model; long context, light on memory.",
    shape: { embd: 2048, heads: 32, ff: 8192, vocab: 128256, kv: [{ layers: 16, kvHeads: 8, headDim: 64 }] },
  },
  {
    id: 'llama-3.2-3b-instruct-q4_k_m',
    name: 'Llama 3.2 3B Instruct',
    family: 'llama',
    parameters: '3B',
    parameterCount: 3.21e9,
    quantization: 'Q4_K_M',
    fileName: 'Llama-3.2-3B-Instruct-Q4_K_M.gguf',
    repo: 'bartowski/Llama-3.2-3B-Instruct-GGUF',
    sizeBytes: Math.round(2.02 * GB),
    thinks: false,
    toolCalls: true,
    license: 'Llama 3.2 Community License',
    licenseUrl: 'https://huggingface.co/meta-llama/Llama-3.2-3B-Instruct/blob/main/LICENSE.txt',
    contextLength: 131072,
    description: 'A good general assistant with tool-use training and long context.',
    shape: { embd: 3072, heads: 24, ff: 8192, vocab: 128256, kv: [{ layers: 28, kvHeads: 8, headDim: 128 }] },
  },
  {
    id: 'qwen2.5-0.5b-instruct-q4_k_m',
    name: 'Qwen2.5 0.5B Instruct',
    family: 'qwen2',
    parameters: '0.5B',
    parameterCount: 0.49e9,
    quantization: 'Q4_K_M',
    fileName: 'Qwen2.5-0.5B-Instruct-Q4_K_M.gguf',
    repo: 'bartowski/Qwen2.5-0.5B-Instruct-GGUF',
    sizeBytes: Math.round(398 * MB),
    thinks: false,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: 'https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct/blob/main/LICENSE',
    contextLength: 32768,
    description: 'Tiny and fast; fine for quick replies and very low-memory machines.',
    shape: { embd: 896, heads: 14, ff: 4864, vocab: 151936, kv: [{ layers: 24, kvHeads: 2, headDim: 64 }] },
  },
  {
    id: 'qwen2.5-1.5b-instruct-q4_k_m',
    name: 'Qwen2.5 1.5B Instruct',
    family: 'qwen2',
    parameters: '1.5B',
    parameterCount: 1.54e9,
    quantization: 'Q4_K_M',
    fileName: 'Qwen2.5-1.5B-Instruct-Q4_K_M.gguf',
    repo: 'bartowski/Qwen2.5-1.5B-Instruct-GGUF',
    sizeBytes: Math.round(986 * MB),
    thinks: false,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: 'https://huggingface.co/Qwen/Qwen2.5-1.5B-Instruct/blob/main/LICENSE',
    contextLength: 32768,
    description: 'Small, multilingual and good at following instructions.',
    shape: { embd: 1536, heads: 12, ff: 8960, vocab: 151936, kv: [{ layers: 28, kvHeads: 2, headDim: 128 }] },
  },
  {
    id: 'qwen2.5-3b-instruct-q4_k_m',
    name: 'Qwen2.5 3B Instruct',
    family: 'qwen2',
    parameters: '3B',
    parameterCount: 3.09e9,
    quantization: 'Q4_K_M',
    fileName: 'Qwen2.5-3B-Instruct-Q4_K_M.gguf',
    repo: 'bartowski/Qwen2.5-3B-Instruct-GGUF',
    sizeBytes: Math.round(1.93 * GB),
    thinks: false,
    toolCalls: true,
    license: 'Qwen Research License',
    licenseUrl: 'https://huggingface.co/Qwen/Qwen2.5-3B-Instruct/blob/main/LICENSE',
    contextLength: 32768,
    description: 'Noticeably better answers than 1.5B at about twice the memory (non-commercial licence).',
    shape: { embd: 2048, heads: 16, ff: 11008, vocab: 151936, kv: [{ layers: 36, kvHeads: 2, headDim: 128 }] },
  },
  {
    id: 'qwen2.5-7b-instruct-q4_k_m',
    name: 'Qwen2.5 7B Instruct',
    family: 'qwen2',
    parameters: '7B',
    parameterCount: 7.62e9,
    quantization: 'Q4_K_M',
    fileName: 'Qwen2.5-7B-Instruct-Q4_K_M.gguf',
    repo: 'bartowski/Qwen2.5-7B-Instruct-GGUF',
    sizeBytes: Math.round(4.68 * GB),
    thinks: false,
    toolCalls: true,
    license: 'Apache-2.0',
    licenseUrl: 'https://huggingface.co/Qwen/Qwen2.5-7B-Instruct/blob/main/LICENSE',
    contextLength: 32768,
    description: 'A solid general model without thinking; wants 8 GB of free memory or a GPU.',
    shape: { embd: 3584, heads: 28, ff: 18944, vocab: 152064, kv: [{ layers: 28, kvHeads: 4, headDim: 128 }] },
  },
  {
    id: 'phi-3.5-mini-instruct-q4_k_m',
    name: 'Phi-3.5 mini Instruct',
    family: 'phi3',
    parameters: '3.8B',
    parameterCount: 3.82e9,
    quantization: 'Q4_K_M',
    fileName: 'Phi-3.5-mini-instruct-Q4_K_M.gguf',
    repo: 'bartowski/Phi-3.5-mini-instruct-GGUF',
    sizeBytes: Math.round(2.39 * GB),
    thinks: false,
    toolCalls: false,
    license: 'MIT',
    licenseUrl: 'https://huggingface.co/microsoft/Phi-3.5-mini-instruct/blob/main/LICENSE',
    contextLength: 131072,
    description: 'Strong reasoning for its size, MIT licensed; mostly English, and a large KV cache.',
    shape: { embd: 3072, heads: 32, ff: 8192, vocab: 32064, kv: [{ layers: 32, kvHeads: 32, headDim: 96 }] },
  },
  {
    id: 'gemma-2-2b-it-q4_k_m',
    name: 'Gemma 2 2B it',
    family: 'gemma2',
    parameters: '2.6B',
    parameterCount: 2.61e9,
    quantization: 'Q4_K_M',
    fileName: 'gemma-2-2b-it-Q4_K_M.gguf',
    repo: 'bartowski/gemma-2-2b-it-GGUF',
    sizeBytes: Math.round(1.71 * GB),
    thinks: false,
    toolCalls: false,
    license: 'Gemma Terms of Use',
    licenseUrl: 'https://ai.google.dev/gemma/terms',
    contextLength: 8192,
    description: "Google's small chat model; fluent writing, short context.",
    // Alternating global and 4096-token sliding-window blocks.
    shape: { embd: 2304, heads: 8, ff: 9216, vocab: 256000, kv: [{ layers: 13, kvHeads: 4, headDim: 256 }, { layers: 13, kvHeads: 4, headDim: 256, window: 4096 }] },
  },
];

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

export const MODEL_CATALOG: readonly CatalogEntry[] = parseCatalog(RAW_CATALOG.map(entry));

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
