// Reads and validates the header of a GGUF file (metadata and tensor table) without touching tensor data.
// Everything a corrupt file could use to make us (or llama.cpp after us) allocate or read out of bounds is
// checked against the file size before it is used.

import { open, type FileHandle } from 'node:fs/promises';
import { ChunkReader, FormatError, labelText, type Label } from './chunk-reader.js';
import { WestfallError } from '../errors.js';
import { checkModelMetadata } from './validate.js';
import {
  GGML_MAX_DIMS,
  GGML_MAX_NAME,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GgufValueType,
  ggmlTensorBytes,
  ggmlTypeInfo,
  ggufScalarSize,
  ggufValueTypeName,
  isGgufValueType,
  type GgmlType,
  type GgufArray,
  type GgufArrayItems,
  type GgufHeader,
  type GgufMetadataEntry,
  type GgufTensorInfo,
  type GgufValue,
} from './types.js';

export interface ReadGgufHeaderOptions {
  /** Bytes per positioned read; larger means fewer syscalls on big vocabularies. Default 1 MiB. */
  chunkSize?: number;
  /** Longest string accepted, as in ggml's GGUF_MAX_STRING_LENGTH. Default 1 GiB. */
  maxStringLength?: number;
}

class HeaderParser {
  constructor(
    private readonly r: ChunkReader,
    private readonly maxStringLength: number,
  ) {}

  private async count(what: Label, minBytesEach: number): Promise<number> {
    await this.r.ensure(8, what);
    const at = this.r.offset;
    const n = this.r.size();
    if (n < 0 || n * minBytesEach > this.r.remaining) {
      throw new FormatError(
        `${labelText(what)} ${this.r.lastU64()} at offset ${at} is impossible: ` +
          `${this.r.remaining} bytes remain in the file`,
      );
    }
    return n;
  }

  async string(what: Label): Promise<string> {
    const r = this.r;
    await r.ensure(8, what);
    const at = r.offset;
    const len = r.size();
    if (len < 0 || len > r.remaining || len > this.maxStringLength) {
      throw new FormatError(
        `string length ${r.lastU64()} at offset ${at} (${labelText(what)}) exceeds ` +
          (len >= 0 && len <= r.remaining ? `the limit of ${this.maxStringLength} bytes` : `the ${r.remaining} bytes left in the file`),
      );
    }
    if (len <= 65536) {
      await r.ensure(len, what);
      return r.utf8(len);
    }
    const bytes = Buffer.allocUnsafe(len);
    await r.readInto(bytes, what);
    return bytes.toString('utf8');
  }

  async valueType(what: Label): Promise<GgufValueType> {
    await this.r.ensure(4, what);
    const at = this.r.offset;
    const t = this.r.i32();
    if (!isGgufValueType(t)) throw new FormatError(`unknown value type ${t} at offset ${at} (${labelText(what)})`);
    return t;
  }

  async value(type: GgufValueType, what: Label): Promise<GgufValue> {
    const r = this.r;
    if (type === GgufValueType.STRING) return this.string(what);
    if (type === GgufValueType.ARRAY) return this.array(what);
    await r.ensure(ggufScalarSize(type)!, what);
    switch (type) {
      case GgufValueType.UINT8: return r.u8();
      case GgufValueType.INT8: return r.i8();
      case GgufValueType.UINT16: return r.u16();
      case GgufValueType.INT16: return r.i16();
      case GgufValueType.UINT32: return r.u32();
      case GgufValueType.INT32: return r.i32();
      case GgufValueType.FLOAT32: return r.f32();
      case GgufValueType.BOOL: return r.u8() !== 0;
      case GgufValueType.UINT64: return r.u64();
      case GgufValueType.INT64: return r.i64();
      default: return r.f64();
    }
  }

  async array(what: Label): Promise<GgufArray> {
    const itemType = await this.valueType(() => `item type of ${labelText(what)}`);
    // Smallest possible encoding of one item, so a huge count is rejected before anything is allocated.
    const minSize = itemType === GgufValueType.STRING ? 8 : itemType === GgufValueType.ARRAY ? 12 : ggufScalarSize(itemType)!;
    const n = await this.count(() => `element count of ${labelText(what)}`, minSize);
    const itemLabel = (i: number): Label => () => `${labelText(what)}[${i}]`;
    let items: GgufArrayItems;
    switch (itemType) {
      case GgufValueType.STRING: {
        const out: string[] = new Array<string>(n);
        // Vocabularies hold ~150k strings each; awaiting only on a refill keeps this loop synchronous.
        for (let i = 0; i < n; i++) out[i] = this.r.tryString(this.maxStringLength) ?? (await this.string(itemLabel(i)));
        items = out;
        break;
      }
      case GgufValueType.ARRAY: {
        const out: GgufArray[] = new Array<GgufArray>(n);
        for (let i = 0; i < n; i++) out[i] = await this.array(itemLabel(i));
        items = out;
        break;
      }
      case GgufValueType.BOOL: {
        const raw = new Uint8Array(n);
        await this.r.readInto(raw, what);
        items = Array.from(raw, (b) => b !== 0);
        break;
      }
      default: {
        const typed = newTypedArray(itemType, n);
        // GGUF is little-endian like every host Node runs on, so the bytes can be copied as they are.
        await this.r.readInto(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), what);
        items = typed;
      }
    }
    return { itemType, items };
  }

  async header(path: string): Promise<GgufHeader> {
    const r = this.r;
    if (r.fileSize === 0) throw new FormatError('the file is empty (0 bytes)');
    if (r.fileSize < 4) throw new FormatError(`the file is only ${r.fileSize} bytes long, too short for a GGUF header`);
    await r.ensure(4, 'magic');
    const magic = r.u32();
    if (magic !== GGUF_MAGIC) throw new FormatError(`not a GGUF file: bad magic ${describeMagic(magic)}, expected "GGUF"`);
    await r.ensure(4, 'version');
    const version = r.u32();
    if (version === 1) throw new FormatError('GGUF version 1 is no longer supported (need 2 or 3)');
    if (version !== 2 && version !== 3) {
      const hint = (version & 0xffff) === 0 ? ' (a big-endian file?)' : '';
      throw new FormatError(`unsupported GGUF version ${version}${hint}; supported are 2 and 3`);
    }
    await r.ensure(16, 'tensor and metadata counts');
    // Each tensor info takes at least 24 bytes and each key/value pair at least 13.
    const nTensors = await this.count('tensor count', 24);
    const nKv = await this.count('metadata entry count', 13);
    if (nTensors * 24 + nKv * 13 > r.remaining) {
      throw new FormatError(`${nTensors} tensors and ${nKv} metadata entries cannot fit in the ${r.remaining} bytes left`);
    }

    const metadata = new Map<string, GgufMetadataEntry>();
    for (let i = 0; i < nKv; i++) {
      const key = await this.string(() => `key of metadata entry ${i}`);
      if (key.length === 0) throw new FormatError(`metadata entry ${i} has an empty key`);
      if (metadata.has(key)) throw new FormatError(`duplicate metadata key '${key}'`);
      const type = await this.valueType(() => `type of metadata '${key}'`);
      const value = await this.value(type, () => `metadata '${key}'`);
      metadata.set(key, { type, value });
    }

    // Values llama.cpp would abort on (GGML_ASSERT) rather than report.
    checkModelMetadata(metadata);

    let alignment = GGUF_DEFAULT_ALIGNMENT;
    const alignEntry = metadata.get('general.alignment');
    if (alignEntry) {
      const a = alignEntry.value;
      if (alignEntry.type !== GgufValueType.UINT32 || typeof a !== 'number' || a === 0 || (a & (a - 1)) !== 0) {
        throw new FormatError(`general.alignment must be a power-of-two uint32, got ${String(a)} (${ggufValueTypeName(alignEntry.type)})`);
      }
      alignment = a;
    }

    const raw = await this.tensorInfos(nTensors);
    const headerSize = r.offset;
    const dataOffset = alignUp(headerSize, alignment);
    const tensors = checkTensorData(raw, dataOffset, alignment, r.fileSize);
    return { path, version, fileSize: r.fileSize, alignment, headerSize, dataOffset, metadata, tensors };
  }

  private async tensorInfos(n: number): Promise<GgufTensorInfo[]> {
    const r = this.r;
    const tensors: GgufTensorInfo[] = [];
    const names = new Set<string>();
    for (let i = 0; i < n; i++) {
      const name = await this.string(() => `name of tensor ${i}`);
      if (name.length === 0) throw new FormatError(`tensor ${i} has an empty name`);
      if (Buffer.byteLength(name) >= GGML_MAX_NAME) {
        throw new FormatError(`tensor name '${name}' is too long (${Buffer.byteLength(name)} bytes, max ${GGML_MAX_NAME - 1})`);
      }
      if (names.has(name)) throw new FormatError(`duplicate tensor name '${name}'`);
      names.add(name);
      await r.ensure(4, () => `dimension count of tensor '${name}'`);
      const nDims = r.u32();
      if (nDims > GGML_MAX_DIMS) throw new FormatError(`tensor '${name}' has ${nDims} dimensions (max ${GGML_MAX_DIMS})`);
      await r.ensure(8 * nDims + 12, () => `info of tensor '${name}'`);
      const shape: number[] = [];
      for (let d = 0; d < nDims; d++) {
        const ne = r.size();
        if (ne <= 0 || ne > r.fileSize * 256) {
          throw new FormatError(`tensor '${name}' dimension ${d} has invalid size ${r.lastU64()}`);
        }
        shape.push(ne);
      }
      const type = r.i32();
      const info = ggmlTypeInfo(type);
      if (!info) throw new FormatError(`tensor '${name}' has unknown ggml type ${type}`);
      const offset = r.size();
      if (offset < 0 || offset > r.fileSize) {
        throw new FormatError(`tensor '${name}' data offset ${r.lastU64()} is past the end of the file (${r.fileSize} bytes)`);
      }
      const nBytes = ggmlTensorBytes(type, shape);
      if (nBytes === undefined) {
        throw new FormatError(`tensor '${name}' of type ${info.name} has row length ${shape[0] ?? 1}, not a multiple of its block size ${info.blockSize}`);
      }
      if (nBytes > BigInt(r.fileSize)) {
        throw new FormatError(`tensor '${name}' shape [${shape.join(', ')}] needs ${nBytes} bytes, more than the whole file (${r.fileSize})`);
      }
      const nElements = shape.reduce((a, b) => a * b, 1);
      tensors.push({ name, shape, type: type as GgmlType, offset, nBytes: Number(nBytes), nElements });
    }
    return tensors;
  }
}

function checkTensorData(tensors: GgufTensorInfo[], dataOffset: number, alignment: number, fileSize: number): GgufTensorInfo[] {
  for (const t of tensors) {
    if (t.offset % alignment !== 0) {
      throw new FormatError(`tensor '${t.name}' data offset ${t.offset} is not a multiple of the alignment ${alignment}`);
    }
    const end = dataOffset + t.offset + t.nBytes;
    if (end > fileSize) {
      throw new FormatError(
        `tensor '${t.name}' data [${dataOffset + t.offset}, ${end}) extends past the end of the file (${fileSize} bytes): ` +
          'the file is truncated or the tensor offset is corrupt',
      );
    }
  }
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.offset < prev.offset + prev.nBytes) {
      throw new FormatError(`tensor '${cur.name}' data overlaps tensor '${prev.name}'`);
    }
  }
  // The pinned gguf.cpp rejects any gap or reordering; saying so here beats llama.cpp's terse log line.
  let expected = 0;
  for (const t of tensors) {
    if (t.offset !== expected) {
      throw new FormatError(
        `tensor '${t.name}' data offset ${t.offset} should be ${expected}: llama.cpp requires tensor data packed in header order`,
      );
    }
    expected += alignUp(t.nBytes, alignment);
  }
  return tensors;
}

function newTypedArray(type: GgufValueType, n: number): Exclude<GgufArrayItems, unknown[]> {
  switch (type) {
    case GgufValueType.UINT8: return new Uint8Array(n);
    case GgufValueType.INT8: return new Int8Array(n);
    case GgufValueType.UINT16: return new Uint16Array(n);
    case GgufValueType.INT16: return new Int16Array(n);
    case GgufValueType.UINT32: return new Uint32Array(n);
    case GgufValueType.INT32: return new Int32Array(n);
    case GgufValueType.FLOAT32: return new Float32Array(n);
    case GgufValueType.UINT64: return new BigUint64Array(n);
    case GgufValueType.INT64: return new BigInt64Array(n);
    case GgufValueType.FLOAT64: return new Float64Array(n);
    default: throw new Error(`not a fixed-width numeric type: ${type}`);
  }
}

function describeMagic(magic: number): string {
  const bytes = [magic & 0xff, (magic >>> 8) & 0xff, (magic >>> 16) & 0xff, magic >>> 24];
  const printable = bytes.every((b) => b >= 0x20 && b < 0x7f);
  return printable ? JSON.stringify(String.fromCharCode(...bytes)) : `0x${bytes.map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

export function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

/**
 * Reads and validates a GGUF header. Missing or unreadable files fail with 'model_not_found', anything
 * malformed with 'invalid_model' whose message names the problem (details: { path, reason }).
 */
export async function readGgufHeader(path: string, opts: ReadGgufHeaderOptions = {}): Promise<GgufHeader> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WestfallError('model_not_found', `Model file not found or not readable: ${path} (${code ?? 'error'})`, {
      details: { path, reason: code },
      cause: err,
    });
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new FormatError('not a regular file');
    const reader = new ChunkReader(fh, st.size, opts.chunkSize ?? 1 << 20);
    return await new HeaderParser(reader, opts.maxStringLength ?? 1 << 30).header(path);
  } catch (err) {
    if (err instanceof FormatError) {
      throw new WestfallError('invalid_model', `Invalid GGUF file ${path}: ${err.message}`, {
        details: { path, reason: err.message },
      });
    }
    if (err instanceof WestfallError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    // A read error on an opened file (EISDIR, EIO) means the file is unusable rather than missing.
    throw new WestfallError('invalid_model', `Cannot read GGUF file ${path}: ${(err as Error).message}`, {
      details: { path, reason: code ?? (err as Error).message },
      cause: err,
    });
  } finally {
    await fh.close();
  }
}
