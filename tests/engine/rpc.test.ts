// Workers over ggml's RPC backend: `westfall worker` processes on 127.0.0.1 and a model split over them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../src/engine/index.js';
import { parseEndpoint, planSplit, probeWorker } from '../../src/engine/rpc.js';
import { parseSize } from '../../src/cli/commands/worker.js';
import { TINY_MODEL } from '../helpers/models.js';
import { freePort, startWorker, stopWorker, type TestWorker } from '../helpers/workers.js';

type Worker = TestWorker;
const stop = (w: Worker | undefined) => stopWorker(w);

async function greedy(model: Model, prompt: string): Promise<string> {
  const ctx = await model.createContext({ contextSize: 256 });
  try {
    return (await ctx.generate(prompt, { maxTokens: 16, temperature: 0 }).result).text;
  } finally {
    await ctx.dispose();
  }
}

describe('splitting plans', () => {
  it('spreads layers by free memory, adding up exactly', () => {
    expect(planSplit(24, 8, [8, 16])).toEqual({ gpuLayers: 18, tensorSplit: [6, 12], layers: [6, 6, 12] });
    const p = planSplit(7, 1, [1, 1]);
    expect(p.layers.reduce((a, b) => a + b, 0)).toBe(7);
    expect(planSplit(10, 100, [0]).gpuLayers).toBe(0);
    expect(planSplit(4, 1, [1], [0, 1])).toEqual({ gpuLayers: 4, tensorSplit: [4], layers: [0, 4] });
  });

  it('refuses weights that do not match the workers', () => {
    expect(() => planSplit(4, 1, [1], [1])).toThrow(/2 non-negative weights/);
    expect(() => planSplit(4, 1, [1], [0, 0])).toThrow(/not all zero/);
  });

  it('reads worker addresses and sizes', () => {
    expect(parseEndpoint('10.0.0.2:6000')).toEqual({ host: '10.0.0.2', port: 6000 });
    expect(parseEndpoint('box.local')).toEqual({ host: 'box.local', port: 50052 });
    expect(parseEndpoint('[::1]:7')).toEqual({ host: '::1', port: 7 });
    expect(() => parseEndpoint('http://x:1')).toThrow(/not a worker address/);
    expect(() => parseEndpoint('x:70000')).toThrow(/not a worker address/);
    expect(parseSize('8G')).toBe(8 * 2 ** 30);
    expect(parseSize('512MiB')).toBe(512 * 2 ** 20);
    expect(() => parseSize('lots')).toThrow(/not a size/);
  });
});

describe('westfall worker', () => {
  let a: Worker | undefined;
  let b: Worker | undefined;

  beforeAll(async () => {
    [a, b] = await Promise.all([startWorker(), startWorker(['--mem', '64M'])]);
  });
  afterAll(async () => {
    await Promise.all([stop(a), stop(b)]);
  });

  it('answers the protocol handshake with its devices; --mem caps what it offers', async () => {
    const pa = await probeWorker(a!.endpoint);
    expect(pa.version).toBe('7.0.0');
    expect(pa.devices).toHaveLength(1);
    expect(pa.devices[0]!.memoryTotal).toBeGreaterThan(64 * 2 ** 20);
    const pb = await probeWorker(b!.endpoint);
    expect(pb.devices[0]).toMatchObject({ memoryFree: 64 * 2 ** 20, memoryTotal: 64 * 2 ** 20 });
  });

  it('gives the same greedy text split over two workers as all on this machine', async () => {
    const local = await loadModel({ path: TINY_MODEL });
    const expected = await greedy(local, 'The capital of France is');
    await local.dispose();
    expect(expected.length).toBeGreaterThan(0);

    // No layer stays here: each worker holds one of the tiny model's two layers.
    const split = await loadModel({ path: TINY_MODEL, workers: [a!.endpoint, b!.endpoint], split: [0, 1, 1] });
    try {
      expect(split.info.placement).toMatchObject({
        localLayers: 0,
        workers: [
          { endpoint: a!.endpoint, layers: 1 },
          { endpoint: b!.endpoint, layers: 1, memoryFree: 64 * 2 ** 20 },
        ],
      });
      expect(await greedy(split, 'The capital of France is')).toBe(expected);
    } finally {
      await split.dispose();
    }
    // The model's connection is gone with it: the workers take the next client.
    await expect(probeWorker(a!.endpoint)).resolves.toMatchObject({ version: '7.0.0' });
  });

  it('an unreachable worker at load time is a clear error naming it, and nothing was loaded', async () => {
    const port = await freePort();
    const err = await loadModel({ path: TINY_MODEL, workers: [a!.endpoint, `127.0.0.1:${port}`] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'rpc_worker_unreachable', details: { worker: `127.0.0.1:${port}` } });
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    await expect(probeWorker(a!.endpoint)).resolves.toMatchObject({ version: '7.0.0' });
  });

  it('a port already in use is a one-line message, not a crash', async () => {
    const err = await startWorker(['--port', a!.endpoint.split(':')[1]!]).catch((e: Error) => e);
    // The last --port wins: the worker was asked for a's port.
    expect(String(err)).toMatch(/port \d+ on 127\.0\.0\.1 is in use: choose another with --port/);
  });

  it('binding beyond this machine prints the plain warning', async () => {
    const w = await startWorker(['--host', '0.0.0.0']);
    try {
      expect(w.output()).toMatch(/no authentication and no encryption/);
      expect(w.output()).toMatch(/listening on 0\.0\.0\.0:\d+/);
    } finally {
      await stop(w);
    }
  });
});
