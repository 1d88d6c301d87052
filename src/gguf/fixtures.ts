// Deliberately broken files, derived from a valid model, that the loader must reject before llama.cpp sees them.

import { copyFile, mkdir, open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { alignUp, readGgufHeader } from './reader.js';
import { GgufValueType } from './types.js';

export const FIXTURE_FILES = {
  notGguf: 'not-gguf.gguf',
  truncated: 'truncated.gguf',
  corruptMetadata: 'corrupt-metadata.gguf',
  corruptOffsets: 'corrupt-offsets.gguf',
  empty: 'empty.gguf',
} as const;
export type FixtureName = keyof typeof FIXTURE_FILES;

/** The length written over a string length field: far larger than any file, and than memory. */
export const CORRUPT_STRING_LENGTH = 1n << 60n;

async function patch(path: string, position: number, bytes: Buffer): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.write(bytes, 0, bytes.length, position);
  } finally {
    await fh.close();
  }
}

async function readHead(path: string, n: number): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

/**
 * Writes every fixture into outDir. `basePath` must be a valid GGUF with tensors whose first metadata
 * value is a string (the synthetic models put general.architecture first).
 */
export async function writeFixtures(outDir: string, basePath: string): Promise<Record<FixtureName, string>> {
  await mkdir(outDir, { recursive: true });
  const base = await readGgufHeader(basePath);
  const last = base.tensors.at(-1);
  if (!last) throw new Error(`${basePath} has no tensors to corrupt`);
  const paths = Object.fromEntries(
    Object.entries(FIXTURE_FILES).map(([k, f]) => [k, join(outDir, f)]),
  ) as Record<FixtureName, string>;

  await writeFile(paths.notGguf, 'This is a plain text file, not a GGUF model.\n');
  await writeFile(paths.empty, new Uint8Array(0));

  const truncatedSize = base.dataOffset + Math.floor((base.fileSize - base.dataOffset) / 2);
  await copyFile(basePath, paths.truncated);
  await truncate(paths.truncated, truncatedSize);

  // First metadata entry: key length (u64) at 24, key bytes, value type (u32), then the value's string length.
  const head = await readHead(basePath, 4096);
  const keyLen = Number(head.readBigUInt64LE(24));
  const typeAt = 24 + 8 + keyLen;
  if (head.readUInt32LE(typeAt) !== GgufValueType.STRING) throw new Error(`${basePath}: first metadata value is not a string`);
  await copyFile(basePath, paths.corruptMetadata);
  await patch(paths.corruptMetadata, typeAt + 4, u64(CORRUPT_STRING_LENGTH));

  // The last tensor info ends the header, so its offset field is the header's final 8 bytes. The new offset
  // stays aligned, so the only thing wrong is that it points past the end of the file.
  await copyFile(basePath, paths.corruptOffsets);
  await patch(paths.corruptOffsets, base.headerSize - 8, u64(BigInt(alignUp(base.fileSize * 2, base.alignment))));

  return paths;
}
