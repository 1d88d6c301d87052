// GGUF header reading (done before every model load and by the models listing): the tokenizer's 152k
// strings dominate.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_MODELS_DIR, SYNTHETIC_FILES, readGgufHeader } from '../../src/gguf/index.js';
import { TINY_MODEL, type MicroSuite } from './common.js';

export const suite: MicroSuite = {
  name: 'gguf header',
  async setup(env) {
    await env.tinyModel(); // makes sure the file exists
    const bench = path.join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.bench);
    const tasks = [{ name: 'read header, tiny model (26 tensors, 152k-token vocab)', fn: () => readGgufHeader(TINY_MODEL) }];
    if (existsSync(bench)) tasks.push({ name: 'read header, qwen2-0.5b shape (290 tensors)', fn: () => readGgufHeader(bench) });
    return { tasks };
  },
};
