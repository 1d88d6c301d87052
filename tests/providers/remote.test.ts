// Remote providers end to end, with real servers on 127.0.0.1: a second instance of our own backend (the
// tiny synthetic model) is the OpenAI-compatible upstream, reached through a fault-injecting proxy; the
// backend under test routes "<provider>/<model>" there. Streaming, cancel (the upstream sees the abort),
// retry before the first token, fallback to another provider and to the local model, every upstream
// failure as a catalog error, a tool call round trip, and the API key never in a response or a log line.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, ModelManager } from '../../src/server/index.js';
import { openDatabase, type DB } from '../../src/storage/index.js';
import { createProviders, KEY_FILE, startRemoteGeneration, type Providers } from '../../src/providers/index.js';
import { AUTH, TINY_MODEL, logCapture, startServer, tempDir, testConfig, type TestServer } from '../server/helpers.js';
import { z } from 'zod';
import { namedModelBackend } from '../../src/server/agent-model.js';
import { defineTool, runAgentToEnd, ToolRegistry } from '../../src/tools/index.js';
import { FaultProxy } from './fault-proxy.js';

const UPSTREAM_KEY = 'sk-upstream-5ecret-0123456789abcdef';
const MODEL = 'tiny-qwen2';

interface Sse {
  status: number;
  headers: Headers;
  events: unknown[];
  raw: string;
  done: boolean;
}

describe('remote providers', () => {
  let upstream: TestServer;
  let proxy: FaultProxy;
  let proxyUrl: string;
  let router: ReturnType<typeof createApp>;
  let routerClosed = false;
  let routerUrl: string;
  let manager: ModelManager;
  let providers: Providers;
  let db: DB;
  let logs: ReturnType<typeof logCapture>;
  let dir: ReturnType<typeof tempDir>;
  const responses: string[] = [];

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${routerUrl}${path}`, { method, headers: { ...AUTH, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await res.text();
    responses.push(text);
    return { status: res.status, headers: res.headers, json: text ? (JSON.parse(text) as any) : null };
  };

  const stream = async (body: Record<string, unknown>, url = routerUrl, headers: Record<string, string> = AUTH): Promise<Sse> => {
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
    const raw = await res.text();
    responses.push(raw);
    const events: unknown[] = [];
    let done = false;
    for (const ev of raw.split('\n\n')) {
      const data = ev.startsWith('data: ') ? ev.slice(6) : null;
      if (data === '[DONE]') done = true;
      else if (data) events.push(JSON.parse(data));
    }
    return { status: res.status, headers: res.headers, events, raw, done };
  };

  const contentOf = (events: unknown[]) =>
    events.map((e) => (e as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content ?? '').join('');

  const addProvider = async (body: Record<string, unknown>) => {
    const r = await api('POST', '/api/providers', body);
    expect(r.status).toBe(201);
    return r.json as { id: string; name: string; hasApiKey: boolean; health: { state: string; models: string[] } };
  };

  beforeAll(async () => {
    dir = tempDir('westfall-providers-');
    upstream = await startServer({ settings: { WESTFALL_API_TOKEN: UPSTREAM_KEY, WESTFALL_MAX_TOKENS: 24 } });
    proxy = new FaultProxy(upstream.url);
    proxyUrl = await proxy.listen();
    const config = testConfig({ WESTFALL_MAX_TOKENS: 24 });
    manager = ModelManager.fromConfig(config);
    await manager.load(TINY_MODEL);
    db = openDatabase(join(dir.dir, 'westfall.db'));
    logs = logCapture('debug');
    providers = createProviders(db, join(dir.dir, 'state'), { logger: logs.logger, retry: { backoffMs: 50, maxRetryAfterS: 2 } });
    router = createApp(config, { manager, logger: logs.logger, remote: providers.remote });
    await router.listen({ host: '127.0.0.1', port: 0 });
    const addr = router.server.address();
    routerUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  }, 120_000);

  afterAll(async () => {
    if (!routerClosed) await router?.close();
    await proxy?.close();
    await upstream?.close();
    db?.close();
    dir?.cleanup();
  });

  it('with no provider configured, nothing is remote: /v1/models lists only the local model', async () => {
    const r = await api('GET', '/api/providers');
    expect(r.json).toEqual({ providers: [], remoteEnabled: false });
    const models = await api('GET', '/v1/models');
    const ids = models.json.data.map((m: { id: string }) => m.id);
    expect(ids).toContain(MODEL);
    expect(models.json.data.filter((m: { westfall?: { kind: string } }) => m.westfall?.kind !== 'local')).toEqual([]);
  });

  it('adds a provider: tested ("connected, 1 model"), key sealed at rest and never returned, models in /v1/models with their host', async () => {
    const bad = await api('POST', '/api/providers', { name: 'x', baseUrl: 'ftp://127.0.0.1/v1' });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('provider_invalid_url');
    const creds = await api('POST', '/api/providers', { name: 'x', baseUrl: 'http://user:pw@127.0.0.1/v1' });
    expect(creds.json.error.code).toBe('provider_invalid_url');

    const unsaved = await api('POST', '/api/providers/test', { baseUrl: proxyUrl, apiKey: UPSTREAM_KEY });
    expect(unsaved.json).toMatchObject({ ok: true, summary: 'connected, 1 model', models: [MODEL] });
    const wrongKey = await api('POST', '/api/providers/test', { baseUrl: proxyUrl, apiKey: 'nope' });
    expect(wrongKey.json.ok).toBe(false);
    expect(wrongKey.json.error.code).toBe('upstream_auth');

    const p = await addProvider({ name: 'up', baseUrl: proxyUrl, apiKey: UPSTREAM_KEY });
    expect(p).toMatchObject({ name: 'up', hasApiKey: true, baseUrl: `${proxyUrl}/v1`, health: { state: 'ok', models: [MODEL] } });
    expect(JSON.stringify(p)).not.toContain(UPSTREAM_KEY);
    const test = await api('POST', `/api/providers/${p.id}/test`);
    expect(test.json.summary).toBe('connected, 1 model');

    // At rest: the row holds ciphertext, the key file is the user's alone.
    const row = db.prepare('SELECT api_key_sealed FROM providers WHERE id = ?').get(p.id) as { api_key_sealed: Buffer };
    expect(row.api_key_sealed.includes(Buffer.from(UPSTREAM_KEY))).toBe(false);
    expect(readFileSync(join(dir.dir, 'westfall.db')).includes(Buffer.from(UPSTREAM_KEY))).toBe(false);
    expect(statSync(join(dir.dir, 'state', KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(providers.service.store.apiKey(p.id)).toBe(UPSTREAM_KEY);

    const models = await api('GET', '/v1/models');
    const remote = models.json.data.find((m: { id: string }) => m.id === `up/${MODEL}`);
    expect(remote).toMatchObject({ westfall: { kind: 'remote', engine: p.id, location: new URL(proxyUrl).host, state: 'ready' } });
    expect(manager.router.engine(p.id)?.kind).toBe('remote');
    const list = await api('GET', '/api/providers');
    expect(list.json.remoteEnabled).toBe(true);
    expect(list.json.providers[0].host).toBe(new URL(proxyUrl).host);
  });

  it('streams through chunk by chunk: the same events as the upstream gives directly, with the key sent only upstream', async () => {
    const request = { model: `up/${MODEL}`, messages: [{ role: 'user', content: 'Hello there' }], temperature: 0, seed: 3, max_tokens: 12 };
    const seenBefore = proxy.chatRequests().length;
    const via = await stream(request);
    expect(via.status).toBe(200);
    expect(via.headers.get('x-westfall-provider')).toBe('up');
    expect(via.headers.get('x-westfall-upstream-host')).toBe(new URL(proxyUrl).host);
    expect(via.headers.get('server-timing')).toMatch(/^router;dur=\d+\.\d{2}, upstream;dur=\d+\.\d$/);
    expect(via.done).toBe(true);
    const direct = await stream({ ...request, model: MODEL }, upstream.url, { authorization: `Bearer ${UPSTREAM_KEY}` });
    const text = contentOf(via.events);
    expect(text.length).toBeGreaterThan(0);
    expect(text).toBe(contentOf(direct.events));
    // Passed through as it came: the client's bytes are the upstream's, event for event.
    const sent = proxy.chatRequests().slice(seenBefore)[0]!;
    expect(via.raw).toBe(sent.response);
    expect(sent.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(JSON.parse(sent.body).model).toBe(MODEL);
  }, 120_000);

  it('without streaming: the answer carries where it ran in a `westfall` field', async () => {
    const r = await api('POST', '/v1/chat/completions', { model: `up/${MODEL}`, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8 });
    expect(r.status).toBe(200);
    expect(r.json.choices[0].message.role).toBe('assistant');
    expect(r.json.westfall).toMatchObject({ provider: 'up', host: new URL(proxyUrl).host, attempts: 1 });
  }, 60_000);

  it('a client that cancels aborts the upstream request at once: the upstream generation ends aborted', async () => {
    const events: string[] = [];
    const onGen = (e: { stopReason: string }) => events.push(e.stopReason);
    upstream.manager.on('generation', onGen);
    const abortedBefore = proxy.aborted;
    const controller = new AbortController();
    const res = await fetch(`${routerUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ model: `up/${MODEL}`, messages: [{ role: 'user', content: 'Go on' }], max_tokens: 4000, ignore_eos: true, stream: true }),
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(String(Buffer.from(first.value!))).toContain('data: ');
    controller.abort();
    await expect.poll(() => proxy.aborted, { timeout: 30_000 }).toBe(abortedBefore + 1);
    await expect.poll(() => events.includes('aborted'), { timeout: 30_000 }).toBe(true);
    upstream.manager.off('generation', onGen);
  }, 60_000);

  it('retries before the first token: a 500, then a 429 with Retry-After, then the answer', async () => {
    const before = proxy.chatRequests().length;
    proxy.queue.push({ kind: 'status', status: 500 });
    const a = await stream({ model: `up/${MODEL}`, messages: [{ role: 'user', content: 'x' }], max_tokens: 4 });
    expect(a.status).toBe(200);
    expect(a.headers.get('x-westfall-attempts')).toBe('2');
    proxy.queue.push({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const started = Date.now();
    const b = await stream({ model: `up/${MODEL}`, messages: [{ role: 'user', content: 'x' }], max_tokens: 4 });
    expect(b.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(proxy.chatRequests().length - before).toBe(4);
  }, 60_000);

  it('upstream failures become catalog errors: 401, 404 model, 429 with Retry-After, 5xx, unreachable, redirect elsewhere', async () => {
    const ask = (model = `up/${MODEL}`) => api('POST', '/v1/chat/completions', { model, messages: [{ role: 'user', content: 'x' }], max_tokens: 4 });
    // The 401's body echoes the key, as a careless server might: it must not reach the client.
    proxy.queue.push({ kind: 'status', status: 401, body: JSON.stringify({ error: { message: `bad key ${UPSTREAM_KEY}` } }) });
    const auth = await ask();
    expect(auth.status).toBe(502);
    expect(auth.json.error.code).toBe('upstream_auth');
    proxy.queue.push({ kind: 'status', status: 404, body: JSON.stringify({ error: { message: 'model not found' } }) });
    const missing = await ask();
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('upstream_model_not_found');
    proxy.queue.push({ kind: 'status', status: 429, headers: { 'retry-after': '120' } });
    const limited = await ask();
    expect(limited.status).toBe(429);
    expect(limited.json.error.code).toBe('upstream_rate_limited');
    expect(limited.headers.get('retry-after')).toBe('120');
    proxy.queue.push({ kind: 'status', status: 503 }, { kind: 'status', status: 500 });
    const failed = await ask();
    expect(failed.status).toBe(502);
    expect(failed.json.error.code).toBe('upstream_error');
    proxy.queue.push({ kind: 'redirect', location: `http://localhost:${new URL(upstream.url).port}/v1/chat/completions` });
    const redirected = await ask();
    expect(redirected.json.error.code).toBe('upstream_redirect');

    const dead = await addProvider({ name: 'dead', baseUrl: 'http://127.0.0.1:9/v1', timeoutMs: 5000 });
    expect(dead.health.state).toBe('error');
    const unreachable = await ask(`dead/${MODEL}`);
    expect(unreachable.status).toBe(502);
    expect(unreachable.json.error.code).toBe('upstream_unreachable');
    const list = await api('GET', '/api/providers');
    expect(list.json.providers.find((p: { name: string }) => p.name === 'dead').health.error.code).toBe('upstream_unreachable');
    await api('DELETE', `/api/providers/${dead.id}`);
  }, 60_000);

  it('a stream cut after its first tokens ends with an upstream_error event and is not retried', async () => {
    const before = proxy.chatRequests().length;
    proxy.queue.push({ kind: 'cut', afterEvents: 2 });
    const r = await stream({ model: `up/${MODEL}`, messages: [{ role: 'user', content: 'x' }], max_tokens: 200, ignore_eos: true });
    expect(r.status).toBe(200);
    expect(contentOf(r.events).length).toBeGreaterThan(0);
    const last = r.events.at(-1) as { error?: { code: string } };
    expect(last.error?.code).toBe('upstream_error');
    expect(r.done).toBe(true);
    expect(proxy.chatRequests().length - before).toBe(1);
  }, 60_000);

  it('falls back to another provider, then to the local model, and says so in the reply', async () => {
    // "flaky" always fails; it falls back to "direct", the upstream without the proxy.
    const direct = await addProvider({ name: 'direct', baseUrl: upstream.url, apiKey: UPSTREAM_KEY });
    const flaky = await addProvider({ name: 'flaky', baseUrl: proxyUrl, apiKey: UPSTREAM_KEY, fallback: direct.id });
    proxy.fallback = { kind: 'status', status: 500 };
    try {
      const r = await stream({ model: `flaky/${MODEL}`, messages: [{ role: 'user', content: 'x' }], max_tokens: 4 });
      expect(r.status).toBe(200);
      expect(r.headers.get('x-westfall-provider')).toBe('direct');
      expect(r.headers.get('x-westfall-fallback')).toBe('from=flaky; to=direct; reason=upstream_error');
      expect(r.done).toBe(true);

      // A slow first byte past the provider's timeout, with the local model as its fallback.
      await api('PATCH', `/api/providers/${flaky.id}`, { fallback: 'local', timeoutMs: 1000 });
      proxy.fallback = { kind: 'delay', ms: 5000 };
      const local = await stream({ model: `flaky/${MODEL}`, messages: [{ role: 'user', content: 'x' }], max_tokens: 4 });
      expect(local.status).toBe(200);
      expect(local.headers.get('x-westfall-fallback')).toBe('from=flaky; to=local; reason=upstream_unreachable');
      expect((local.events[0] as { model: string }).model).toBe(MODEL);
      expect(local.done).toBe(true);
    } finally {
      proxy.fallback = { kind: 'pass' };
      await api('DELETE', `/api/providers/${flaky.id}`);
      await api('DELETE', `/api/providers/${direct.id}`);
    }
  }, 120_000);

  it('a slow first byte within the timeout is waited for', async () => {
    proxy.queue.push({ kind: 'delay', ms: 1500 });
    const r = await stream({ model: `up/${MODEL}`, messages: [{ role: 'user', content: 'x' }], max_tokens: 4 });
    expect(r.status).toBe(200);
    expect(r.done).toBe(true);
  }, 60_000);

  it('tool calls round trip over /v1: tool_calls deltas streamed through, the result sent back, an answer', async () => {
    const tools = [{ type: 'function', function: { name: 'add', description: 'Adds two integers', parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'], additionalProperties: false } } }];
    const messages: Record<string, unknown>[] = [{ role: 'user', content: 'Add 2 and 3' }];
    const r = await stream({ model: `up/${MODEL}`, messages, tools, tool_choice: 'required', parallel_tool_calls: false, max_tokens: 300, seed: 9 });
    expect(r.status).toBe(200);
    type D = { choices: { delta: { tool_calls?: { index: number; id?: string; function: { name?: string; arguments?: string } }[] }; finish_reason: string | null }[] };
    const calls = r.events.flatMap((e) => (e as D).choices?.[0]?.delta.tool_calls ?? []);
    expect(calls.length).toBeGreaterThan(0);
    const id = calls.find((c) => c.id)!.id!;
    expect(calls.find((c) => c.function.name)!.function.name).toBe('add');
    const args = JSON.parse(calls.map((c) => c.function.arguments ?? '').join('')) as { a: number; b: number };
    expect(Number.isInteger(args.a) && Number.isInteger(args.b)).toBe(true);
    expect(r.events.some((e) => (e as D).choices?.[0]?.finish_reason === 'tool_calls')).toBe(true);
    messages.push({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name: 'add', arguments: JSON.stringify(args) } }] });
    messages.push({ role: 'tool', tool_call_id: id, content: String(args.a + args.b) });
    const answer = await api('POST', '/v1/chat/completions', { model: `up/${MODEL}`, messages, tools, tool_choice: 'none', max_tokens: 8 });
    expect(answer.status).toBe(200);
    expect(answer.json.choices[0].finish_reason).not.toBe('tool_calls');
    expect(answer.json.westfall.provider).toBe('up');
    // The upstream received the call and its result.
    const sent = JSON.parse(proxy.chatRequests().at(-1)!.body) as { messages: { role: string }[] };
    expect(sent.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'tool']);
  }, 240_000);

  it('the router engine: a ChatJob streams as deltas with usage (what the agent loop uses)', async () => {
    const model = providers.service.resolve(`up/${MODEL}`)!;
    const gen = await startRemoteGeneration(providers.remote, model, { messages: [{ role: 'user', content: 'Hi' }], params: { maxTokens: 6, temperature: 0 } });
    expect(gen.chatFormat).toBeNull();
    let text = '';
    for await (const c of gen) text += c.text;
    const r = await gen.result;
    expect(r.text).toBe(text);
    expect(r.usage.completionTokens).toBeGreaterThan(0);
    expect(gen.modelId).toBe(`up/${MODEL}`);
  }, 60_000);

  it('the agent loop over a remote model: a native tool call streamed back as deltas, run, its result sent, an answer', async () => {
    const ran: unknown[] = [];
    const registry = new ToolRegistry([
      defineTool({
        name: 'add_numbers',
        description: 'Add two small numbers.',
        input: z.object({ a: z.number().int().min(0).max(99), b: z.number().int().min(0).max(99) }).strict(),
        mutates: false,
        handler: (x) => {
          ran.push(x);
          return { sum: x.a + x.b };
        },
      }),
    ]);
    const before = proxy.chatRequests().length;
    const backend = await namedModelBackend(manager, `up/${MODEL}`);
    expect(backend.model()).toBeNull();
    const result = await runAgentToEnd({ backend, registry, messages: [{ role: 'user', content: 'What is 2 + 3?' }], toolChoice: 'required', maxSteps: 2, params: { maxTokens: 200, temperature: 0 } });
    expect(result.mode).toBe('native');
    // The random-weight model may make several calls in the step (parallel calls are allowed): each ran.
    const n = result.toolCalls;
    expect(n).toBeGreaterThanOrEqual(1);
    expect(ran).toHaveLength(n);
    expect(result.messages.map((m) => m.role)).toEqual(['user', 'assistant', ...Array(n).fill('tool'), 'assistant']);
    // Both steps went upstream with OpenAI's native fields: the tools, then the call and its result.
    const sent = proxy.chatRequests().slice(before).map((r) => JSON.parse(r.body) as { tools?: unknown[]; messages: { role: string; tool_calls?: unknown[] }[] });
    expect(sent).toHaveLength(2);
    expect(sent[0]!.tools).toHaveLength(1);
    expect(sent[1]!.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', ...Array(n).fill('tool')]);
    expect(sent[1]!.messages[2]!.tool_calls).toHaveLength(n);
  }, 240_000);

  it('closing the app ends a remote stream with shutting_down, and the upstream request with it', async () => {
    const abortedBefore = proxy.aborted;
    const res = await fetch(`${routerUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ model: `up/${MODEL}`, messages: [{ role: 'user', content: 'Go on' }], max_tokens: 4000, ignore_eos: true, stream: true }),
    });
    const reader = res.body!.getReader();
    let text = String(Buffer.from((await reader.read()).value!));
    const closing = router.close();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      text += String(Buffer.from(r.value));
    }
    await closing;
    routerClosed = true;
    responses.push(text);
    expect(text).toContain('"code":"shutting_down"');
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    await expect.poll(() => proxy.aborted, { timeout: 30_000 }).toBe(abortedBefore + 1);
  }, 60_000);

  it('the API key appears in no response and no log line', async () => {
    expect(logs.raw.length).toBeGreaterThan(0);
    for (const line of logs.raw) expect(line).not.toContain(UPSTREAM_KEY);
    for (const body of responses) expect(body).not.toContain(UPSTREAM_KEY);
    // The key still works: it was not lost along the way.
    expect(proxy.chatRequests().at(-1)!.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
  });
});
