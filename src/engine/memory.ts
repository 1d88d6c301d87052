// Automatic GPU layers and context size: how much memory a model needs where, from its GGUF header, and
// the most layers and the longest context that fit the device's free memory with a safety margin.
//
// The estimate follows how llama.cpp places a model with n_gpu_layers = L (counted from the last block;
// L = n_layer + 1 also moves the output layer):
//   device: the weights of the last min(L, n_layer) blocks, the output layer when L > n_layer (with tied
//           embeddings llama.cpp gives the output layer its own copy of token_embd), the KV cache of the
//           offloaded blocks, and a compute buffer;
//   host:   the input embedding (always on the CPU), the other blocks' weights, their KV cache and a compute
//           buffer. The CPU backend keeps a second, repacked copy of the matrices it multiplies when their
//           type has a repacked layout (Q4_0, Q4_K, Q8_0, ...: "CPU_REPACK model buffer" in llama.cpp's log),
//           so those count twice on the host (the mapped file pages and the copy).
// KV cache per token and block = n_head_kv × (head_dim_k + head_dim_v) × bytes per element of the cache
// type (f16: 2). The compute buffer is estimated from the micro-batch, the widths and, without flash
// attention, the n_head × ubatch × n_ctx attention scores. Everything is rounded up where llama.cpp
// rounds (contexts to 256 cells); the margin absorbs what is not modelled (driver and allocator overhead).
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { getMetadataNumber, getMetadataValue, getArchitecture, getTokenCount } from '../gguf/metadata.js';
import { readGgufHeader } from '../gguf/reader.js';
import { GgmlType, type GgufHeader } from '../gguf/types.js';
import { native } from './native.js';

export type KvCacheType = 'f32' | 'f16' | 'bf16' | 'q8_0' | 'q4_0' | 'q4_1' | 'q5_0' | 'q5_1' | 'iq4_nl';

/** Bytes per element of each KV cache type (block size / bytes per block for quantized ones). */
export const KV_CACHE_BYTES: Record<KvCacheType, number> = {
  f32: 4,
  f16: 2,
  bf16: 2,
  q8_0: 34 / 32,
  q4_0: 18 / 32,
  q4_1: 20 / 32,
  q5_0: 22 / 32,
  q5_1: 24 / 32,
  iq4_nl: 18 / 32,
};

const MiB = 1 << 20;
const GiB = 1 << 30;
/** llama.cpp pads the KV cache to a multiple of this many cells. */
export const KV_PAD = 256;

export interface ModelGeometry {
  architecture: string;
  nLayer: number;
  nEmbd: number;
  nHead: number;
  /** KV heads of each block (models may vary them per layer). */
  nHeadKv: number[];
  headDimK: number;
  headDimV: number;
  nFf: number;
  nVocab: number;
  /** The context length the model was trained with (the upper bound for the context). */
  trainContext: number;
  /** Weights of each block (blk.<i>.*). */
  layerBytes: number[];
  /** The part of each block the CPU backend copies into its repacked layout when the block runs on the CPU. */
  layerRepackBytes: number[];
  /** Tensors outside the blocks that stay on the CPU (token embedding and the like). */
  inputBytes: number;
  /** The output layer: output_norm + output (or a copy of token_embd when the embeddings are tied). */
  outputBytes: number;
  outputTied: boolean;
  /** With tied embeddings, the part of outputBytes that is the token_embd copy (0 otherwise): on the host it
   *  is the same mmapped data as the input embedding, on a GPU it is a real copy. */
  outputCopyBytes: number;
  /** The output matrix's repacked copy when the output layer runs on the CPU. */
  outputRepackBytes: number;
}

/** Types ggml's CPU backend repacks (ggml-cpu/repack.cpp), so a CPU-resident matrix of them exists twice. */
const REPACKED_TYPES = new Set<number>([
  GgmlType.Q4_0,
  GgmlType.Q4_K,
  GgmlType.Q2_K,
  GgmlType.Q5_K,
  GgmlType.Q6_K,
  GgmlType.IQ4_NL,
  GgmlType.MXFP4,
  GgmlType.Q8_0,
  GgmlType.Q1_0,
]);

function repackable(t: { shape: readonly number[]; type: number }): boolean {
  return REPACKED_TYPES.has(t.type) && t.shape.length >= 2 && (t.shape[1] ?? 1) > 1;
}

type HeaderLike = Pick<GgufHeader, 'path' | 'metadata' | 'tensors'>;

function numOrMax(h: HeaderLike, key: string): number | undefined {
  const v = getMetadataValue(h, key);
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && 'items' in v) {
    const items = Array.from(v.items as ArrayLike<number | bigint>, Number);
    return items.length ? Math.max(...items) : undefined;
  }
  return undefined;
}

function perLayer(h: HeaderLike, key: string, n: number, fallback: number): number[] {
  const v = getMetadataValue(h, key);
  if (typeof v === 'object' && v !== null && 'items' in v) {
    const items = Array.from(v.items as ArrayLike<number | bigint>, Number);
    if (items.length === n) return items;
  }
  const single = typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : fallback;
  return new Array<number>(n).fill(single);
}

/** The shape and per-layer weight sizes of a model, from its GGUF metadata and tensor table. */
export function modelGeometry(h: HeaderLike): ModelGeometry {
  const arch = getArchitecture(h) ?? 'unknown';
  const k = (s: string) => `${arch}.${s}`;
  const nLayer = getMetadataNumber(h, k('block_count')) ?? 0;
  const nEmbd = getMetadataNumber(h, k('embedding_length')) ?? 0;
  const nHead = numOrMax(h, k('attention.head_count')) ?? 0;
  const nHeadKv = perLayer(h, k('attention.head_count_kv'), nLayer, nHead);
  const headDim = nHead > 0 ? nEmbd / nHead : 0;
  const headDimK = getMetadataNumber(h, k('attention.key_length')) ?? headDim;
  const headDimV = getMetadataNumber(h, k('attention.value_length')) ?? headDim;
  const nFf = numOrMax(h, k('feed_forward_length')) ?? 4 * nEmbd;
  const embd = h.tensors.find((t) => t.name === 'token_embd.weight');
  const nVocab = getMetadataNumber(h, k('vocab_size')) ?? getTokenCount(h) ?? embd?.shape[1] ?? 0;
  const trainContext = getMetadataNumber(h, k('context_length')) ?? 4096;

  const layerBytes = new Array<number>(nLayer).fill(0);
  const layerRepackBytes = new Array<number>(nLayer).fill(0);
  let inputBytes = 0;
  let outputBytes = 0;
  let outputRepackBytes = 0;
  let hasOutput = false;
  for (const t of h.tensors) {
    const m = /^blk\.(\d+)\./.exec(t.name);
    if (m) {
      const i = Number(m[1]);
      if (i < nLayer) {
        layerBytes[i]! += t.nBytes;
        if (repackable(t)) layerRepackBytes[i]! += t.nBytes;
      } else {
        inputBytes += t.nBytes;
      }
    } else if (t.name === 'output.weight' || t.name.startsWith('output_norm.') || t.name === 'output.bias') {
      outputBytes += t.nBytes;
      if (t.name === 'output.weight') {
        hasOutput = true;
        if (repackable(t)) outputRepackBytes += t.nBytes;
      }
    } else {
      inputBytes += t.nBytes;
    }
  }
  // Tied embeddings: llama.cpp creates the output matrix as a duplicate of token_embd on the output layer's device.
  const outputCopyBytes = !hasOutput && embd ? embd.nBytes : 0;
  outputBytes += outputCopyBytes;
  if (!hasOutput && embd && repackable(embd)) outputRepackBytes += embd.nBytes;
  return {
    architecture: arch,
    nLayer,
    nEmbd,
    nHead,
    nHeadKv,
    headDimK,
    headDimV,
    nFf,
    nVocab,
    trainContext,
    layerBytes,
    layerRepackBytes,
    inputBytes,
    outputBytes,
    outputTied: !hasOutput,
    outputCopyBytes,
    outputRepackBytes,
  };
}

/** KV cache bytes per token (per context cell) of one block; K and V may have different types. */
export function kvBytesPerTokenOfLayer(g: ModelGeometry, layer: number, typeK: KvCacheType = 'f16', typeV: KvCacheType = typeK): number {
  return (g.nHeadKv[layer] ?? 0) * (g.headDimK * KV_CACHE_BYTES[typeK] + g.headDimV * KV_CACHE_BYTES[typeV]);
}

/** KV cache bytes per token for the whole model: Σ n_head_kv × (head_dim_k × bytes(K) + head_dim_v × bytes(V)). */
export function kvBytesPerToken(g: ModelGeometry, typeK: KvCacheType = 'f16', typeV: KvCacheType = typeK): number {
  let n = 0;
  for (let i = 0; i < g.nLayer; i++) n += kvBytesPerTokenOfLayer(g, i, typeK, typeV);
  return n;
}

export function padContext(n: number): number {
  return Math.ceil(n / KV_PAD) * KV_PAD;
}

export interface ComputeEstimateOptions {
  ubatch?: number;
  flashAttention?: boolean;
  /** Rows of logits kept per batch (the engine keeps one per sequence). */
  outputs?: number;
  /** Whether the output layer (and so the logits) is on this device. */
  withOutput?: boolean;
}

/** A compute buffer estimate for one device at context `nCtx`. */
export function computeBufferBytes(g: ModelGeometry, nCtx: number, o: ComputeEstimateOptions = {}): number {
  const ub = o.ubatch ?? 512;
  const ctx = padContext(nCtx);
  const kvWidth = Math.max(...g.nHeadKv, 0) * g.headDimK;
  // Widest activations alive at once: the residual stream and its norm, Q, K, V, and the FFN's gate and up.
  const activations = ub * 4 * (2 * g.nEmbd + g.nHead * g.headDimK + 2 * kvWidth + 2 * g.nFf);
  // The attention mask (n_kv × ubatch), f16 with flash attention, f32 without; without flash attention
  // also the n_head × ubatch × n_kv score matrix in f32.
  const mask = ctx * ub * (o.flashAttention ? 2 : 4);
  const scores = o.flashAttention ? ub * g.nHead * g.headDimV * 4 * 2 : ub * g.nHead * ctx * 4;
  const logits = o.withOutput === false ? 0 : (o.outputs ?? 1) * g.nVocab * 4 + ub * g.nEmbd * 4;
  return activations + mask + scores + logits + 32 * MiB;
}

export interface MemoryBudget {
  /** Free bytes now. */
  free: number;
  total: number;
}

export interface PlanOptions {
  /** The GPU memory (sum of the selected backend's GPU devices); null or absent: CPU only. */
  device?: MemoryBudget | null;
  /** Host memory (default: MemAvailable / os.freemem() and os.totalmem()). */
  host?: MemoryBudget;
  cacheType?: KvCacheType;
  /** 'auto' is counted as on: llama.cpp enables it wherever the backend supports it (CUDA, Vulkan, Metal, CPU). */
  flashAttention?: 'auto' | 'on' | 'off';
  ubatch?: number;
  sequences?: number;
  /** Never plan a context below this (default 2048, or the training length if shorter). */
  minContext?: number;
  /** Never above this (default and cap: the training length). */
  maxContext?: number;
  /** Fix the layers and only choose the context. */
  gpuLayers?: number;
  /** Fix the context and only choose the layers. */
  contextSize?: number;
  /** Bytes kept free on the device; default max(512 MiB, 10 % of its total). */
  deviceMargin?: number;
  /** Bytes kept free on the host; default max(1 GiB, 10 % of its total). */
  hostMargin?: number;
}

export interface Usage {
  weights: number;
  kvCache: number;
  compute: number;
  total: number;
  budget: number;
}

export interface MemoryPlan {
  /** For loadModel: 0 = CPU only; nLayer + 1 = every block and the output layer. */
  gpuLayers: number;
  contextSize: number;
  /** False when not even the smallest setting fits (then the plan is the smallest setting). */
  fits: boolean;
  reason: string;
  nLayer: number;
  kvBytesPerToken: number;
  device: Usage | null;
  host: Usage;
}

export function defaultDeviceMargin(total: number): number {
  return Math.max(512 * MiB, Math.round(total * 0.1));
}

export function defaultHostMargin(total: number): number {
  return Math.max(1 * GiB, Math.round(total * 0.1));
}

/** Host memory that can be used now: Linux's MemAvailable (includes reclaimable cache), else os.freemem(). */
export function hostMemory(): MemoryBudget {
  const total = os.totalmem();
  try {
    const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return { free: Number(m[1]) * 1024, total };
  } catch {
    // not Linux
  }
  return { free: os.freemem(), total };
}

/** Memory used with `layers` offloaded at context `ctx`. */
export function usageAt(g: ModelGeometry, layers: number, ctx: number, o: PlanOptions = {}): { device: Omit<Usage, 'budget'>; host: Omit<Usage, 'budget'> } {
  const cacheType = o.cacheType ?? 'f16';
  const fa = (o.flashAttention ?? 'auto') !== 'off';
  const ub = o.ubatch ?? 512;
  const outputs = o.sequences ?? 1;
  const cells = padContext(ctx);
  const nOnDevice = Math.min(Math.max(layers, 0), g.nLayer);
  const outputOnDevice = layers > g.nLayer;
  let devWeights = 0;
  let devKv = 0;
  let hostWeights = g.inputBytes;
  let hostKv = 0;
  for (let i = 0; i < g.nLayer; i++) {
    const onDevice = i >= g.nLayer - nOnDevice;
    const kv = kvBytesPerTokenOfLayer(g, i, cacheType) * cells;
    if (onDevice) {
      devWeights += g.layerBytes[i] ?? 0;
      devKv += kv;
    } else {
      hostWeights += (g.layerBytes[i] ?? 0) + (g.layerRepackBytes[i] ?? 0);
      hostKv += kv;
    }
  }
  if (outputOnDevice) devWeights += g.outputBytes;
  else hostWeights += g.outputBytes - g.outputCopyBytes + g.outputRepackBytes;
  const devCompute = layers > 0 ? computeBufferBytes(g, ctx, { ubatch: ub, flashAttention: fa, outputs, withOutput: outputOnDevice }) : 0;
  // With everything offloaded the CPU only embeds the input tokens.
  const hostCompute = nOnDevice < g.nLayer || !outputOnDevice ? computeBufferBytes(g, ctx, { ubatch: ub, flashAttention: fa, outputs, withOutput: !outputOnDevice }) : 64 * MiB;
  return {
    device: { weights: devWeights, kvCache: devKv, compute: devCompute, total: devWeights + devKv + devCompute },
    host: { weights: hostWeights, kvCache: hostKv, compute: hostCompute, total: hostWeights + hostKv + hostCompute },
  };
}

/**
 * The most GPU layers, then the longest context (a multiple of 256 between the floor and the training
 * length), that fit the device and the host with their margins.
 */
export function planMemory(g: ModelGeometry, o: PlanOptions = {}): MemoryPlan {
  const host = o.host ?? hostMemory();
  const device = o.device && o.device.total > 0 ? o.device : null;
  const deviceBudget = device ? Math.max(0, device.free - (o.deviceMargin ?? defaultDeviceMargin(device.total))) : 0;
  const hostBudget = Math.max(0, host.free - (o.hostMargin ?? defaultHostMargin(host.total)));
  const train = Math.max(g.trainContext, 1);
  const cap = Math.min(o.maxContext ?? train, train);
  const floor = Math.min(o.minContext ?? 2048, cap);
  const maxLayers = g.nLayer + 1;

  const deviceFits = (l: number, c: number) => l === 0 || usageAt(g, l, c, o).device.total <= deviceBudget;
  const hostFits = (l: number, c: number) => usageAt(g, l, c, o).host.total <= hostBudget;
  const fitsAt = (l: number, c: number) => deviceFits(l, c) && hostFits(l, c);

  const ctxFixed = o.contextSize !== undefined ? Math.max(1, Math.round(o.contextSize)) : undefined;
  const baseCtx = ctxFixed ?? floor;

  // Layers: device use grows with them, host use shrinks, so the most layers the device takes at the
  // base context is the answer (fewer layers could only need more host memory).
  let layers: number;
  if (o.gpuLayers !== undefined) {
    layers = o.gpuLayers < 0 ? maxLayers : Math.min(o.gpuLayers, maxLayers);
  } else if (!device) {
    layers = 0;
  } else {
    layers = 0;
    for (let l = maxLayers; l > 0; l--) {
      if (deviceFits(l, baseCtx)) {
        layers = l;
        break;
      }
    }
  }

  // Context: the largest multiple of KV_PAD in [floor, cap] that fits with those layers (binary search;
  // use grows with the context). The cap itself is allowed even when it is not a multiple.
  let ctx = baseCtx;
  if (ctxFixed === undefined) {
    const steps = (c: number) => Math.floor(c / KV_PAD);
    if (fitsAt(layers, cap)) {
      ctx = cap;
    } else {
      let lo = Math.max(steps(floor), 1);
      let hi = steps(cap);
      if (!fitsAt(layers, lo * KV_PAD)) hi = lo - 1;
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (fitsAt(layers, mid * KV_PAD)) lo = mid;
        else hi = mid - 1;
      }
      ctx = Math.max(floor, hi >= lo ? lo * KV_PAD : floor);
    }
  }

  const fits = fitsAt(layers, ctx);
  const u = usageAt(g, layers, ctx, o);
  const kvpt = kvBytesPerToken(g, o.cacheType ?? 'f16');
  let reason: string;
  if (!fits) {
    reason = !hostFits(layers, ctx)
      ? `even ${layers} GPU layers and ${ctx} tokens need ${fmt(u.host.total)} of host memory, ${fmt(hostBudget)} is available after the margin`
      : `${layers} GPU layers at ${ctx} tokens need ${fmt(u.device.total)} of GPU memory, ${fmt(deviceBudget)} is available after the margin`;
  } else if (!device) {
    reason = `CPU only: context ${ctx} of ${train} (KV cache ${fmt(kvpt)} per token)`;
  } else {
    reason =
      layers >= maxLayers
        ? `every layer on the GPU, context ${ctx} of ${train}`
        : `${Math.min(layers, g.nLayer)} of ${g.nLayer} layers fit on the GPU at context ${ctx}`;
  }
  return {
    gpuLayers: layers,
    contextSize: ctx,
    fits,
    reason,
    nLayer: g.nLayer,
    kvBytesPerToken: kvpt,
    device: device ? { ...u.device, budget: deviceBudget } : null,
    host: { ...u.host, budget: hostBudget },
  };
}

export function fmt(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(2)} GiB`;
  if (bytes >= MiB) return `${(bytes / MiB).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** GPU memory of a backend's devices (systemInfo().devices), summed; null when there is no GPU. */
export function gpuMemory(devices: readonly { type: string; memoryFree: number; memoryTotal: number }[]): MemoryBudget | null {
  const gpus = devices.filter((d) => d.type !== 'cpu' && d.memoryTotal > 0);
  if (gpus.length === 0) return null;
  return { free: gpus.reduce((n, d) => n + d.memoryFree, 0), total: gpus.reduce((n, d) => n + d.memoryTotal, 0) };
}

export interface AutoSettingsOptions extends Omit<PlanOptions, 'device'> {
  /** Device memory to plan for; default: the GPUs of the loaded variant (systemInfo()), none for cpu. */
  device?: MemoryBudget | null;
}

/**
 * gpuLayers and contextSize for a model file on this machine: the header's geometry and the selected
 * variant's free device memory (see planMemory). Pass the result to loadModel / createContext.
 */
export async function autoModelSettings(path: string, o: AutoSettingsOptions = {}): Promise<MemoryPlan & { geometry: ModelGeometry }> {
  const geometry = modelGeometry(await readGgufHeader(path));
  const device = o.device !== undefined ? o.device : gpuMemory(native().systemInfo().devices);
  return { ...planMemory(geometry, { ...o, device }), geometry };
}
