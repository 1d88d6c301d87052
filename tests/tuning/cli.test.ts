import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBenchCommand, runBenchCommand } from '../../src/cli/commands/bench.js';
import { loadProfile } from '../../src/tuning/index.js';
import { TINY_MODEL } from '../helpers/models.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'westfall-bench-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function io() {
  const o = { out: '', err: '' };
  return { o, io: { stdout: { write: (s: string) => (o.out += s) }, stderr: { write: (s: string) => (o.err += s) } } };
}

describe('westfall bench', () => {
  it('rejects bad usage with exit code 2', async () => {
    for (const argv of [
      ['--model', TINY_MODEL, '--synthetic', 'qwen2-0.5b'],
      ['--synthetic', 'llama-70b'],
      ['--model', TINY_MODEL, '--threads', '0'],
      ['--model', TINY_MODEL, '--flash-attn', 'sometimes'],
      ['--model', TINY_MODEL, '--kv-type', 'q3_k'],
      ['--unknown-flag'],
    ]) {
      const { o, io: streams } = io();
      expect(await runBenchCommand(argv, streams), argv.join(' ')).toBe(2);
      expect(o.err).toMatch(/^westfall bench: /);
    }
  });

  it('tunes, prints a table, writes the reports and saves the profile', async () => {
    const out = path.join(dir, 'out');
    const dataDir = path.join(dir, 'data');
    const { o, io: streams } = io();
    const code = await runBenchCommand(
      ['--model', TINY_MODEL, '--threads', '1', '--batch', '128', '--flash-attn', 'on', '--reps', '1', '--pp-tokens', '32', '--tg-tokens', '8', '--out', out, '--data-dir', dataDir, '--save-profile', '--no-progress'],
      streams,
    );
    expect(code, o.err).toBe(0);
    expect(o.out).toMatch(/configuration\s+pp t\/s\s+tg t\/s/);
    expect(o.out).toMatch(/t1 b128\/128 fa:on/);
    expect(o.out).toMatch(/defaults \(t\d+ b512\/512 fa:auto\)/); // measured too, as the baseline
    expect(o.out.split('\n').filter((l) => l.startsWith('★'))).toHaveLength(1);
    expect(o.out).toMatch(/recommended: /);
    expect((await readdir(out)).sort()).toEqual(['sweep.csv', 'sweep.json', 'sweep.md', 'sweep.svg']);
    const profile = await loadProfile(dataDir, TINY_MODEL);
    expect(profile?.settings.batchSize).toBeGreaterThan(0);
    expect(profile?.chart).toBe(`${profile?.model.key}.svg`);
    expect(await readdir(path.join(dataDir, 'profiles'))).toContain(profile!.chart);
  }, 120_000);

  it('registers on a commander program with its options', () => {
    const program = new Command();
    const cmd = registerBenchCommand(program);
    expect(cmd.name()).toBe('bench');
    const flags = cmd.options.map((opt) => opt.long);
    for (const f of ['--model', '--synthetic', '--threads', '--batch', '--ubatch', '--gpu-layers', '--flash-attn', '--quick', '--out', '--save-profile']) expect(flags).toContain(f);
  });
});
