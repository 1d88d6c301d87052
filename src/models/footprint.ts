// How much memory a catalog model needs to run, before it is downloaded: the file (the weights), the KV cache
// and the compute buffer at a typical context, and the fixed state of recurrent blocks. The KV cache and the
// compute buffer come from the engine's memory model (src/engine/memory.ts), which normally reads the shape
// from a GGUF header; here the catalog states the shape of each architecture instead, because the file is
// not on disk yet.
//
// What the engine's model does not know, the shape says: hybrid models (Qwen3.5's Gated DeltaNet, Granite's
// Mamba2) have a KV cache only in their few attention blocks plus a small constant state in the others;
// sliding-window blocks (Gemma, gpt-oss) cache at most window + micro-batch cells whatever the context, as
// llama.cpp sizes them; Gemma 4's KV-sharing blocks have no cache of their own and are simply not listed.
// The weights count once: the engine's planner also counts the CPU backend's repacked copy, which matters
// for a load that must not fail, but would make every model look twice its size on a machine it runs on.

import { computeBufferBytes, kvBytesPerToken, padContext, type ModelGeometry } from '../engine/memory.js';

/** The context the catalog's memory figures are for: a long conversation with some tool results. */
export const TYPICAL_CONTEXT = 8192;
/** The engine's default micro-batch. */
const UBATCH = 512;

/** Blocks that share a KV cache layout. */
export interface KvGroup {
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Sliding-window attention: the cache holds at most window + micro-batch cells. */
  window?: number;
}

/** The parts of an architecture that decide its memory beyond the file size. */
export interface ModelShape {
  embd: number;
  heads: number;
  /** The feed-forward width one token uses (for a mixture of experts, the active experts together). */
  ff: number;
  vocab: number;
  /** Blocks with a KV cache; recurrent blocks and KV-sharing blocks are left out. */
  kv: readonly KvGroup[];
  /** Constant state of recurrent blocks (Mamba2, Gated DeltaNet) for one sequence, in bytes. */
  recurrentStateBytes?: number;
}

function geometry(shape: ModelShape, g: KvGroup): ModelGeometry {
  return {
    architecture: 'catalog',
    nLayer: g.layers,
    nEmbd: shape.embd,
    nHead: shape.heads,
    nHeadKv: new Array<number>(g.layers).fill(g.kvHeads),
    headDimK: g.headDim,
    headDimV: g.headDim,
    nFf: shape.ff,
    nVocab: shape.vocab,
    trainContext: TYPICAL_CONTEXT,
    layerBytes: new Array<number>(g.layers).fill(0),
    layerRepackBytes: new Array<number>(g.layers).fill(0),
    inputBytes: 0,
    outputBytes: 0,
    outputTied: false,
    outputCopyBytes: 0,
    outputRepackBytes: 0,
  };
}

/** KV cache bytes (f16) at `context` tokens for one sequence. */
export function kvCacheBytes(shape: ModelShape, context: number = TYPICAL_CONTEXT): number {
  let bytes = 0;
  for (const g of shape.kv) {
    const cells = g.window !== undefined ? Math.min(padContext(g.window + UBATCH), padContext(context)) : padContext(context);
    bytes += kvBytesPerToken(geometry(shape, g), 'f16') * cells;
  }
  return bytes;
}

/** Approximate bytes to run a model of this file size and shape at `context` tokens, flash attention on. */
export function estimateMemoryBytes(fileBytes: number, shape: ModelShape, context: number = TYPICAL_CONTEXT): number {
  const widest = shape.kv.reduce<KvGroup>((a, g) => (g.kvHeads * g.headDim > a.kvHeads * a.headDim ? g : a), { layers: 1, kvHeads: 0, headDim: 0 });
  const compute = computeBufferBytes(geometry(shape, widest), context, { ubatch: UBATCH, flashAttention: true });
  return Math.round(fileBytes + kvCacheBytes(shape, context) + (shape.recurrentStateBytes ?? 0) + compute);
}
