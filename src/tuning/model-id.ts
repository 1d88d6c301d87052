// Identifies a GGUF file for its tuning profile without hashing gigabytes: the sha256 of its header
// (metadata and tensor table: architecture, geometry, quantization, tokenizer) and its size. Two files
// with the same header run at the same speed, which is all a profile is about; a renamed file keeps its key's hash.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import path from 'node:path';
import {
  SYNTHETIC_SPEC_KEY,
  getArchitecture,
  getMetadataNumber,
  getMetadataString,
  getModelName,
  getParameterCount,
  readGgufHeader,
  type GgufHeader,
} from '../gguf/index.js';
import { kvBytesPerToken, modelGeometry, type KvCacheType } from '../engine/memory.js';
import type { ModelDescriptor } from './types.js';

export function slugify(name: string): string {
  const s = name
    .replace(/\.gguf$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 80);
  return s || 'model';
}

export async function hashGgufHeader(header: GgufHeader): Promise<string> {
  const h = createHash('sha256');
  h.update(`gguf-header-v1:${header.fileSize}:`);
  const fh = await open(header.path, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    for (let pos = 0; pos < header.headerSize; ) {
      const { bytesRead } = await fh.read(chunk, 0, Math.min(chunk.length, header.headerSize - pos), pos);
      if (bytesRead === 0) break;
      h.update(chunk.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex').slice(0, 16);
}

export async function describeModel(modelPath: string, header?: GgufHeader): Promise<ModelDescriptor> {
  const hdr = header ?? (await readGgufHeader(modelPath));
  const hash = await hashGgufHeader(hdr);
  const arch = getArchitecture(hdr) ?? 'unknown';
  let synthetic: string | null = null;
  const specJson = getMetadataString(hdr, SYNTHETIC_SPEC_KEY);
  if (specJson) {
    try {
      synthetic = String((JSON.parse(specJson) as { kind?: unknown }).kind ?? 'synthetic');
    } catch {
      synthetic = 'synthetic';
    }
  }
  return {
    path: path.resolve(modelPath),
    key: `${slugify(path.basename(modelPath))}-${hash}`,
    hash,
    name: getModelName(hdr) ?? null,
    architecture: arch,
    fileSizeBytes: hdr.fileSize,
    parameterCount: getParameterCount(hdr),
    layerCount: getMetadataNumber(hdr, `${arch}.block_count`) ?? 0,
    synthetic,
  };
}

/** The KV cache of `contextSize` cells, from the GGUF geometry (when llama.cpp's own figure is unavailable). */
export function estimateKvBytes(header: GgufHeader, contextSize: number, typeK: KvCacheType = 'f16', typeV: KvCacheType = typeK): number {
  const g = modelGeometry(header);
  return g.nLayer > 0 ? Math.round(contextSize * kvBytesPerToken(g, typeK, typeV)) : 0;
}
