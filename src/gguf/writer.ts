// Builds GGUF files. Metadata is held in memory (it is small even with a 150k-token vocabulary); tensor data
// is pulled from each tensor's source only while writing, so multi-hundred-MB models stream to disk.

import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { alignUp } from './reader.js';
import {
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgufValueType,
  ggmlTensorBytes,
  ggmlTypeInfo,
  ggufValueTypeName,
  type GgmlType,
  type GgufArray,
  type GgufArrayItems,
  type GgufHeader,
  type GgufMetadataEntry,
  type GgufValue,
} from './types.js';

/**
 * Tensor bytes: a buffer, or a function returning (async) chunks. The writer is done with a chunk before it
 * asks for the next, so a source may refill and yield the same buffer each time.
 */
export type GgufTensorData = ArrayBufferView | (() => Iterable<Uint8Array> | AsyncIterable<Uint8Array>);

export interface GgufTensorInput {
  name: string;
  /** ggml order: ne[0] (row length) first. */
  shape: readonly number[];
  type: GgmlType;
  data: GgufTensorData;
}

export interface GgufWriteResult {
  path: string;
  fileSize: number;
  dataOffset: number;
  tensorCount: number;
}

export interface GgufWriterOptions {
  /** 3 (default) or 2; they share a layout, 2 exists for readers of old files and for tests. */
  version?: 2 | 3;
  /** Data alignment; stored as general.alignment when not the default 32. */
  alignment?: number;
}

type PlainItems = readonly number[] | readonly bigint[] | readonly boolean[] | readonly string[] | readonly GgufArray[];

interface PendingTensor extends GgufTensorInput {
  nBytes: number;
  offset: number;
}

const INT_RANGES: Partial<Record<GgufValueType, readonly [number, number]>> = {
  [GgufValueType.UINT8]: [0, 0xff],
  [GgufValueType.INT8]: [-0x80, 0x7f],
  [GgufValueType.UINT16]: [0, 0xffff],
  [GgufValueType.INT16]: [-0x8000, 0x7fff],
  [GgufValueType.UINT32]: [0, 0xffff_ffff],
  [GgufValueType.INT32]: [-0x8000_0000, 0x7fff_ffff],
};

export class GgufWriter {
  readonly version: 2 | 3;
  private readonly kv = new Map<string, GgufMetadataEntry>();
  private readonly tensors: PendingTensor[] = [];

  constructor(opts: GgufWriterOptions = {}) {
    this.version = opts.version ?? 3;
    if (opts.alignment !== undefined && opts.alignment !== GGUF_DEFAULT_ALIGNMENT) {
      this.setUint32('general.alignment', opts.alignment);
    }
  }

  get alignment(): number {
    const a = this.kv.get('general.alignment');
    return a && a.type === GgufValueType.UINT32 ? (a.value as number) : GGUF_DEFAULT_ALIGNMENT;
  }

  get metadata(): ReadonlyMap<string, GgufMetadataEntry> {
    return this.kv;
  }

  /** Sets a key with an explicit type; replacing a key keeps its original position. */
  set(key: string, type: GgufValueType, value: GgufValue): this {
    if (key.length === 0) throw new TypeError('metadata key must not be empty');
    checkValue(key, type, value);
    if (key === 'general.alignment') {
      const a = value as number;
      if (type !== GgufValueType.UINT32 || a === 0 || (a & (a - 1)) !== 0) {
        throw new TypeError(`general.alignment must be a power-of-two uint32, got ${String(value)}`);
      }
      if (this.tensors.length > 0) throw new TypeError('set general.alignment before adding tensors');
    }
    const stored = typeof value === 'number' && (type === GgufValueType.UINT64 || type === GgufValueType.INT64) ? BigInt(value) : value;
    this.kv.set(key, { type, value: stored });
    return this;
  }

  setString(key: string, value: string): this { return this.set(key, GgufValueType.STRING, value); }
  setBool(key: string, value: boolean): this { return this.set(key, GgufValueType.BOOL, value); }
  setUint8(key: string, value: number): this { return this.set(key, GgufValueType.UINT8, value); }
  setInt8(key: string, value: number): this { return this.set(key, GgufValueType.INT8, value); }
  setUint16(key: string, value: number): this { return this.set(key, GgufValueType.UINT16, value); }
  setInt16(key: string, value: number): this { return this.set(key, GgufValueType.INT16, value); }
  setUint32(key: string, value: number): this { return this.set(key, GgufValueType.UINT32, value); }
  setInt32(key: string, value: number): this { return this.set(key, GgufValueType.INT32, value); }
  setUint64(key: string, value: number | bigint): this { return this.set(key, GgufValueType.UINT64, value); }
  setInt64(key: string, value: number | bigint): this { return this.set(key, GgufValueType.INT64, value); }
  setFloat32(key: string, value: number): this { return this.set(key, GgufValueType.FLOAT32, value); }
  setFloat64(key: string, value: number): this { return this.set(key, GgufValueType.FLOAT64, value); }

  /** Arrays take typed arrays as they are, or plain arrays that are converted to itemType. */
  setArray(key: string, itemType: GgufValueType, items: GgufArrayItems | PlainItems): this {
    return this.set(key, GgufValueType.ARRAY, ggufArray(itemType, items));
  }

  delete(key: string): boolean {
    return this.kv.delete(key);
  }

  /** Copies key/value pairs with their original types, e.g. a tokenizer from a vocab-only GGUF. */
  copyMetadataFrom(source: Pick<GgufHeader, 'metadata'>, filter: (key: string) => boolean = () => true): this {
    for (const [key, entry] of source.metadata) if (filter(key)) this.set(key, entry.type, entry.value);
    return this;
  }

  addTensor(t: GgufTensorInput): this {
    const info = ggmlTypeInfo(t.type);
    if (!info) throw new TypeError(`tensor '${t.name}': unknown ggml type ${t.type}`);
    const nameBytes = Buffer.byteLength(t.name);
    if (nameBytes === 0 || nameBytes >= GGML_MAX_NAME) throw new TypeError(`tensor name '${t.name}' must be 1..${GGML_MAX_NAME - 1} bytes`);
    if (this.tensors.some((x) => x.name === t.name)) throw new TypeError(`duplicate tensor name '${t.name}'`);
    if (t.shape.length === 0 || t.shape.length > GGML_MAX_DIMS || t.shape.some((d) => !Number.isSafeInteger(d) || d <= 0)) {
      throw new TypeError(`tensor '${t.name}': shape [${t.shape.join(', ')}] must have 1..${GGML_MAX_DIMS} positive dimensions`);
    }
    const nBytes = ggmlTensorBytes(t.type, t.shape);
    if (nBytes === undefined) {
      throw new TypeError(`tensor '${t.name}': row length ${t.shape[0]} is not a multiple of the ${info.name} block size ${info.blockSize}`);
    }
    if (ArrayBuffer.isView(t.data) && t.data.byteLength !== Number(nBytes)) {
      throw new TypeError(`tensor '${t.name}': data has ${t.data.byteLength} bytes, shape and type need ${nBytes}`);
    }
    const last = this.tensors.at(-1);
    const offset = last ? alignUp(last.offset + last.nBytes, this.alignment) : 0;
    this.tensors.push({ ...t, shape: [...t.shape], nBytes: Number(nBytes), offset });
    return this;
  }

  get tensorCount(): number {
    return this.tensors.length;
  }

  /** Header bytes: magic through tensor infos, without the padding before the data section. */
  encodeHeader(): Buffer {
    const out = new ByteSink();
    out.u32(GGUF_MAGIC);
    out.u32(this.version);
    out.u64(this.tensors.length);
    out.u64(this.kv.size);
    for (const [key, { type, value }] of this.kv) {
      out.string(key);
      out.u32(type);
      out.value(type, value);
    }
    for (const t of this.tensors) {
      out.string(t.name);
      out.u32(t.shape.length);
      for (const d of t.shape) out.u64(d);
      out.u32(t.type);
      out.u64(t.offset);
    }
    return out.result();
  }

  /** Writes to a temporary file and renames it, so a crash never leaves a plausible half-written model. */
  async write(path: string): Promise<GgufWriteResult> {
    const header = this.encodeHeader();
    const dataOffset = alignUp(header.length, this.alignment);
    const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
    const fh = await open(tmp, 'w');
    let ok = false;
    try {
      const out = new FileSink(fh);
      await out.write(header);
      await out.zeros(dataOffset - header.length);
      for (const t of this.tensors) {
        await writeTensorData(out, t);
        await out.zeros(alignUp(t.nBytes, this.alignment) - t.nBytes);
      }
      await out.flush();
      ok = true;
      const fileSize = out.position;
      await fh.close();
      await rename(tmp, path);
      return { path, fileSize, dataOffset, tensorCount: this.tensors.length };
    } finally {
      if (!ok) {
        await fh.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
      }
    }
  }
}

async function writeTensorData(out: FileSink, t: PendingTensor): Promise<void> {
  if (ArrayBuffer.isView(t.data)) {
    await out.write(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    return;
  }
  let written = 0;
  for await (const chunk of t.data()) {
    written += chunk.byteLength;
    if (written > t.nBytes) {
      throw new RangeError(`tensor '${t.name}': data source produced more than the ${t.nBytes} bytes its shape and type need`);
    }
    await out.write(chunk);
  }
  if (written !== t.nBytes) {
    throw new RangeError(`tensor '${t.name}': data source produced ${written} bytes, its shape and type need ${t.nBytes}`);
  }
}

/** Builds a GgufArray, converting plain arrays to the typed array that matches itemType. */
export function ggufArray(itemType: GgufValueType, items: GgufArrayItems | PlainItems): GgufArray {
  // Plain number arrays are range-checked first because typed-array conversion would wrap silently.
  const nums = Array.isArray(items) ? (items as unknown as number[]) : undefined;
  if (nums && INT_RANGES[itemType]) for (const v of nums) checkInt('array item', itemType, v);
  const big = nums as (number | bigint)[] | undefined;
  let converted: GgufArrayItems;
  switch (itemType) {
    case GgufValueType.UINT8: converted = nums ? Uint8Array.from(nums) : (items as Uint8Array); break;
    case GgufValueType.INT8: converted = nums ? Int8Array.from(nums) : (items as Int8Array); break;
    case GgufValueType.UINT16: converted = nums ? Uint16Array.from(nums) : (items as Uint16Array); break;
    case GgufValueType.INT16: converted = nums ? Int16Array.from(nums) : (items as Int16Array); break;
    case GgufValueType.UINT32: converted = nums ? Uint32Array.from(nums) : (items as Uint32Array); break;
    case GgufValueType.INT32: converted = nums ? Int32Array.from(nums) : (items as Int32Array); break;
    case GgufValueType.FLOAT32: converted = nums ? Float32Array.from(nums) : (items as Float32Array); break;
    case GgufValueType.FLOAT64: converted = nums ? Float64Array.from(nums) : (items as Float64Array); break;
    case GgufValueType.UINT64: converted = big ? BigUint64Array.from(big, BigInt) : (items as BigUint64Array); break;
    case GgufValueType.INT64: converted = big ? BigInt64Array.from(big, BigInt) : (items as BigInt64Array); break;
    default: converted = items as GgufArrayItems;
  }
  const arr = { itemType, items: converted };
  checkValue('array', GgufValueType.ARRAY, arr);
  return arr;
}

function checkInt(key: string, type: GgufValueType, v: unknown): void {
  const [lo, hi] = INT_RANGES[type]!;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
    throw new TypeError(`${key}: ${String(v)} is not a valid ${ggufValueTypeName(type)}`);
  }
}

const TYPED_CTORS: Partial<Record<GgufValueType, Function>> = {
  [GgufValueType.UINT8]: Uint8Array,
  [GgufValueType.INT8]: Int8Array,
  [GgufValueType.UINT16]: Uint16Array,
  [GgufValueType.INT16]: Int16Array,
  [GgufValueType.UINT32]: Uint32Array,
  [GgufValueType.INT32]: Int32Array,
  [GgufValueType.FLOAT32]: Float32Array,
  [GgufValueType.FLOAT64]: Float64Array,
  [GgufValueType.UINT64]: BigUint64Array,
  [GgufValueType.INT64]: BigInt64Array,
};

/** Rejects a value that would be encoded as something other than what its type says. */
function checkValue(key: string, type: GgufValueType, value: GgufValue): void {
  const bad = (): never => {
    throw new TypeError(`metadata '${key}': ${typeof value} value does not match type ${ggufValueTypeName(type)}`);
  };
  switch (type) {
    case GgufValueType.STRING: if (typeof value !== 'string') bad(); return;
    case GgufValueType.BOOL: if (typeof value !== 'boolean') bad(); return;
    case GgufValueType.FLOAT32:
    case GgufValueType.FLOAT64: if (typeof value !== 'number') bad(); return;
    case GgufValueType.UINT64:
    case GgufValueType.INT64: {
      if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isSafeInteger(value))) bad();
      const b = BigInt(value as number | bigint);
      const ok = type === GgufValueType.UINT64 ? b >= 0n && b < 1n << 64n : b >= -(1n << 63n) && b < 1n << 63n;
      if (!ok) throw new TypeError(`metadata '${key}': ${b} is out of range for ${ggufValueTypeName(type)}`);
      return;
    }
    case GgufValueType.ARRAY: {
      if (typeof value !== 'object') bad();
      const { itemType, items } = value as GgufArray;
      const ctor = TYPED_CTORS[itemType];
      if (ctor ? !(items instanceof ctor) : !Array.isArray(items)) bad();
      if (itemType === GgufValueType.STRING && !(items as unknown[]).every((s) => typeof s === 'string')) bad();
      if (itemType === GgufValueType.BOOL && !(items as unknown[]).every((s) => typeof s === 'boolean')) bad();
      if (itemType === GgufValueType.ARRAY) for (const a of items as GgufArray[]) checkValue(key, GgufValueType.ARRAY, a);
      return;
    }
    default: checkInt(`metadata '${key}'`, type, value);
  }
}

/** Growable in-memory buffer for the header. */
class ByteSink {
  private buf = Buffer.allocUnsafe(1 << 16);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(bigger, 0, 0, this.len);
    this.buf = bigger;
  }
  u8(v: number): void { this.reserve(1); this.buf[this.len++] = v; }
  u32(v: number): void { this.reserve(4); this.len = this.buf.writeUInt32LE(v, this.len); }
  u64(v: number | bigint): void { this.reserve(8); this.len = this.buf.writeBigUInt64LE(BigInt(v), this.len); }
  string(s: string): void {
    const n = Buffer.byteLength(s);
    this.u64(n);
    this.reserve(n);
    this.len += this.buf.write(s, this.len, 'utf8');
  }
  bytes(b: ArrayBufferView): void {
    this.reserve(b.byteLength);
    this.buf.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), this.len);
    this.len += b.byteLength;
  }
  value(type: GgufValueType, v: GgufValue): void {
    this.reserve(8);
    const b = this.buf;
    switch (type) {
      case GgufValueType.UINT8: b.writeUInt8(v as number, this.len++); return;
      case GgufValueType.INT8: b.writeInt8(v as number, this.len++); return;
      case GgufValueType.BOOL: b[this.len++] = v ? 1 : 0; return;
      case GgufValueType.UINT16: this.len = b.writeUInt16LE(v as number, this.len); return;
      case GgufValueType.INT16: this.len = b.writeInt16LE(v as number, this.len); return;
      case GgufValueType.UINT32: this.len = b.writeUInt32LE(v as number, this.len); return;
      case GgufValueType.INT32: this.len = b.writeInt32LE(v as number, this.len); return;
      case GgufValueType.FLOAT32: this.len = b.writeFloatLE(v as number, this.len); return;
      case GgufValueType.FLOAT64: this.len = b.writeDoubleLE(v as number, this.len); return;
      case GgufValueType.UINT64: this.len = b.writeBigUInt64LE(BigInt(v as bigint), this.len); return;
      case GgufValueType.INT64: this.len = b.writeBigInt64LE(BigInt(v as bigint), this.len); return;
      case GgufValueType.STRING: this.string(v as string); return;
      default: this.array(v as GgufArray);
    }
  }
  private array({ itemType, items }: GgufArray): void {
    this.u32(itemType);
    this.u64(items.length);
    if (itemType === GgufValueType.STRING) for (const s of items as string[]) this.string(s);
    else if (itemType === GgufValueType.ARRAY) for (const a of items as GgufArray[]) this.array(a);
    else if (itemType === GgufValueType.BOOL) for (const x of items as boolean[]) this.u8(x ? 1 : 0);
    // Typed arrays are little-endian on every host Node supports, which is what GGUF wants.
    else this.bytes(items as ArrayBufferView);
  }
  result(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

/** Coalesces small writes into large ones; large chunks go straight through without a copy. */
class FileSink {
  private readonly buf = Buffer.allocUnsafe(4 << 20);
  private len = 0;
  position = 0;

  constructor(private readonly fh: FileHandle) {}

  async write(chunk: Uint8Array): Promise<void> {
    if (this.len + chunk.byteLength <= this.buf.length) {
      this.buf.set(chunk, this.len);
      this.len += chunk.byteLength;
      return;
    }
    await this.flush();
    if (chunk.byteLength >= this.buf.length) await this.writeAll(chunk);
    else {
      this.buf.set(chunk, 0);
      this.len = chunk.byteLength;
    }
  }

  async zeros(n: number): Promise<void> {
    if (n > 0) await this.write(new Uint8Array(n));
  }

  async flush(): Promise<void> {
    if (this.len === 0) return;
    await this.writeAll(this.buf.subarray(0, this.len));
    this.len = 0;
  }

  private async writeAll(data: Uint8Array): Promise<void> {
    let done = 0;
    while (done < data.byteLength) {
      const { bytesWritten } = await this.fh.write(data, done, data.byteLength - done, this.position);
      done += bytesWritten;
      this.position += bytesWritten;
    }
  }
}
