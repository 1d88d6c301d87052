// Encoders for the few tensor types synthetic models use (F32, F16, Q4_0, Q8_0), plus a seeded PRNG so
// generated models are byte-for-byte reproducible. Layouts follow block_q4_0 / block_q8_0 in ggml-common.h.

import { GgmlType } from './types.js';

export const QK4_0 = 32;
export const Q4_0_BLOCK_BYTES = 2 + QK4_0 / 2;
export const QK8_0 = 32;
export const Q8_0_BLOCK_BYTES = 2 + QK8_0;

/** xoshiro128** seeded through splitmix32: fast in JS (32-bit ops only) and good enough for weights. */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }

  /** An independent stream per tensor, so a tensor's bytes do not depend on what was generated before it. */
  static derive(seed: number, label: string): Rng {
    let h = 0x811c9dc5 ^ seed;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    return new Rng(h >>> 0);
  }

  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** Uniform in [0, 1). */
  nextFloat(): number {
    return this.nextU32() / 0x1_0000_0000;
  }

  /** Fills with random bytes; the bulk goes 4 bytes per step through an aligned Uint32Array view. */
  fillBytes(out: Uint8Array): void {
    let i = 0;
    while (i < out.length && (out.byteOffset + i) % 4 !== 0) out[i++] = this.nextU32() & 0xff;
    const words = Math.floor((out.length - i) / 4);
    const u32 = new Uint32Array(out.buffer, out.byteOffset + i, words);
    for (let w = 0; w < words; w++) u32[w] = this.nextU32();
    for (i += words * 4; i < out.length; i++) out[i] = this.nextU32() & 0xff;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half bits of a number, round-to-nearest-even, like ggml's FP32→FP16 conversion. */
export function f32ToF16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1) !== 0)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) !== 0)) half++;
  return sign | half;
}

export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function encodeF16(values: ArrayLike<number>): Uint8Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = f32ToF16(values[i]!);
  return new Uint8Array(out.buffer);
}

export function encodeF32(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

/** Q4_0 as ggml's reference quantizer does it: d = max/-8 taken from the value of largest magnitude. */
export function quantizeQ4_0(values: ArrayLike<number>): Uint8Array {
  if (values.length % QK4_0 !== 0) throw new RangeError(`Q4_0 needs a multiple of ${QK4_0} values`);
  const nb = values.length / QK4_0;
  const out = new Uint8Array(nb * Q4_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    const base = b * QK4_0;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK4_0; j++) {
      const v = values[base + j]!;
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = max / -8;
    const id = d !== 0 ? 1 / d : 0;
    const o = b * Q4_0_BLOCK_BYTES;
    view.setUint16(o, f32ToF16(d), true);
    for (let j = 0; j < QK4_0 / 2; j++) {
      const lo = Math.min(15, Math.trunc(values[base + j]! * id + 8.5));
      const hi = Math.min(15, Math.trunc(values[base + j + QK4_0 / 2]! * id + 8.5));
      out[o + 2 + j] = lo | (hi << 4);
    }
  }
  return out;
}

export function dequantizeQ4_0(data: Uint8Array): Float32Array {
  const nb = data.length / Q4_0_BLOCK_BYTES;
  const out = new Float32Array(nb * QK4_0);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let b = 0; b < nb; b++) {
    const o = b * Q4_0_BLOCK_BYTES;
    const d = f16ToF32(view.getUint16(o, true));
    for (let j = 0; j < QK4_0 / 2; j++) {
      const q = data[o + 2 + j]!;
      out[b * QK4_0 + j] = ((q & 0x0f) - 8) * d;
      out[b * QK4_0 + j + QK4_0 / 2] = ((q >>> 4) - 8) * d;
    }
  }
  return out;
}

export function quantizeQ8_0(values: ArrayLike<number>): Uint8Array {
  if (values.length % QK8_0 !== 0) throw new RangeError(`Q8_0 needs a multiple of ${QK8_0} values`);
  const nb = values.length / QK8_0;
  const out = new Uint8Array(nb * Q8_0_BLOCK_BYTES);
  const view = new DataView(out.buffer);
  for (let b = 0; b < nb; b++) {
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) amax = Math.max(amax, Math.abs(values[b * QK8_0 + j]!));
    const d = amax / 127;
    const id = d !== 0 ? 1 / d : 0;
    const o = b * Q8_0_BLOCK_BYTES;
    view.setUint16(o, f32ToF16(d), true);
    for (let j = 0; j < QK8_0; j++) {
      // roundf() in C rounds halves away from zero; Math.round would send -0.5 to 0.
      const x = values[b * QK8_0 + j]! * id;
      view.setInt8(o + 2 + j, Math.sign(x) * Math.round(Math.abs(x)));
    }
  }
  return out;
}

export function dequantizeQ8_0(data: Uint8Array): Float32Array {
  const nb = data.length / Q8_0_BLOCK_BYTES;
  const out = new Float32Array(nb * QK8_0);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let b = 0; b < nb; b++) {
    const o = b * Q8_0_BLOCK_BYTES;
    const d = f16ToF32(view.getUint16(o, true));
    for (let j = 0; j < QK8_0; j++) out[b * QK8_0 + j] = view.getInt8(o + 2 + j) * d;
  }
  return out;
}

// Root mean square of the integer levels of random blocks: uniform nibbles -8..7 and uniform int8 -128..127.
const Q4_0_LEVEL_RMS = Math.sqrt(21.5);
const Q8_0_LEVEL_RMS = Math.sqrt(((128 * 129 * 257) / 6 + (127 * 128 * 255) / 6) / 256);

/**
 * Overwrites `out` (whole blocks) with random Q4_0 or Q8_0 blocks whose weights have RMS `std`. The scale's
 * sign is random per block so the weights have zero mean, which a fixed positive d would not give for Q4_0.
 */
export function fillRandomBlocks(rng: Rng, type: typeof GgmlType.Q4_0 | typeof GgmlType.Q8_0, out: Uint8Array, std: number): void {
  const [blockBytes, levelRms] = type === GgmlType.Q4_0 ? [Q4_0_BLOCK_BYTES, Q4_0_LEVEL_RMS] : [Q8_0_BLOCK_BYTES, Q8_0_LEVEL_RMS];
  if (out.length % blockBytes !== 0) throw new RangeError('output is not a whole number of blocks');
  rng.fillBytes(out);
  const dPos = f32ToF16(std / levelRms);
  const dNeg = dPos | 0x8000;
  for (let o = 0; o < out.length; o += blockBytes) {
    // The random byte about to be overwritten supplies the sign bit.
    const d = out[o]! & 1 ? dNeg : dPos;
    out[o] = d & 0xff;
    out[o + 1] = d >>> 8;
  }
}

/** Uniform random values with RMS `std`, as F32 or F16. */
export function fillRandomFloats(rng: Rng, type: typeof GgmlType.F32 | typeof GgmlType.F16, out: Uint8Array, std: number): void {
  const a = std * Math.sqrt(3);
  if (type === GgmlType.F32) {
    const f = new Float32Array(out.buffer, out.byteOffset, out.byteLength / 4);
    for (let i = 0; i < f.length; i++) f[i] = (rng.nextFloat() * 2 - 1) * a;
  } else {
    const h = new Uint16Array(out.buffer, out.byteOffset, out.byteLength / 2);
    for (let i = 0; i < h.length; i++) h[i] = f32ToF16((rng.nextFloat() * 2 - 1) * a);
  }
}

export type RandomTensorType = typeof GgmlType.F32 | typeof GgmlType.F16 | typeof GgmlType.Q4_0 | typeof GgmlType.Q8_0;

/**
 * Streams random tensor bytes in chunks of about chunkBytes, reusing one buffer (the writer has finished
 * with a chunk before it asks for the next), so memory stays flat however large the tensor is.
 */
export function* randomTensorChunks(
  rng: Rng,
  type: RandomTensorType,
  nElements: number,
  std: number,
  chunkBytes = 1 << 20,
): Generator<Uint8Array> {
  const [blockElems, blockBytes] =
    type === GgmlType.Q4_0 ? [QK4_0, Q4_0_BLOCK_BYTES] : type === GgmlType.Q8_0 ? [QK8_0, Q8_0_BLOCK_BYTES] : [1, type === GgmlType.F32 ? 4 : 2];
  if (nElements % blockElems !== 0) throw new RangeError(`${nElements} elements is not a whole number of blocks`);
  let blocksLeft = nElements / blockElems;
  // Keep chunks a multiple of 4 blocks so every chunk starts 4-byte aligned within the buffer.
  const blocksPerChunk = Math.max(4, Math.floor(chunkBytes / blockBytes / 4) * 4);
  const buf = new Uint8Array(Math.min(blocksLeft, blocksPerChunk) * blockBytes);
  while (blocksLeft > 0) {
    const n = Math.min(blocksLeft, blocksPerChunk);
    const chunk = buf.subarray(0, n * blockBytes);
    if (type === GgmlType.Q4_0 || type === GgmlType.Q8_0) fillRandomBlocks(rng, type, chunk, std);
    else fillRandomFloats(rng, type, chunk, std);
    yield chunk;
    blocksLeft -= n;
  }
}

/** F32 bytes of `n` copies of `value` (norm weights of 1.0, for instance). */
export function constantF32(n: number, value: number): Uint8Array {
  return new Uint8Array(new Float32Array(n).fill(value).buffer);
}
