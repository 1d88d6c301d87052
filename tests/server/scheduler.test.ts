// Scheduling (bounded queue, 429), cancellation when HTTP clients leave, model load/unload, extra plugins.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyPluginAsync } from 'fastify';
import { WestfallError } from '../../src/errors.js';
import { ModelManager, createApp, type GenerationEvent, type ModelStatus, type ServerPluginOptions } from '../../src/server/index.js';
import { AUTH, StreamClient, TINY_MODEL, TOKEN, eventually, startServer, testConfig, type TestServer } from './helpers.js';

const longChat = (id: string) => ({ type: 'chat', id, messages: [{ role: 'user', content: 'Go on and on.' }], params: { maxTokens: 900, ignoreEos: true } });
const post = (server: TestServer, url: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${server.url}${url}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });

function nextGeneration(manager: ModelManager): Promise<GenerationEvent> {
  return new Promise((resolve) => manager.once('generation', resolve));
}

describe('scheduler: one sequence, queue of one', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: { WESTFALL_PARALLEL: 1, WESTFALL_QUEUE_LIMIT: 1 } });
  });
  afterAll(() => server.close());

  it('queues beyond the running sequences and answers 429 with Retry-After beyond the queue', async () => {
    const ws = new StreamClient(server.wsUrl);
    await ws.opened();
    ws.send(longChat('A'));
    await ws.waitFor(() => ws.of('A').some((m) => m.type === 'token'));
    expect(server.manager.stats()).toMatchObject({ running: 1, queued: 0, capacity: 1 });

    // B waits in the queue
    const b = post(server, '/api/llm/chat', { messages: [{ role: 'user', content: 'queued' }], params: { maxTokens: 4 } });
    await eventually(() => server.manager.stats().queued === 1);

    // C, D, E are refused
    const c = await post(server, '/api/llm/chat', { messages: [{ role: 'user', content: 'refused' }] });
    expect(c.status).toBe(429);
    expect(Number(c.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const cBody = (await c.json()) as { error: { code: string; type: string; details: { retryAfter: number } } };
    expect(cBody.error).toMatchObject({ code: 'queue_full', type: 'rate_limit_error' });
    expect(cBody.error.details.retryAfter).toBe(Number(c.headers.get('retry-after')));

    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: TOKEN, maxRetries: 0 });
    const d = await client.chat.completions.create({ model: 'tiny-qwen2', messages: [{ role: 'user', content: 'x' }], stream: true }).catch((e: unknown) => e);
    expect(d).toBeInstanceOf(OpenAI.RateLimitError);
    expect((d as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('queue_full');

    ws.send({ type: 'chat', id: 'E', messages: [{ role: 'user', content: 'x' }] });
    const e = await ws.final('E');
    expect(e.type === 'error' && e.error.code).toBe('queue_full');

    // Cancelling A lets B run
    ws.send({ type: 'cancel', id: 'A' });
    expect((await ws.final('A')).type).toBe('done');
    const bRes = await b;
    expect(bRes.status).toBe(200);
    expect(((await bRes.json()) as { usage: { completionTokens: number } }).usage.completionTokens).toBeGreaterThan(0);
    await eventually(() => server.manager.stats().running === 0);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/westfall_http_requests_total\{method="POST",route="\/api\/llm\/chat",status="429"\} 1/);
    ws.close();
  });

  it('an HTTP client that disconnects stops its generation (non-stream)', async () => {
    const ended = nextGeneration(server.manager);
    const ac = new AbortController();
    const res = post(server, '/api/llm/chat', { messages: [{ role: 'user', content: 'long' }], params: { maxTokens: 900, ignoreEos: true } }, ac.signal).catch((e: unknown) => e);
    await eventually(() => server.manager.stats().running === 1);
    ac.abort();
    const ev = await ended;
    expect(ev.stopReason).toBe('aborted');
    expect(ev.usage!.completionTokens).toBeLessThan(900);
    expect(await res).toBeInstanceOf(Error);
    await eventually(() => server.manager.stats().running === 0);
  });

  it('an SSE client that goes away stops its generation', async () => {
    const ended = nextGeneration(server.manager);
    const ac = new AbortController();
    const res = await post(server, '/v1/chat/completions', { model: 'm', messages: [{ role: 'user', content: 'long' }], max_tokens: 900, stream: true }, ac.signal);
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('chat.completion.chunk');
    ac.abort();
    const ev = await ended;
    expect(ev.stopReason).toMatch(/aborted|eos/);
    if (ev.stopReason === 'aborted') expect(ev.usage!.completionTokens).toBeLessThan(900);
    await eventually(() => server.manager.stats().running === 0);
    expect((await fetch(`${server.url}/health/ready`)).status).toBe(200);
  });
});

describe('ModelManager', () => {
  it('reports load state through status() and events; a failed load says why', async () => {
    const manager = ModelManager.fromConfig(testConfig());
    const states: ModelStatus['state'][] = [];
    manager.on('state', (s) => states.push(s.state));
    const progress: number[] = [];
    manager.on('progress', (p) => progress.push(p));
    expect(manager.status().state).toBe('none');

    await manager.load(TINY_MODEL, { contextSize: 512 });
    expect(states).toEqual(['loading', 'ready']);
    const s = manager.status();
    expect(s.model?.id).toBe('tiny-qwen2');
    expect(s.context?.contextSize).toBe(512);
    expect(s.context?.sequences).toBe(2);
    expect(progress.length).toBeGreaterThan(0);

    await manager.unload();
    expect(manager.status()).toMatchObject({ state: 'none', model: null });
    expect(states.at(-1)).toBe('none');

    const err = await manager.load('/nonexistent/model.gguf').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WestfallError);
    expect((err as WestfallError).code).toBe('model_not_found');
    expect(manager.status()).toMatchObject({ state: 'error', error: { code: 'model_not_found' } });

    const app = createApp(testConfig(), { manager });
    const ready = await app.inject({ url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json().error.code).toBe('model_load_failed');
    await app.close();
    expect(manager.status().state).toBe('none');
  });

  it('unloading ends running generations with model_unloaded and refuses new ones', async () => {
    const server = await startServer({ settings: { WESTFALL_PARALLEL: 1, WESTFALL_QUEUE_LIMIT: 4 } });
    try {
      const ws = new StreamClient(server.wsUrl);
      await ws.opened();
      ws.send(longChat('run'));
      ws.send(longChat('wait'));
      await ws.waitFor(() => ws.of('run').some((m) => m.type === 'token'));
      await server.manager.unload();
      const run = await ws.final('run');
      const wait = await ws.final('wait');
      expect(run.type === 'error' && run.error.code).toBe('model_unloaded');
      expect(wait.type === 'error' && wait.error.code).toBe('model_unloaded');
      ws.send({ type: 'chat', id: 'later', messages: [{ role: 'user', content: 'x' }] });
      const later = await ws.final('later');
      expect(later.type === 'error' && later.error.code).toBe('model_not_loaded');
      expect(server.manager.stats()).toMatchObject({ running: 0, queued: 0 });
      ws.close();
    } finally {
      await server.close();
    }
  });
});

describe('extra plugins', () => {
  it('are registered with { config, manager }, behind the token, with the shared error shape', async () => {
    let seen: ServerPluginOptions | undefined;
    const plugin: FastifyPluginAsync<ServerPluginOptions> = async (app, opts) => {
      seen = opts;
      app.get('/api/models/status', async () => opts.manager.status());
      app.post('/api/models/fail', async () => {
        throw new WestfallError('model_in_use', 'the model is loaded');
      });
    };
    const config = testConfig();
    const app = createApp(config, { extraPlugins: [plugin] });
    await app.ready();
    expect(seen?.config).toBe(config);
    expect(seen?.manager).toBe(app.westfall.manager);
    expect((await app.inject({ url: '/api/models/status' })).statusCode).toBe(401);
    const ok = await app.inject({ url: '/api/models/status', headers: AUTH });
    expect(ok.json()).toMatchObject({ state: 'none' });
    const fail = await app.inject({ method: 'POST', url: '/api/models/fail', headers: AUTH });
    expect(fail.statusCode).toBe(409);
    expect(fail.json()).toEqual({ error: { type: 'conflict_error', code: 'model_in_use', message: 'the model is loaded' } });
    await app.close();
  });
});
