// Metadata checks for what llama.cpp asserts on instead of reporting. A failed GGML_ASSERT aborts the whole
// process (the backend and every other request with it), so a file that would trip one is refused here,
// before llama.cpp opens it, with the reason. Each check mirrors a specific assert of the pinned llama.cpp
// (src/llama-vocab.cpp, src/llama-model.cpp load_hparams); values it reports as ordinary errors, or that
// are absent, are left alone.
//
// llama.cpp reads GGUF strings as C strings, so a NUL byte ends them early: "yarn\0x" is "yarn", and two
// different tokens can become the same one.

import { FormatError } from './chunk-reader.js';
import { GgufValueType, type GgufMetadataEntry, type GgufValue } from './types.js';

/** src/llama-hparams.h */
export const LLAMA_MAX_LAYERS = 512;
export const LLAMA_MAX_EXPERTS = 1024;
/** src/llama-model.cpp LLAMA_ROPE_SCALING_TYPES */
export const ROPE_SCALING_TYPES = ['none', 'linear', 'yarn', 'longrope'] as const;

type Metadata = ReadonlyMap<string, GgufMetadataEntry>;

/** A string as llama.cpp's gguf_get_val_str/gguf_get_arr_str read it. */
export function cString(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

function scalar(metadata: Metadata, key: string): number | undefined {
  const v = metadata.get(key)?.value;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  return undefined;
}

/** A per-layer value given as one number or as an array (get_key_or_arr), as its largest element. */
function scalarOrMax(metadata: Metadata, key: string): number | undefined {
  const v: GgufValue | undefined = metadata.get(key)?.value;
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
  if (v && typeof v === 'object' && v.itemType !== GgufValueType.STRING && v.itemType !== GgufValueType.ARRAY) {
    let max = 0;
    for (const x of v.items as Iterable<number | bigint | boolean>) max = Math.max(max, Number(x));
    return max;
  }
  return undefined;
}

/** Throws FormatError for metadata that would make llama.cpp abort while loading the model. */
export function checkModelMetadata(metadata: Metadata): void {
  checkTokens(metadata);
  const arch = metadata.get('general.architecture')?.value;
  if (typeof arch === 'string') checkHyperparameters(metadata, cString(arch));
}

/**
 * llama_vocab::impl::load maps each token's text to its id and asserts that no two are equal
 * (GGML_ASSERT(id_to_token.size() == token_to_id.size())). Text is cut at a NUL byte and an empty one
 * becomes "[EMPTY_<id>]", as there.
 */
function checkTokens(metadata: Metadata): void {
  const entry = metadata.get('tokenizer.ggml.tokens');
  const v = entry?.value;
  if (!v || typeof v !== 'object' || v.itemType !== GgufValueType.STRING) return;
  const tokens = v.items as string[];
  const seen = new Map<string, number>();
  for (let i = 0; i < tokens.length; i++) {
    let text = cString(tokens[i]!);
    if (text.length === 0) text = `[EMPTY_${i}]`;
    const first = seen.get(text);
    if (first !== undefined) {
      const cut = text.length !== tokens[i]!.length ? ' (a NUL byte ends a token for llama.cpp)' : '';
      throw new FormatError(`tokenizer.ggml.tokens[${i}] ${JSON.stringify(text)} duplicates token ${first}${cut}`);
    }
    seen.set(text, i);
  }
}

/**
 * The asserts of llama_model::load_hparams on layer, expert and rope-scaling metadata, and ggml's on the
 * normalization epsilon.
 */
function checkHyperparameters(metadata: Metadata, arch: string): void {
  const key = (name: string) => `${arch}.${name}`;
  const layers = scalar(metadata, key('block_count'));
  if (layers !== undefined && (layers <= 0 || layers > LLAMA_MAX_LAYERS)) {
    throw new FormatError(`${key('block_count')} is ${layers}; llama.cpp supports 1 to ${LLAMA_MAX_LAYERS} layers`);
  }
  const nextn = scalar(metadata, key('nextn_predict_layers'));
  if (nextn !== undefined && layers !== undefined && nextn > layers) {
    throw new FormatError(`${key('nextn_predict_layers')} ${nextn} is more than ${key('block_count')} ${layers}`);
  }

  let experts = scalar(metadata, key('expert_count')) ?? 0;
  let used = scalarOrMax(metadata, key('expert_used_count')) ?? 0;
  const groups = scalar(metadata, key('expert_group_count')) ?? 0;
  const groupUsed = scalar(metadata, key('expert_group_used_count')) ?? 0;
  if ((arch === 'hunyuan-dense' || arch === 'hunyuan_vl') && experts <= 1) {
    experts = 0;
    used = 0;
  }
  const expertError = (what: string) =>
    new FormatError(
      `inconsistent expert metadata: ${what} (expert_count ${experts}, expert_used_count ${used}, ` +
        `expert_group_count ${groups}, expert_group_used_count ${groupUsed})`,
    );
  if (experts > LLAMA_MAX_EXPERTS) throw expertError(`more than ${LLAMA_MAX_EXPERTS} experts`);
  if (used > experts) throw expertError('more experts used than exist');
  if (experts > 0) {
    if (used === 0) throw expertError('experts but none used');
    if (groups >= experts) throw expertError('as many expert groups as experts');
    if (groups > 1) {
      if (experts % groups !== 0) throw expertError('experts not divisible into the groups');
      if (groupUsed <= 0 || groupUsed >= groups) throw expertError('the groups used must be more than 0 and fewer than the groups');
    }
  } else if (groups !== 0) {
    throw expertError('expert groups without experts');
  }

  // ggml's norm operators assert eps >= 0 at the first decode (NaN fails it too).
  for (const name of ['attention.layer_norm_epsilon', 'attention.layer_norm_rms_epsilon', 'attention.group_norm_epsilon']) {
    const eps = scalar(metadata, key(name));
    if (eps !== undefined && !(eps >= 0 && Number.isFinite(eps))) {
      throw new FormatError(`${key(name)} is ${eps}; a normalization epsilon must be a finite number of at least 0`);
    }
  }

  const rope = metadata.get(key('rope.scaling.type'))?.value;
  if (typeof rope === 'string' && !(ROPE_SCALING_TYPES as readonly string[]).includes(cString(rope))) {
    throw new FormatError(`${key('rope.scaling.type')} ${JSON.stringify(rope)} is not one of ${ROPE_SCALING_TYPES.join(', ')}`);
  }
}
