import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TINY_MODEL } from '../helpers/models.js';

// Transparent huge pages exist on Linux only, and can be switched off system-wide ("never").
const THP = '/sys/kernel/mm/transparent_hugepage/enabled';
const thpAvailable = process.platform === 'linux' && existsSync(THP) && !readFileSync(THP, 'utf8').includes('[never]');

function run(setting: 'on' | 'off') {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/huge-pages.ts'), TINY_MODEL, setting], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { before: number; loaded: number; generated: number; text: string };
}

describe.runIf(thpAvailable)('huge pages (Linux transparent huge pages)', () => {
  it('back the weights when on, and nothing when off; the output is the same', () => {
    const on = run('on');
    const off = run('off');
    // The tiny model's repacked weights are ~8 MB: at least one whole 2 MiB page must be huge. Off, the
    // process has none (THP "madvise" mode, the common default; in "always" mode they would appear anyway).
    expect(on.loaded - on.before).toBeGreaterThanOrEqual(2048);
    if (readFileSync(THP, 'utf8').includes('[madvise]')) expect(off.generated - off.before).toBe(0);
    expect(on.text).toBe(off.text);
  }, 120_000);
});
