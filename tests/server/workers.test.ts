// Models split over workers through the backend: two real `westfall worker` processes on 127.0.0.1, the
// model in the worker host's child process, requests over /v1; a worker killed mid-generation ends that
// generation with rpc_worker_lost naming it, the backend stays up, and the model loads again without it.
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelManager } from '../../src/server/index.js';
import { WorkerSettings, createWorkers, type Workers } from '../../src/server/workers/index.js';
import { startWorker, stopWorker, type TestWorker } from '../helpers/workers.js';
import { AUTH, TINY_MODEL, startServer, tempDir, testConfig, type TestServer } from './helpers.js';

const JSON_AUTH = { ...AUTH, 'content-type': 'application/json' };

describe('models split over workers', () => {
  let a: TestWorker;
  let b: TestWorker;
  let server: TestServer;
  let workers: Workers;
  const models = tempDir('westfall-workers-models-');

  beforeAll(async () => {
    [a, b] = await Promise.all([startWorker(), startWorker()]);
    symlinkSync(TINY_MODEL, join(models.dir, 'tiny-qwen2.gguf'));
    const settings = { WESTFALL_MODELS_DIR: models.dir };
    const manager = ModelManager.fromConfig(testConfig(settings));
    // Each worker holds one of the tiny model's two layers; none stays in the backend's child.
    workers = createWorkers(manager, { stateDir: null, settings: WorkerSettings.inMemory({ enabled: true, workers: [a.endpoint, b.endpoint], split: [0, 1, 1] }) });
    server = await startServer({ settings, load: false, deps: { manager, workers } });
  });

  afterAll(async () => {
    await server?.close();
    await Promise.all([stopWorker(a), stopWorker(b)]);
    models.cleanup();
  });

  const ask = async (body: Record<string, unknown>) =>
    fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: JSON_AUTH,
      body: JSON.stringify({ model: 'tiny-qwen2', messages: [{ role: 'user', content: 'Say something' }], temperature: 0, max_tokens: 12, ...body }),
    });

  it('lists the workers with what they offer, answers over them, and gives the same text as this machine alone', async () => {
    const listed = (await (await fetch(`${server.url}/api/workers`, { headers: AUTH })).json()) as { workers: { endpoint: string; reachable: boolean; memoryTotal: number }[] };
    expect(listed.workers.map((w) => [w.endpoint, w.reachable])).toEqual([
      [a.endpoint, true],
      [b.endpoint, true],
    ]);
    expect(listed.workers[0]!.memoryTotal).toBeGreaterThan(0);

    const res = await ask({});
    expect(res.status).toBe(200);
    const split = ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
    expect(split.length).toBeGreaterThan(0);

    const models = (await (await fetch(`${server.url}/v1/models`, { headers: AUTH })).json()) as { data: { id: string; westfall?: { location?: string; state?: string } }[] };
    expect(models.data.find((m) => m.id === 'tiny-qwen2')?.westfall).toMatchObject({ location: 'this computer + 2 workers', state: 'ready' });
    const system = (await (await fetch(`${server.url}/api/system`, { headers: AUTH })).json()) as { workers: { endpoint: string; inUse: boolean; layers: number }[] };
    expect(system.workers).toEqual([expect.objectContaining({ endpoint: a.endpoint, inUse: true, layers: 1 }), expect.objectContaining({ endpoint: b.endpoint, inUse: true, layers: 1 })]);

    // Off: the same request on this machine alone, same greedy text; on again for the next test.
    expect((await fetch(`${server.url}/api/workers`, { method: 'PUT', headers: JSON_AUTH, body: JSON.stringify({ enabled: false }) })).status).toBe(200);
    const local = ((await (await ask({})).json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
    expect(local).toBe(split);
    await server.manager.unload('tiny-qwen2');
    expect((await fetch(`${server.url}/api/workers`, { method: 'PUT', headers: JSON_AUTH, body: JSON.stringify({ enabled: true }) })).status).toBe(200);
  });

  it('refuses a worker address that is not one, and a split that does not match the workers', async () => {
    const bad = await fetch(`${server.url}/api/workers`, { method: 'PUT', headers: JSON_AUTH, body: JSON.stringify({ workers: ['http://x:1'] }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/not a worker address/);
    const split = await fetch(`${server.url}/api/workers`, { method: 'PUT', headers: JSON_AUTH, body: JSON.stringify({ split: [1, 1] }) });
    expect(split.status).toBe(400);
    expect(workers.settings.get().workers).toEqual([a.endpoint, b.endpoint]);
  });

  it('a worker killed mid-generation ends it with rpc_worker_lost naming the worker; the backend stays up and reloads without it', async () => {
    const res = await ask({ stream: true, max_tokens: 4000, ignore_eos: true });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    let killed = false;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      // Some tokens came through the workers: now one of them goes away.
      if (!killed && (text.match(/"content":"[^"]+"/g)?.length ?? 0) >= 3) {
        killed = true;
        await stopWorker(b, 'SIGKILL');
      }
    }
    expect(killed).toBe(true);
    expect(text).toContain('rpc_worker_lost');
    expect(text).toContain(b.endpoint);

    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);

    // Still configured, the lost worker is named by the next load.
    const again = await ask({});
    expect(again.status).toBe(502);
    expect(await again.json()).toMatchObject({ error: { code: 'rpc_worker_unreachable' } });
    expect(JSON.stringify(await (await fetch(`${server.url}/api/workers`, { headers: AUTH })).json())).toContain('rpc_worker_unreachable');

    // Without it, the model loads over the one left.
    const put = await fetch(`${server.url}/api/workers`, { method: 'PUT', headers: JSON_AUTH, body: JSON.stringify({ workers: [a.endpoint], split: null }) });
    expect(put.status).toBe(200);
    const ok = await ask({});
    expect(ok.status).toBe(200);
    expect(workers.host.current().placement?.workers.map((w) => w.endpoint)).toEqual([a.endpoint]);
  });
});
