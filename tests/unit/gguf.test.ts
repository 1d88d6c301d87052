import { mkdtemp, open, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import {
  BENCH_SPEC,
  CORRUPT_STRING_LENGTH,
  DEFAULT_LLAMA_CPP_DIR,
  GgmlType,
  GgufValueType,
  GgufWriter,
  Rng,
  TINY_SPEC,
  dequantizeQ4_0,
  dequantizeQ8_0,
  encodeF16,
  encodeF32,
  ensureSyntheticModel,
  expectedParameterCount,
  f16ToF32,
  f32ToF16,
  generateTestModels,
  getArchitecture,
  getChatTemplate,
  getContextLength,
  getMetadataArray,
  getModelName,
  getParameterCount,
  getTokenCount,
  getTokenizerModel,
  ggmlTypeInfo,
  quantizeQ4_0,
  quantizeQ8_0,
  randomTensorChunks,
  readGgufHeader,
  type GgufArray,
} from '../../src/gguf/index.js';

const VOCAB_DIR = join(DEFAULT_LLAMA_CPP_DIR, 'models');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'westfall-gguf-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readBytes(path: string, position: number, length: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, position);
    return buf;
  } finally {
    await fh.close();
  }
}

/** Expects readGgufHeader to reject with `code` and a message matching `message`. */
async function expectRejected(path: string, code: 'invalid_model' | 'model_not_found', message: RegExp): Promise<void> {
  const err = await readGgufHeader(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isWestfallError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
  if (!isWestfallError(err)) return;
  expect(err.message).toMatch(message);
  expect(err.details).toMatchObject({ path });
}

// Hand-built headers, for corruptions the writer refuses to produce.
const u32 = (v: number): Buffer => Buffer.from(new Uint32Array([v]).buffer);
const u64 = (v: number | bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(v));
  return b;
};
const str = (s: string): Buffer => Buffer.concat([u64(Buffer.byteLength(s)), Buffer.from(s)]);
const kvU32 = (key: string, v: number): Buffer => Buffer.concat([str(key), u32(GgufValueType.UINT32), u32(v)]);
const tinfo = (name: string, dims: (number | bigint)[], type: number, offset: number | bigint): Buffer =>
  Buffer.concat([str(name), u32(dims.length), ...dims.map(u64), u32(type), u64(offset)]);
function rawGguf(parts: { version?: number; kvs?: Buffer[]; tensors?: Buffer[]; nKv?: bigint; nTensors?: bigint; data?: Buffer }): Buffer {
  const { version = 3, kvs = [], tensors = [], data } = parts;
  const head = Buffer.concat([
    Buffer.from('GGUF'),
    u32(version),
    u64(parts.nTensors ?? BigInt(tensors.length)),
    u64(parts.nKv ?? BigInt(kvs.length)),
    ...kvs,
    ...tensors,
  ]);
  if (!data) return head;
  return Buffer.concat([head, Buffer.alloc((32 - (head.length % 32)) % 32), data]);
}
async function rawFile(name: string, bytes: Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

describe('GgufWriter → readGgufHeader round trip', () => {
  const nested: GgufArray = {
    itemType: GgufValueType.ARRAY,
    items: [
      { itemType: GgufValueType.UINT32, items: new Uint32Array([1, 2, 3]) },
      { itemType: GgufValueType.STRING, items: ['a', 'bc'] },
      { itemType: GgufValueType.ARRAY, items: [{ itemType: GgufValueType.INT8, items: new Int8Array([-1]) }] },
    ],
  };
  const q4Values = Float32Array.from({ length: 64 * 2 }, (_, i) => Math.sin(i) * 0.5);
  const q4 = quantizeQ4_0(q4Values);
  const f32 = encodeF32([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

  function build(version: 2 | 3, alignment?: number): GgufWriter {
    return new GgufWriter({ version, alignment })
      .setString('general.architecture', 'test')
      .setString('s.unicode', 'héllo ✓ 🦙')
      .setString('s.empty', '')
      .setUint8('n.u8', 255)
      .setInt8('n.i8', -128)
      .setUint16('n.u16', 65535)
      .setInt16('n.i16', -32768)
      .setUint32('n.u32', 0xffff_ffff)
      .setInt32('n.i32', -0x8000_0000)
      .setUint64('n.u64', 0xffff_ffff_ffff_ffffn)
      .setInt64('n.i64', -(1n << 63n))
      .setFloat32('n.f32', 1.5)
      .setFloat64('n.f64', Math.PI)
      .setBool('b.true', true)
      .setBool('b.false', false)
      .setArray('a.u8', GgufValueType.UINT8, [0, 255])
      .setArray('a.i8', GgufValueType.INT8, [-128, 127])
      .setArray('a.u16', GgufValueType.UINT16, [1, 65535])
      .setArray('a.i16', GgufValueType.INT16, [-32768, 2])
      .setArray('a.u32', GgufValueType.UINT32, new Uint32Array([7, 8]))
      .setArray('a.i32', GgufValueType.INT32, [-5, 5])
      .setArray('a.u64', GgufValueType.UINT64, [1n, 2n ** 64n - 1n])
      .setArray('a.i64', GgufValueType.INT64, [-1, 3])
      .setArray('a.f32', GgufValueType.FLOAT32, [0.25, -1])
      .setArray('a.f64', GgufValueType.FLOAT64, [1e300])
      .setArray('a.bool', GgufValueType.BOOL, [true, false, true])
      .setArray('a.str', GgufValueType.STRING, ['x', '', 'yz'])
      .setArray('a.empty', GgufValueType.STRING, [])
      .set('a.nested', GgufValueType.ARRAY, nested)
      .addTensor({ name: 'f32', shape: [4, 3], type: GgmlType.F32, data: f32 })
      .addTensor({ name: 'f16', shape: [3], type: GgmlType.F16, data: encodeF16([1, -2, 0.5]) })
      .addTensor({ name: 'q4', shape: [64, 2], type: GgmlType.Q4_0, data: q4 })
      .addTensor({
        name: 'streamed.q8',
        shape: [32, 100],
        type: GgmlType.Q8_0,
        data: () => randomTensorChunks(new Rng(7), GgmlType.Q8_0, 3200, 0.1, 256),
      });
  }

  for (const [version, alignment] of [[3, undefined], [2, 64]] as const) {
    it(`keeps every value type and the tensor table (v${version}, alignment ${alignment ?? 32})`, async () => {
      const path = join(dir, `roundtrip-v${version}.gguf`);
      const written = await build(version, alignment).write(path);
      const h = await readGgufHeader(path, { chunkSize: 64 }); // tiny chunks exercise buffer refills
      expect(h.version).toBe(version);
      expect(h.alignment).toBe(alignment ?? 32);
      expect(h.fileSize).toBe(written.fileSize);
      expect(h.dataOffset).toBe(written.dataOffset);
      expect(h.dataOffset % h.alignment).toBe(0);

      const v = (k: string): unknown => h.metadata.get(k)?.value;
      const t = (k: string): number | undefined => h.metadata.get(k)?.type;
      expect(v('s.unicode')).toBe('héllo ✓ 🦙');
      expect(v('s.empty')).toBe('');
      expect([v('n.u8'), v('n.i8'), v('n.u16'), v('n.i16'), v('n.u32'), v('n.i32')]).toEqual([255, -128, 65535, -32768, 0xffff_ffff, -0x8000_0000]);
      expect([t('n.u8'), t('n.i8'), t('n.u16'), t('n.i16'), t('n.u32'), t('n.i32')]).toEqual([0, 1, 2, 3, 4, 5]);
      expect(v('n.u64')).toBe(0xffff_ffff_ffff_ffffn);
      expect(v('n.i64')).toBe(-(1n << 63n));
      expect([t('n.u64'), t('n.i64'), t('n.f32'), t('n.f64'), t('b.true')]).toEqual([10, 11, 6, 12, 7]);
      expect(v('n.f32')).toBe(1.5);
      expect(v('n.f64')).toBe(Math.PI);
      expect([v('b.true'), v('b.false')]).toEqual([true, false]);
      const items = (k: string): unknown[] => Array.from((v(k) as GgufArray).items as ArrayLike<unknown>);
      expect(items('a.u8')).toEqual([0, 255]);
      expect(items('a.i8')).toEqual([-128, 127]);
      expect(items('a.u16')).toEqual([1, 65535]);
      expect(items('a.i16')).toEqual([-32768, 2]);
      expect(items('a.u32')).toEqual([7, 8]);
      expect(items('a.i32')).toEqual([-5, 5]);
      expect(items('a.u64')).toEqual([1n, 2n ** 64n - 1n]);
      expect(items('a.i64')).toEqual([-1n, 3n]);
      expect(items('a.f32')).toEqual([0.25, -1]);
      expect(items('a.f64')).toEqual([1e300]);
      expect(items('a.bool')).toEqual([true, false, true]);
      expect(items('a.str')).toEqual(['x', '', 'yz']);
      expect(items('a.empty')).toEqual([]);
      expect((v('a.u64') as GgufArray).items).toBeInstanceOf(BigUint64Array);
      expect(v('a.nested')).toEqual(nested);
      expect([...h.metadata.keys()][0]).toBe(alignment ? 'general.alignment' : 'general.architecture');

      expect(h.tensors.map((x) => [x.name, x.shape, x.type, x.nElements])).toEqual([
        ['f32', [4, 3], GgmlType.F32, 12],
        ['f16', [3], GgmlType.F16, 3],
        ['q4', [64, 2], GgmlType.Q4_0, 128],
        ['streamed.q8', [32, 100], GgmlType.Q8_0, 3200],
      ]);
      expect(h.tensors.map((x) => x.nBytes)).toEqual([48, 6, 72, 3400]);
      for (const x of h.tensors) expect(x.offset % h.alignment).toBe(0);
      expect(getParameterCount(h)).toBe(12 + 3 + 128 + 3200);
      const q4t = h.tensors[2]!;
      expect(await readBytes(path, h.dataOffset + q4t.offset, q4t.nBytes)).toEqual(Buffer.from(q4));
      expect(await readBytes(path, h.dataOffset, 48)).toEqual(Buffer.from(f32));
    });
  }

  it('copies metadata with its original types', async () => {
    const src = await readGgufHeader(join(dir, 'roundtrip-v3.gguf'));
    const path = join(dir, 'copy.gguf');
    await new GgufWriter().copyMetadataFrom(src, (k) => k.startsWith('n.') || k.startsWith('a.')).write(path);
    const h = await readGgufHeader(path);
    expect(h.tensors).toHaveLength(0);
    for (const [k, e] of h.metadata) expect(e).toEqual(src.metadata.get(k));
    expect(h.metadata.size).toBe([...src.metadata.keys()].filter((k) => k.startsWith('n.') || k.startsWith('a.')).length);
  });

  it('refuses values, shapes and data that do not match', async () => {
    const w = new GgufWriter();
    expect(() => w.setUint8('k', 256)).toThrow(/not a valid UINT8/);
    expect(() => w.setInt32('k', 1.5)).toThrow(/not a valid INT32/);
    expect(() => w.setUint64('k', -1n)).toThrow(/out of range/);
    expect(() => w.set('k', GgufValueType.STRING, 3)).toThrow(/does not match/);
    expect(() => w.setArray('k', GgufValueType.UINT16, [70000])).toThrow(/not a valid UINT16/);
    expect(() => w.setUint32('general.alignment', 24)).toThrow(/power-of-two/);
    expect(() => w.addTensor({ name: 'q', shape: [33], type: GgmlType.Q4_0, data: new Uint8Array(18) })).toThrow(/block size 32/);
    expect(() => w.addTensor({ name: 'f', shape: [4], type: GgmlType.F32, data: new Uint8Array(15) })).toThrow(/need 16/);
    expect(() => w.addTensor({ name: 'f', shape: [1, 1, 1, 1, 1], type: GgmlType.F32, data: new Uint8Array(4) })).toThrow(/dimensions/);
    expect(() => w.addTensor({ name: 'x'.repeat(64), shape: [1], type: GgmlType.F32, data: new Uint8Array(4) })).toThrow(/1\.\.63 bytes/);
    w.addTensor({ name: 'f', shape: [4], type: GgmlType.F32, data: new Uint8Array(16) });
    expect(() => w.addTensor({ name: 'f', shape: [4], type: GgmlType.F32, data: new Uint8Array(16) })).toThrow(/duplicate/);

    const short = new GgufWriter().addTensor({ name: 's', shape: [8], type: GgmlType.F32, data: function* () { yield new Uint8Array(16); } });
    const path = join(dir, 'short.gguf');
    await expect(short.write(path)).rejects.toThrow(/produced 16 bytes, its shape and type need 32/);
    expect((await readdir(dir)).filter((f) => f.startsWith('short.gguf'))).toEqual([]); // no partial or temp file left
  });
});

describe('reading llama.cpp vocab files', () => {
  it('reads the qwen2 BPE vocabulary', async () => {
    const h = await readGgufHeader(join(VOCAB_DIR, 'ggml-vocab-qwen2.gguf'));
    expect(h.version).toBe(3);
    expect(getArchitecture(h)).toBe('qwen2');
    expect(getTokenizerModel(h)).toBe('gpt2');
    expect(getTokenCount(h)).toBe(151936);
    expect(getMetadataArray(h, 'tokenizer.ggml.merges')!.items.length).toBe(151387);
    expect(getMetadataArray(h, 'tokenizer.ggml.token_type')!.items).toBeInstanceOf(Int32Array);
    expect(h.tensors).toHaveLength(0);
  });

  it('reads the llama SentencePiece vocabulary', async () => {
    const h = await readGgufHeader(join(VOCAB_DIR, 'ggml-vocab-llama-spm.gguf'));
    expect(getArchitecture(h)).toBe('llama');
    expect(getTokenizerModel(h)).toBe('llama');
    expect(getTokenCount(h)).toBe(32000);
    expect(getContextLength(h)).toBe(4096);
    const tokens = getMetadataArray(h, 'tokenizer.ggml.tokens')!.items as string[];
    expect(tokens.slice(0, 3)).toEqual(['<unk>', '<s>', '</s>']);
    expect(getMetadataArray(h, 'tokenizer.ggml.scores')!.items).toBeInstanceOf(Float32Array);
  });
});

describe('synthetic models and fixtures', () => {
  let tinyPath: string;
  let fixtures: Record<string, string>;

  beforeAll(async () => {
    const r = await generateTestModels({ outDir: join(dir, 'models'), only: 'fixtures' });
    tinyPath = r.tiny!.path;
    fixtures = r.fixtures!.paths;
  }, 60_000);

  it('makes a tiny qwen2 model whose header validates and matches its shape', async () => {
    const h = await readGgufHeader(tinyPath);
    const nVocab = 151936;
    expect(getArchitecture(h)).toBe('qwen2');
    expect(getModelName(h)).toMatch(/Tiny/);
    expect(getContextLength(h)).toBe(4096);
    expect(getTokenCount(h)).toBe(nVocab);
    expect(getChatTemplate(h)).toBe(await readFile(join(VOCAB_DIR, 'templates', 'Qwen-Qwen2.5-7B-Instruct.jinja'), 'utf8'));
    expect(getChatTemplate(h)).toContain('tools');
    const { nEmbd: e, nFf: ff, nLayer: L } = TINY_SPEC;
    const kv = (e / TINY_SPEC.nHead) * TINY_SPEC.nHeadKv;
    // norms, q (+bias), k and v (+bias), output, gate/up/down
    const perLayer = 2 * e + (e * e + e) + 2 * (e * kv + kv) + e * e + 3 * e * ff;
    expect(getParameterCount(h)).toBe(nVocab * e + e + L * perLayer);
    expect(getParameterCount(h)).toBe(expectedParameterCount(TINY_SPEC, nVocab));
    const byName = new Map(h.tensors.map((t) => [t.name, t]));
    expect(byName.get('token_embd.weight')).toMatchObject({ shape: [64, nVocab], type: GgmlType.Q4_0 });
    expect(byName.get('blk.1.attn_k.weight')).toMatchObject({ shape: [64, 32], type: GgmlType.Q4_0 });
    expect(byName.get('blk.1.ffn_down.weight')).toMatchObject({ shape: [128, 64], type: GgmlType.Q4_0 });
    expect(byName.get('blk.0.attn_q.bias')).toMatchObject({ shape: [64], type: GgmlType.F32 });
    expect(byName.has('output.weight')).toBe(false);
    const norm = byName.get('output_norm.weight')!;
    expect(new Float32Array((await readBytes(tinyPath, h.dataOffset + norm.offset, 256)).buffer)).toEqual(new Float32Array(64).fill(1));
    expect(h.fileSize).toBeLessThan(16 << 20);
  });

  it('does not regenerate an up-to-date model', async () => {
    const r = await ensureSyntheticModel(TINY_SPEC, tinyPath);
    expect(r.created).toBe(false);
  });

  it('plans a Qwen2.5-0.5B-sized bench model', () => {
    expect(expectedParameterCount(BENCH_SPEC, 151936)).toBe(494_032_768);
  });

  const cases: [string, RegExp][] = [
    ['notGguf', /not a GGUF file: bad magic "This"/],
    ['empty', /file is empty/],
    ['truncated', /tensor '.*' data .* extends past the end of the file.*truncated/],
    ['corruptMetadata', new RegExp(`string length ${CORRUPT_STRING_LENGTH} .*general\\.architecture.*exceeds`)],
    ['corruptOffsets', /tensor 'output_norm\.weight' data offset \d+ is past the end of the file/],
  ];
  for (const [name, message] of cases) {
    it(`rejects the ${name} fixture`, async () => {
      await expectRejected(fixtures[name]!, 'invalid_model', message);
    });
  }

  it('reports a missing file as model_not_found', async () => {
    await expectRejected(join(dir, 'does-not-exist.gguf'), 'model_not_found', /not found/);
  });
});

describe('header validation', () => {
  it('rejects a huge string length without allocating it', async () => {
    const path = await rawFile('huge-key.gguf', Buffer.concat([rawGguf({ nKv: 1n }), u64(1n << 60n), Buffer.alloc(64)]));
    const t0 = performance.now();
    await expectRejected(path, 'invalid_model', /string length 1152921504606846976 .*key of metadata entry 0/);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  const cases: [string, () => Buffer, RegExp][] = [
    ['version 1', () => rawGguf({ version: 1 }), /version 1 is no longer supported/],
    ['a big-endian version', () => rawGguf({ version: 0x03000000 }), /big-endian/],
    ['a huge metadata count', () => rawGguf({ nKv: 1n << 40n }), /metadata entry count 1099511627776 .* impossible/],
    ['a huge tensor count', () => rawGguf({ nTensors: 1n << 62n }), /tensor count .* impossible/],
    ['a huge array count', () => rawGguf({ kvs: [Buffer.concat([str('a'), u32(9), u32(GgufValueType.UINT64), u64(1n << 50n)])] }), /element count of metadata 'a'/],
    ['an unknown value type', () => rawGguf({ kvs: [Buffer.concat([str('k'), u32(13), u32(0)])] }), /unknown value type 13 .*metadata 'k'/],
    ['an unknown array item type', () => rawGguf({ kvs: [Buffer.concat([str('k'), u32(9), u32(99), u64(0)])] }), /unknown value type 99/],
    ['a duplicate key', () => rawGguf({ kvs: [kvU32('k', 1), kvU32('k', 2)] }), /duplicate metadata key 'k'/],
    ['a bad alignment', () => rawGguf({ kvs: [kvU32('general.alignment', 24)] }), /general\.alignment must be a power-of-two/],
    ['metadata cut short', () => rawGguf({ kvs: [kvU32('k', 1)] }).subarray(0, -2), /unexpected end of file .*metadata 'k'/],
    ['an unknown ggml type', () => rawGguf({ tensors: [tinfo('t', [4], 31, 0)], data: Buffer.alloc(16) }), /tensor 't' has unknown ggml type 31/],
    ['more than 4 dimensions', () => rawGguf({ tensors: [tinfo('t', [1, 1, 1, 1, 1], 0, 0)], data: Buffer.alloc(4) }), /5 dimensions \(max 4\)/],
    ['a zero dimension', () => rawGguf({ tensors: [tinfo('t', [4, 0], 0, 0)], data: Buffer.alloc(16) }), /dimension 1 has invalid size 0/],
    ['a huge dimension', () => rawGguf({ tensors: [tinfo('t', [1n << 62n], 0, 0)], data: Buffer.alloc(16) }), /dimension 0 has invalid size/],
    ['a row that is not whole blocks', () => rawGguf({ tensors: [tinfo('t', [40], GgmlType.Q4_0, 0)], data: Buffer.alloc(32) }), /row length 40, not a multiple of its block size 32/],
    ['a misaligned offset', () => rawGguf({ tensors: [tinfo('t', [4], 0, 8)], data: Buffer.alloc(32) }), /offset 8 is not a multiple of the alignment 32/],
    ['overlapping tensors', () => rawGguf({ tensors: [tinfo('a', [16], 0, 0), tinfo('b', [4], 0, 32)], data: Buffer.alloc(64) }), /'b' data overlaps tensor 'a'/],
    ['tensors out of order', () => rawGguf({ tensors: [tinfo('a', [4], 0, 32), tinfo('b', [4], 0, 0)], data: Buffer.alloc(64) }), /'a' data offset 32 should be 0/],
    ['a gap between tensors', () => rawGguf({ tensors: [tinfo('a', [4], 0, 0), tinfo('b', [4], 0, 64)], data: Buffer.alloc(96) }), /'b' data offset 64 should be 32/],
    ['a duplicate tensor name', () => rawGguf({ tensors: [tinfo('t', [4], 0, 0), tinfo('t', [4], 0, 32)], data: Buffer.alloc(64) }), /duplicate tensor name 't'/],
    ['a tensor larger than the file', () => rawGguf({ tensors: [tinfo('t', [4096, 4096], 0, 0)], data: Buffer.alloc(16) }), /needs 67108864 bytes, more than the whole file/],
  ];
  for (const [what, bytes, message] of cases) {
    it(`rejects ${what}`, async () => {
      await expectRejected(await rawFile(`bad-${what.replace(/\W+/g, '-')}.gguf`, bytes()), 'invalid_model', message);
    });
  }

  it('accepts a minimal valid file', async () => {
    const h = await readGgufHeader(await rawFile('ok.gguf', rawGguf({ tensors: [tinfo('t', [4], 0, 0)], data: Buffer.alloc(16) })));
    expect(h.tensors[0]).toMatchObject({ name: 't', nBytes: 16, offset: 0 });
    expect(h.dataOffset % 32).toBe(0);
  });
});

describe('encoding helpers', () => {
  it('converts to and from f16 with round-to-nearest-even', () => {
    expect([1, -2, 0.5, 65504, 70000, 2 ** -24, 1e-9, 0].map(f32ToF16)).toEqual([0x3c00, 0xc000, 0x3800, 0x7bff, 0x7c00, 0x0001, 0, 0]);
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // halfway, rounds to even
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16(NaN) & 0x7c00).toBe(0x7c00);
    expect([0x3c00, 0xc000, 0x0001, 0x7c00].map(f16ToF32)).toEqual([1, -2, 2 ** -24, Infinity]);
  });

  it('quantizes Q4_0 and Q8_0 close to the input', () => {
    const values = Float32Array.from({ length: 256 }, (_, i) => Math.cos(i * 0.37));
    const err = (a: Float32Array): number => Math.max(...a.map((x, i) => Math.abs(x - values[i]!)));
    expect(quantizeQ4_0(values).length).toBe(8 * 18);
    // One step (amax/8) at worst: the extreme opposite the block's max clips to level 7.
    expect(err(dequantizeQ4_0(quantizeQ4_0(values)))).toBeLessThan(1 / 8 + 1e-3);
    expect(quantizeQ8_0(values).length).toBe(8 * 34);
    expect(err(dequantizeQ8_0(quantizeQ8_0(values)))).toBeLessThan(0.01);
  });

  it('generates reproducible random blocks with the requested RMS', () => {
    const collect = (seed: number): Uint8Array => {
      const parts = [...randomTensorChunks(new Rng(seed), GgmlType.Q4_0, 32 * 1000, 0.05, 1000)].map((c) => c.slice());
      return Buffer.concat(parts);
    };
    const a = collect(3);
    expect(a.length).toBe(1000 * ggmlTypeInfo(GgmlType.Q4_0)!.typeSize);
    expect(Buffer.from(collect(3)).equals(Buffer.from(a))).toBe(true);
    expect(Buffer.from(collect(4)).equals(Buffer.from(a))).toBe(false);
    const w = dequantizeQ4_0(a);
    const rms = Math.sqrt(w.reduce((s, x) => s + x * x, 0) / w.length);
    const mean = w.reduce((s, x) => s + x, 0) / w.length;
    expect(rms).toBeGreaterThan(0.045);
    expect(rms).toBeLessThan(0.055);
    expect(Math.abs(mean)).toBeLessThan(0.005);
  });
});
