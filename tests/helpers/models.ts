import { join } from 'node:path';
import { DEFAULT_LLAMA_CPP_DIR, DEFAULT_MODELS_DIR, FIXTURE_FILES, SYNTHETIC_FILES, type FixtureName } from '../../src/gguf/index.js';

export const TINY_MODEL = join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.tiny);
export const fixture = (name: FixtureName) => join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.fixturesDir, FIXTURE_FILES[name]);
export const vocabFile = (name: string) => join(DEFAULT_LLAMA_CPP_DIR, 'models', `ggml-vocab-${name}.gguf`);
