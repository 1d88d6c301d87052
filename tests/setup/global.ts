// Generates the synthetic models (tiny model and broken fixtures) once per test run; they are cached
// in models/ and regenerated only when the generator version changes.
import { DEFAULT_MODELS_DIR, generateTestModels } from '../../src/gguf/index.js';

export default async function setup(): Promise<void> {
  await generateTestModels({ outDir: DEFAULT_MODELS_DIR, only: 'tiny' });
  await generateTestModels({ outDir: DEFAULT_MODELS_DIR, only: 'fixtures' });
}
