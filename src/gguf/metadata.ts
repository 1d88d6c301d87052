// Typed accessors over a parsed header. They return undefined for a missing key and throw only when a key
// exists with a type that makes no sense for it, since that is a malformed model rather than an optional field.

import { WestfallError } from '../errors.js';
import { ggufValueTypeName, type GgufArray, type GgufHeader, type GgufValue } from './types.js';

type HeaderLike = Pick<GgufHeader, 'path' | 'metadata'>;

export function getMetadataValue(header: HeaderLike, key: string): GgufValue | undefined {
  return header.metadata.get(key)?.value;
}

function wrongType(header: HeaderLike, key: string, expected: string): WestfallError {
  const type = header.metadata.get(key)?.type ?? -1;
  const reason = `metadata '${key}' should be ${expected} but is ${ggufValueTypeName(type)}`;
  return new WestfallError('invalid_model', `Invalid GGUF file ${header.path}: ${reason}`, {
    details: { path: header.path, reason },
  });
}

export function getMetadataString(header: HeaderLike, key: string): string | undefined {
  const v = getMetadataValue(header, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw wrongType(header, key, 'a string');
  return v;
}

/** Any integer or float value as a number (64-bit integers beyond 2^53 lose precision). */
export function getMetadataNumber(header: HeaderLike, key: string): number | undefined {
  const v = getMetadataValue(header, key);
  if (v === undefined) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw wrongType(header, key, 'a number');
}

export function getMetadataArray(header: HeaderLike, key: string): GgufArray | undefined {
  const v = getMetadataValue(header, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'object') throw wrongType(header, key, 'an array');
  return v;
}

export function getArchitecture(header: HeaderLike): string | undefined {
  return getMetadataString(header, 'general.architecture');
}

export function getModelName(header: HeaderLike): string | undefined {
  return getMetadataString(header, 'general.name');
}

export function getContextLength(header: HeaderLike): number | undefined {
  const arch = getArchitecture(header);
  return arch === undefined ? undefined : getMetadataNumber(header, `${arch}.context_length`);
}

export function getChatTemplate(header: HeaderLike): string | undefined {
  return getMetadataString(header, 'tokenizer.chat_template');
}

/** Number of tokens in the vocabulary (length of tokenizer.ggml.tokens). */
export function getTokenCount(header: HeaderLike): number | undefined {
  return getMetadataArray(header, 'tokenizer.ggml.tokens')?.items.length;
}

/** Tokenizer model, e.g. 'gpt2' (BPE) or 'llama' (SentencePiece). */
export function getTokenizerModel(header: HeaderLike): string | undefined {
  return getMetadataString(header, 'tokenizer.ggml.model');
}

export function getParameterCount(header: Pick<GgufHeader, 'tensors'>): number {
  let n = 0;
  for (const t of header.tensors) n += t.nElements;
  return n;
}

/** Plain-JSON view of the scalar metadata (arrays summarised), for logs and diagnostics. */
export function summarizeMetadata(header: HeaderLike): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, { value }] of header.metadata) {
    if (typeof value === 'object') out[key] = `[array of ${value.items.length} ${ggufValueTypeName(value.itemType)}]`;
    else if (typeof value === 'bigint') out[key] = Number(value);
    else out[key] = value;
  }
  return out;
}
