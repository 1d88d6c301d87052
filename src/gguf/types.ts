// GGUF format constants and the shapes the reader and writer share.
// Numbers follow gguf-py/gguf/constants.py and ggml/include/ggml.h of the pinned llama.cpp.

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_NAME includes the terminating NUL, so names must be shorter than this. */
export const GGML_MAX_NAME = 64;
export const GGML_MAX_DIMS = 4;

// Plain objects instead of TS enums so the module stays erasable (no runtime enum emit).
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufValueType)[keyof typeof GgufValueType];

const VALUE_TYPE_NAMES = new Map<number, string>(Object.entries(GgufValueType).map(([k, v]) => [v, k]));

export function ggufValueTypeName(type: number): string {
  return VALUE_TYPE_NAMES.get(type) ?? `unknown(${type})`;
}

export function isGgufValueType(type: number): type is GgufValueType {
  return VALUE_TYPE_NAMES.has(type);
}

/** Size in bytes of a fixed-width value type; undefined for STRING and ARRAY. */
export function ggufScalarSize(type: GgufValueType): number | undefined {
  switch (type) {
    case GgufValueType.UINT8:
    case GgufValueType.INT8:
    case GgufValueType.BOOL:
      return 1;
    case GgufValueType.UINT16:
    case GgufValueType.INT16:
      return 2;
    case GgufValueType.UINT32:
    case GgufValueType.INT32:
    case GgufValueType.FLOAT32:
      return 4;
    case GgufValueType.UINT64:
    case GgufValueType.INT64:
    case GgufValueType.FLOAT64:
      return 8;
    default:
      return undefined;
  }
}

export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  MXFP4: 39,
  NVFP4: 40,
  Q1_0: 41,
  Q2_0: 42,
} as const;
export type GgmlType = (typeof GgmlType)[keyof typeof GgmlType];
export type GgmlTypeName = keyof typeof GgmlType;

export interface GgmlTypeInfo {
  readonly name: GgmlTypeName;
  /** Elements per block; a row (ne[0]) must be a multiple of it. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
}

const QK_K = 256;
// [blockSize, typeSize] per type, as in ggml-common.h's block structs.
const SIZES: Record<GgmlTypeName, readonly [number, number]> = {
  F32: [1, 4],
  F16: [1, 2],
  Q4_0: [32, 2 + 16],
  Q4_1: [32, 2 + 2 + 16],
  Q5_0: [32, 2 + 4 + 16],
  Q5_1: [32, 2 + 2 + 4 + 16],
  Q8_0: [32, 2 + 32],
  Q8_1: [32, 2 + 2 + 32],
  Q2_K: [QK_K, 2 + 2 + QK_K / 16 + QK_K / 4],
  Q3_K: [QK_K, 2 + QK_K / 4 + QK_K / 8 + 12],
  Q4_K: [QK_K, 2 + 2 + QK_K / 2 + 12],
  Q5_K: [QK_K, 2 + 2 + QK_K / 2 + QK_K / 8 + 12],
  Q6_K: [QK_K, 2 + QK_K / 2 + QK_K / 4 + QK_K / 16],
  Q8_K: [QK_K, 4 + QK_K + QK_K / 8],
  IQ2_XXS: [QK_K, 2 + QK_K / 4],
  IQ2_XS: [QK_K, 2 + QK_K / 4 + QK_K / 32],
  IQ3_XXS: [QK_K, 2 + QK_K / 4 + QK_K / 8],
  IQ1_S: [QK_K, 2 + QK_K / 8 + QK_K / 16],
  IQ4_NL: [32, 2 + 16],
  IQ3_S: [QK_K, 2 + QK_K / 4 + QK_K / 8 + QK_K / 32 + 4],
  IQ2_S: [QK_K, 2 + QK_K / 4 + QK_K / 16],
  IQ4_XS: [QK_K, 2 + 2 + QK_K / 2 + QK_K / 64],
  I8: [1, 1],
  I16: [1, 2],
  I32: [1, 4],
  I64: [1, 8],
  F64: [1, 8],
  IQ1_M: [QK_K, QK_K / 8 + QK_K / 16 + QK_K / 32],
  BF16: [1, 2],
  TQ1_0: [QK_K, 2 + 4 * 13],
  TQ2_0: [QK_K, 2 + 64],
  MXFP4: [32, 1 + 16],
  NVFP4: [64, 4 + 32],
  Q1_0: [128, 2 + 16],
  Q2_0: [64, 2 + 16],
};

export const GGML_TYPES: ReadonlyMap<number, GgmlTypeInfo> = new Map(
  (Object.keys(GgmlType) as GgmlTypeName[]).map((name) => {
    const [blockSize, typeSize] = SIZES[name];
    return [GgmlType[name], { name, blockSize, typeSize }] as const;
  }),
);

export function ggmlTypeInfo(type: number): GgmlTypeInfo | undefined {
  return GGML_TYPES.get(type);
}

export function ggmlTypeName(type: number): string {
  return GGML_TYPES.get(type)?.name ?? `unknown(${type})`;
}

/**
 * Bytes a tensor of this type and shape occupies. BigInt because a corrupt header can describe shapes whose
 * size does not fit a double exactly; callers compare against the file size before converting.
 * Returns undefined when ne[0] is not a multiple of the block size.
 */
export function ggmlTensorBytes(type: GgmlType | number, shape: readonly number[]): bigint | undefined {
  const info = GGML_TYPES.get(type);
  if (!info) return undefined;
  const ne0 = shape[0] ?? 1;
  if (ne0 % info.blockSize !== 0) return undefined;
  let n = 1n;
  for (const d of shape) n *= BigInt(d);
  return (n / BigInt(info.blockSize)) * BigInt(info.typeSize);
}

/** An array value: typed arrays for numbers so 150k-entry vocab arrays stay compact and fast. */
export interface GgufArray {
  readonly itemType: GgufValueType;
  readonly items: GgufArrayItems;
}

export type GgufArrayItems =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array
  | boolean[]
  | string[]
  | GgufArray[];

/** Scalars: 64-bit integers are bigint, other numbers are number. */
export type GgufValue = number | bigint | boolean | string | GgufArray;

/** A metadata value together with its on-disk type, so it can be written back unchanged. */
export interface GgufMetadataEntry {
  readonly type: GgufValueType;
  readonly value: GgufValue;
}

export interface GgufTensorInfo {
  readonly name: string;
  /** ggml order: ne[0] (the row length, contiguous) first. */
  readonly shape: readonly number[];
  readonly type: GgmlType;
  /** Offset relative to the start of the data section. */
  readonly offset: number;
  readonly nBytes: number;
  readonly nElements: number;
}

export interface GgufHeader {
  readonly path: string;
  readonly version: number;
  readonly fileSize: number;
  readonly alignment: number;
  /** Where the tensor infos end, before the padding that precedes the data section. */
  readonly headerSize: number;
  /** Absolute file offset of the data section; tensor offsets are relative to it. */
  readonly dataOffset: number;
  readonly metadata: ReadonlyMap<string, GgufMetadataEntry>;
  readonly tensors: readonly GgufTensorInfo[];
}
