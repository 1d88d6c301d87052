// `westfall docs` against a real `westfall serve` (the tiny model loaded): add a folder to a new collection
// and follow the job to its end, list, index again (nothing changed), and the corrupt PDF reported.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, TINY_MODEL, startServe, tempDir, waitReady, type ServeProcess } from '../e2e/harness.js';
import { writeCorpus } from './corpus.js';

const T = 240_000;

function westfall(args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('westfall docs', () => {
  const data = tempDir('westfall-docs-cli-');
  const env = { WESTFALL_DATA_DIR: data.dir };
  let serve: ServeProcess;

  beforeAll(async () => {
    await writeCorpus(join(data.dir, 'corpus'));
    serve = await startServe(['--model', TINY_MODEL], { ...env, WESTFALL_CONTEXT_SIZE: '1024', WESTFALL_API_TOKEN: 'cli-docs-token-0123456789abcdef' });
    await waitReady(serve.url, 120_000);
  }, T);
  afterAll(async () => {
    await serve?.stop();
    data.cleanup();
  }, T);

  it(
    'adds a folder and indexes it with progress, lists it, re-indexes nothing when nothing changed',
    async () => {
      const add = await westfall(['docs', 'add', 'Home', join(data.dir, 'corpus')], env);
      expect(add.err).toMatch(/7\/7 files, \d+ chunks embedded \(1 failed\)/);
      expect(add.code).toBe(0);
      const list = await westfall(['docs', 'list'], env);
      expect(list.out).toMatch(/^1\tHome\t6 files, \d+ chunks, 1 failed\ttiny-qwen2\tdone$/m);
      const again = await westfall(['docs', 'index', 'Home'], env);
      expect(again.code).toBe(0);
      expect(again.err).toMatch(/7\/7 files, 0 chunks embedded \(6 unchanged, 1 failed\)/);
      expect(again.err).toMatch(/skipped .*broken\.pdf: not a readable PDF/);
      const none = await westfall(['docs', 'index', 'Nope'], env);
      expect(none.code).toBe(1);
      expect(none.err).toMatch(/no collection named or numbered "Nope"/);
    },
    T,
  );
});
