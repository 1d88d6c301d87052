// Generates synthetic GGUF models and broken fixtures for tests and benchmarks.
// Usage: npx tsx scripts/make-test-models.ts [--out models] [--only tiny|bench|fixtures] [--force]
// The logic lives in src/gguf/synthetic.ts so tests can generate the same files into a temp directory.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODELS_DIR, generateTestModels, type TestModelSet } from '../src/gguf/index.js';

const SETS: readonly TestModelSet[] = ['tiny', 'bench', 'fixtures'];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      only: { type: 'string' },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('Usage: npx tsx scripts/make-test-models.ts [--out models] [--only tiny|bench|fixtures] [--force]');
    return;
  }
  const only = values.only as TestModelSet | undefined;
  if (only !== undefined && !SETS.includes(only)) throw new Error(`--only must be one of ${SETS.join(', ')}, got '${only}'`);
  const outDir = values.out !== undefined ? resolve(values.out) : DEFAULT_MODELS_DIR;
  const started = performance.now();
  await generateTestModels({ outDir, only, force: values.force, log: (line) => console.log(line) });
  console.log(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
