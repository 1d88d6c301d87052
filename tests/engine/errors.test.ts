// Bad inputs end in typed errors and the process stays up.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel, WestfallError } from '../../src/index.js';
import { fixture, TINY_MODEL } from '../helpers/models.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(WestfallError);
    return (err as WestfallError).code;
  }
  throw new Error('expected a rejection');
}

describe('model loading errors', () => {
  it('missing file → model_not_found', async () => {
    expect(await codeOf(loadModel({ path: '/nonexistent/model.gguf' }))).toBe('model_not_found');
  });

  it('a directory → invalid_model', async () => {
    expect(await codeOf(loadModel({ path: tmpdir() }))).toBe('invalid_model');
  });

  it.each(['notGguf', 'empty', 'truncated', 'corruptMetadata', 'corruptOffsets'] as const)('%s → invalid_model', async (name) => {
    expect(await codeOf(loadModel({ path: fixture(name) }))).toBe('invalid_model');
  });

  it('unsupported architecture → invalid_model from llama.cpp, with its reason', async () => {
    // A valid GGUF container whose architecture llama.cpp does not know.
    const { GgufWriter } = await import('../../src/gguf/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'westfall-'));
    const path = join(dir, 'alien.gguf');
    const w = new GgufWriter();
    w.setString('general.architecture', 'alien-9000');
    await w.write(path);
    const err = await loadModel({ path }).catch((e: unknown) => e as WestfallError);
    expect(err).toBeInstanceOf(WestfallError);
    expect((err as WestfallError).code).toBe('invalid_model');
    expect((err as WestfallError).message).toMatch(/alien-9000|architecture/i);
  });

  it('invalid parameters name the field', async () => {
    const err = await loadModel({ path: TINY_MODEL, gpuLayers: 1.5 }).catch((e: unknown) => e as WestfallError);
    expect(err.code).toBe('invalid_params');
    expect(err.message).toMatch(/gpuLayers/);
    const model = await loadModel({ path: TINY_MODEL });
    try {
      await expect(model.createContext({ contextSize: -1 })).rejects.toMatchObject({ code: 'invalid_params' });
      await expect(model.createContext({ bogus: 1 } as never)).rejects.toMatchObject({ code: 'invalid_params' });
      const ctx = await model.createContext({ contextSize: 256, threads: 2 });
      expect(() => ctx.generate('hi', { temperature: -1 })).toThrow(expect.objectContaining({ code: 'invalid_params' }));
      expect(() => ctx.generate('hi', { maxTokens: 0 })).toThrow(/maxTokens/);
      expect(() => ctx.generate('')).toThrow(expect.objectContaining({ code: 'invalid_params' }));
      expect(() => ctx.generate('hi', { grammar: 'root ::= (' })).toThrow(expect.objectContaining({ code: 'invalid_params' }));
      expect(() => ctx.generate('word '.repeat(400))).toThrow(expect.objectContaining({ code: 'context_overflow' }));
    } finally {
      model.dispose();
    }
  });

  it('abort before loading → aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    expect(await codeOf(loadModel({ path: TINY_MODEL, signal: ac.signal }))).toBe('aborted');
  });

  it('use after dispose is a JavaScript error, never a crash', async () => {
    const model = await loadModel({ path: TINY_MODEL });
    const ctx = await model.createContext({ contextSize: 256, threads: 2 });
    const running = ctx.generate('Once upon a time', { maxTokens: 500, ignoreEos: true });
    model.dispose(); // disposes the context too, mid-generation
    await expect(running.result).rejects.toMatchObject({ code: 'disposed' });
    expect(() => model.tokenize('x')).toThrow(expect.objectContaining({ code: 'disposed' }));
    expect(() => ctx.generate('x')).toThrow(expect.objectContaining({ code: 'disposed' }));
    await expect(ctx.saveState(join(tmpdir(), 'x.state'))).rejects.toMatchObject({ code: 'disposed' });
    expect(() => model.dispose()).not.toThrow();
    expect(() => ctx.dispose()).not.toThrow();
  });

  it('200 load/unload cycles do not grow RSS', () => {
    // In a child process with --expose-gc, so V8's heap (the GGUF reader parses a 152k-token vocabulary
    // per load) is collected before each reading, and with one glibc arena, so allocator fragmentation
    // (bounded, tens of MB either way) does not drown the signal: a leak still grows with every cycle.
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'fixtures/load-cycles.ts'), TINY_MODEL, '200'], {
      encoding: 'utf8',
      timeout: 280_000,
      env: { ...process.env, MALLOC_ARENA_MAX: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    const { samples, cycles } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { samples: number[]; cycles: number };
    expect(cycles).toBe(200);
    expect(samples.length).toBe(21);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const growth = median(samples.slice(-5)) - median(samples.slice(0, 5));
    // A leaked model (11 MB file, mmapped) or context (KV cache and compute buffers) per cycle would be
    // hundreds of MB; the medians are 160 cycles apart, so 200 kB leaked per cycle would already fail.
    expect(growth, `RSS every 10 cycles (MiB): ${samples.map((x) => Math.round(x / 2 ** 20)).join(' ')}`).toBeLessThan(32 * 1024 * 1024);
  }, 300_000);

  it('a corrupt state file is a typed error', async () => {
    const model = await loadModel({ path: TINY_MODEL });
    try {
      const ctx = await model.createContext({ contextSize: 256, threads: 2 });
      const dir = mkdtempSync(join(tmpdir(), 'westfall-'));
      writeFileSync(join(dir, 'bad.state'), 'not a state file');
      await expect(ctx.loadState(join(dir, 'bad.state'))).rejects.toMatchObject({ code: 'invalid_params' });
      await expect(ctx.loadState(join(dir, 'missing.state'))).rejects.toMatchObject({ code: 'invalid_params' });
      // The context still works afterwards.
      expect((await ctx.generate('hi', { maxTokens: 3, ignoreEos: true }).result).usage.completionTokens).toBe(3);
    } finally {
      model.dispose();
    }
  });
});
