import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_LLAMA_CPP_DIR,
  DEFAULT_MODELS_DIR,
  FIXTURE_FILES,
  SYNTHETIC_FILES,
  TINY_SPEC,
  isSyntheticModelCurrent,
  readGgufHeader,
  writeSyntheticModel,
  type FixtureName,
} from '../../src/gguf/index.js';

export const TINY_MODEL = join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.tiny);
export const fixture = (name: FixtureName) => join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.fixturesDir, FIXTURE_FILES[name]);
export const vocabFile = (name: string) => join(DEFAULT_LLAMA_CPP_DIR, 'models', `ggml-vocab-${name}.gguf`);

export const TEMPLATES_DIR = join(DEFAULT_LLAMA_CPP_DIR, 'models', 'templates');

/** Every real chat template in the pinned llama.cpp tree (models/templates/*.jinja). */
export function templateNames(): string[] {
  return readdirSync(TEMPLATES_DIR)
    .filter((f) => f.endsWith('.jinja'))
    .map((f) => f.slice(0, -'.jinja'.length))
    .sort();
}

/**
 * The tiny synthetic model (random weights, Qwen2 vocabulary) carrying one of the tree's real chat
 * templates; written once into models/templates/ and reused while the generator version is the same.
 */
export async function templateModel(template: string): Promise<string> {
  const dir = join(DEFAULT_MODELS_DIR, 'templates');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${template}.gguf`);
  if (await isSyntheticModelCurrent(path, TINY_SPEC)) return path;
  vocabHeader ??= readGgufHeader(vocabFile('qwen2'));
  const tmp = `${path}.${process.pid}.tmp`;
  await writeSyntheticModel(TINY_SPEC, tmp, { vocab: await vocabHeader, sources: { vocabPath: vocabFile('qwen2'), chatTemplatePath: join(TEMPLATES_DIR, `${template}.jinja`) } });
  renameSync(tmp, path);
  return path;
}
let vocabHeader: ReturnType<typeof readGgufHeader> | undefined;

/**
 * The tiny synthetic model with other random weights (`seed`): same shape, tokenizer and template, another
 * greedy output. Written once into models/variants/ and reused.
 */
export async function variantModel(seed: number): Promise<string> {
  const dir = join(DEFAULT_MODELS_DIR, 'variants');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `tiny-qwen2-seed${seed}.gguf`);
  const spec = { ...TINY_SPEC, seed };
  if (await isSyntheticModelCurrent(path, spec)) return path;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeSyntheticModel(spec, tmp);
  renameSync(tmp, path);
  return path;
}
