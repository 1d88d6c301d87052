// Shared pieces of the tinybench micro-benchmarks: one suite per hot path, each a list of tasks run by
// index.ts. Time budgets are short by default (the machine may be shared); set WESTFALL_MICRO_TIME (ms
// per task) for steadier figures.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Model } from '../../src/engine/index.js';
import { DEFAULT_MODELS_DIR, SYNTHETIC_FILES, generateTestModels } from '../../src/gguf/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const TINY_MODEL = path.join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.tiny);

export interface MicroTask {
  name: string;
  fn: () => unknown | Promise<unknown>;
  /** Operations one call performs (e.g. 16 generated tokens): the table shows time per operation. */
  opsPerCall?: number;
  /** What one operation is, for the table (default 'call'). */
  unit?: string;
}

export interface MicroSuite {
  name: string;
  /** Prepares the tasks; the returned cleanup runs after the suite. */
  setup(env: SuiteEnv): Promise<{ tasks: MicroTask[]; cleanup?: () => void | Promise<void> }>;
}

export interface SuiteEnv {
  /** The tiny synthetic model, loaded once and shared by the suites that need it. */
  tinyModel(): Promise<Model>;
}

let tiny: Promise<Model> | undefined;
export function createEnv(): SuiteEnv {
  return {
    tinyModel() {
      tiny ??= (async () => {
        await generateTestModels({ outDir: DEFAULT_MODELS_DIR, only: 'tiny' });
        const { loadModel, setLogHandler } = await import('../../src/engine/index.js');
        setLogHandler(null, 'error');
        return loadModel({ path: TINY_MODEL });
      })();
      return tiny;
    },
  };
}

export async function disposeEnv(): Promise<void> {
  if (tiny) (await tiny).dispose();
}

/** English-like text of about `chars` characters. */
export function sampleText(chars: number): string {
  const base =
    'Westfall keeps your conversations on your own machine. It loads a language model, tokenizes what you type, ' +
    'and streams the answer back word by word; nothing leaves the computer. Ünïcödé, emoji 🙂 and code `x => x * 2` ' +
    'are part of ordinary text too. ';
  let s = '';
  while (s.length < chars) s += base;
  return s.slice(0, chars);
}
