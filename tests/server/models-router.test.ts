// Several local models behind the router, through a real listening server: two synthetic models with
// different weights loaded at once and requests routed by name, LRU unload under a memory limit, idle
// unload after keep-alive, a load that cannot fit refused before it starts, GET /v1/models and /metrics.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalModel } from '../../src/server/models/loader.js';
import { modelListSchema, type ModelEntry } from '../../src/server/index.js';
import modelsRoutes from '../../src/server/routes/models.js';
import { variantModel } from '../helpers/models.js';
import { AUTH, StreamClient, TINY_MODEL, startServer, tempDir, type TestServer } from './helpers.js';

const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };
const MiB = 1024 * 1024;

let dir: ReturnType<typeof tempDir>;
let modelsDir: string;
/** The planner's estimate of one tiny model at the test settings (context 1024, 2 sequences). */
let estimate: number;

beforeAll(async () => {
  dir = tempDir('westfall-router-');
  modelsDir = join(dir.dir, 'models');
  mkdirSync(modelsDir, { recursive: true });
  copyFileSync(TINY_MODEL, join(modelsDir, 'alpha.gguf'));
  // Same shape and tokenizer, other weights: its greedy output differs from alpha's.
  copyFileSync(await variantModel(7), join(modelsDir, 'beta.gguf'));
  const probe = new LocalModel(join(modelsDir, 'alpha.gguf'), { contextSize: 1024, gpuLayers: 'auto', parallel: 2, queueLimit: 4, sampling: { temperature: 0, topP: 1, topK: 1, maxTokens: 8 } });
  estimate = (await probe.planLoad()).memoryBytes!;
  expect(estimate).toBeGreaterThan(1 * MiB);
}, 120_000);

afterAll(() => dir.cleanup());

async function serve(settings: Record<string, string | number> = {}, withModelsRoutes = false): Promise<TestServer> {
  return startServer({
    load: false,
    ...(withModelsRoutes ? { deps: { extraPlugins: [modelsRoutes] } } : {}),
    settings: { WESTFALL_MODELS_DIR: modelsDir, WESTFALL_DATA_DIR: join(dir.dir, `data-${Math.random().toString(36).slice(2)}`), WESTFALL_KEEP_ALIVE: -1, ...settings },
  });
}

async function post(s: TestServer, url: string, body: unknown) {
  const r = await fetch(`${s.url}${url}`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
  return { status: r.status, json: (await r.json()) as Record<string, any> };
}

async function available(s: TestServer): Promise<ModelEntry[]> {
  const r = await fetch(`${s.url}/api/models/available`, { headers: AUTH });
  return ((await r.json()) as { models: ModelEntry[] }).models;
}

const stateOf = async (s: TestServer, id: string) => (await available(s)).find((m) => m.id === id)?.state;

async function metric(s: TestServer, line: RegExp): Promise<number | null> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  for (const l of text.split('\n')) {
    if (line.test(l)) return Number(l.split(' ').at(-1));
  }
  return null;
}

const complete = (s: TestServer, model: string, extra: Record<string, unknown> = {}) =>
  post(s, '/v1/completions', { model, prompt: 'The weather today is', max_tokens: 8, temperature: 0, seed: 1, ...extra });

describe('several local models', () => {
  it('loads two models on demand, keeps both, and answers each request with the model it names', async () => {
    const s = await serve();
    try {
      const a1 = await complete(s, 'alpha');
      expect(a1.status, JSON.stringify(a1.json)).toBe(200);
      expect(a1.json.model).toBe('alpha');
      const b1 = await complete(s, 'beta');
      expect(b1.status, JSON.stringify(b1.json)).toBe(200);
      expect(b1.json.model).toBe('beta');
      // Both stay loaded (no memory limit, keep-alive -1) and answer alternately, each as it did alone.
      expect(await stateOf(s, 'alpha')).toBe('ready');
      expect(await stateOf(s, 'beta')).toBe('ready');
      const [a2, b2] = await Promise.all([complete(s, 'alpha'), complete(s, 'beta')]);
      expect(a2.json.choices[0].text).toBe(a1.json.choices[0].text);
      expect(b2.json.choices[0].text).toBe(b1.json.choices[0].text);
      expect(a1.json.choices[0].text).not.toBe(b1.json.choices[0].text);

      // The native chat API and the WebSocket take a model too.
      const chat = await post(s, '/api/llm/chat', { model: 'beta', messages: [{ role: 'user', content: 'hi' }], params: { maxTokens: 4 } });
      expect(chat.status, JSON.stringify(chat.json)).toBe(200);
      expect(chat.json.model).toBe('beta');
      const ws = new StreamClient(s.wsUrl);
      await ws.opened();
      ws.send({ type: 'chat', id: 'w', model: 'alpha', messages: [{ role: 'user', content: 'hi' }], params: { maxTokens: 4 } });
      expect((await ws.final('w')).type).toBe('done');
      ws.close();

      // Embeddings from one model while the other chats.
      const emb = await post(s, '/v1/embeddings', { model: 'beta', input: 'hello' });
      expect(emb.status).toBe(200);
      expect(emb.json.model).toBe('beta');

      // GET /v1/models: every installed model with where it runs and its state.
      const list = modelListSchema.parse(await (await fetch(`${s.url}/v1/models`, { headers: AUTH })).json());
      const ids = list.data.map((m) => m.id);
      expect(ids).toEqual(expect.arrayContaining(['alpha', 'beta']));
      const alpha = list.data.find((m) => m.id === 'alpha')!;
      expect(alpha.owned_by).toBe('westfall');
      expect(alpha.westfall).toMatchObject({ kind: 'local', engine: 'local', location: 'this computer', state: 'ready', contextSize: 1024 });
      expect(alpha.westfall!.memoryBytes).toBe(estimate);

      // Metrics: per-model gauges and load counters.
      expect(await metric(s, /^westfall_local_model_loaded\{model="alpha"\}/)).toBe(1);
      expect(await metric(s, /^westfall_local_model_loaded\{model="beta"\}/)).toBe(1);
      expect(await metric(s, /^westfall_local_models_loaded /)).toBe(2);
      expect(await metric(s, /^westfall_model_loads_total\{model="alpha",result="ok"\}/)).toBe(1);
      expect(await metric(s, /^westfall_local_model_memory_bytes\{model="beta"\}/)).toBe(estimate);

      // Unloading one leaves the other answering.
      const un = await post(s, '/api/models/alpha/unload', {});
      expect(un.status).toBe(200);
      expect(await stateOf(s, 'alpha')).toBe('none');
      expect((await complete(s, 'beta')).json.choices[0].text).toBe(b1.json.choices[0].text);
      expect(await metric(s, /^westfall_model_unloads_total\{model="alpha",reason="request"\}/)).toBe(1);
    } finally {
      await s.close();
    }
  }, 180_000);

  it('unloads the least recently used idle model when the memory limit would be exceeded', async () => {
    const limitMb = Math.floor((estimate * 1.5) / MiB);
    const s = await serve({ WESTFALL_MODEL_MEMORY_MB: limitMb });
    try {
      expect((await complete(s, 'alpha')).status).toBe(200);
      expect(await stateOf(s, 'alpha')).toBe('ready');
      const b = await complete(s, 'beta');
      expect(b.status, JSON.stringify(b.json)).toBe(200);
      expect(await stateOf(s, 'alpha')).toBe('none');
      expect(await stateOf(s, 'beta')).toBe('ready');
      expect(await metric(s, /^westfall_model_unloads_total\{model="alpha",reason="lru"\}/)).toBe(1);
      expect(await metric(s, /^westfall_model_memory_limit_bytes /)).toBe(limitMb * MiB);
      // And back: alpha again pushes beta out.
      expect((await complete(s, 'alpha')).status).toBe(200);
      expect(await stateOf(s, 'beta')).toBe('none');
    } finally {
      await s.close();
    }
  }, 180_000);

  it('never unloads a model that is answering to make room: the other load is refused with memory_busy', async () => {
    const s = await serve({ WESTFALL_MODEL_MEMORY_MB: Math.floor((estimate * 1.5) / MiB) });
    const stop = new AbortController();
    try {
      expect((await complete(s, 'alpha')).status).toBe(200);
      // A long generation keeps alpha busy until the test stops it.
      const long = fetch(`${s.url}/v1/completions`, {
        method: 'POST',
        headers: JSON_HEADERS,
        body: JSON.stringify({ model: 'alpha', prompt: 'Tell a long story', max_tokens: 4000, ignore_eos: true, stream: true }),
        signal: stop.signal,
      }).then((r) => r.body?.pipeTo(new WritableStream()).catch(() => {}), () => {});
      await expect.poll(() => metric(s, /^westfall_local_model_generations_running\{model="alpha"\}/), { timeout: 60_000, interval: 100 }).toBe(1);
      const b = await complete(s, 'beta');
      expect(b.status).toBe(503);
      expect(b.json.error.code).toBe('memory_busy');
      expect(b.json.error.message).toMatch(/alpha/);
      expect(await stateOf(s, 'alpha')).toBe('ready');
      stop.abort();
      await long;
      // Once alpha is idle, it makes room.
      await expect.poll(() => metric(s, /^westfall_local_model_generations_running\{model="alpha"\}/), { timeout: 60_000, interval: 100 }).toBe(0);
      expect((await complete(s, 'beta')).status).toBe(200);
      expect(await stateOf(s, 'alpha')).toBe('none');
    } finally {
      stop.abort();
      await s.close();
    }
  }, 180_000);

  it('refuses, before loading, a model that cannot fit even alone, and says why', async () => {
    const s = await serve({ WESTFALL_MODEL_MEMORY_MB: Math.max(1, Math.floor(estimate / MiB / 4)) });
    try {
      const r = await complete(s, 'alpha');
      expect(r.status).toBe(507);
      expect(r.json.error.code).toBe('model_too_large');
      expect(r.json.error.message).toMatch(/alpha needs about .* more than the .* allowed for models/);
      expect(await stateOf(s, 'alpha')).toBe('none');
      expect(await metric(s, /^westfall_model_loads_total\{model="alpha",result="model_too_large"\}/)).toBe(1);
      // The service stays up; a name nothing serves, with no model loaded, says to load one.
      const missing = await complete(s, 'no-such-model');
      expect(missing.status).toBe(503);
      expect(missing.json.error.code).toBe('model_not_loaded');
      expect(missing.json.error.message).toMatch(/"no-such-model" is not an installed model/);
      const retrieve = await fetch(`${s.url}/v1/models/no-such-model`, { headers: AUTH });
      expect(retrieve.status).toBe(404);
    } finally {
      await s.close();
    }
  }, 120_000);

  it('unloads a model after its keep-alive (configured, or per request) once it is idle', async () => {
    const s = await serve({ WESTFALL_KEEP_ALIVE: 1 });
    try {
      expect((await complete(s, 'alpha')).status).toBe(200);
      const entry = (await available(s)).find((m) => m.id === 'alpha')!;
      expect(entry.expiresAt).not.toBeNull();
      await expect.poll(() => stateOf(s, 'alpha'), { timeout: 60_000, interval: 200 }).toBe('none');
      expect(await metric(s, /^westfall_model_unloads_total\{model="alpha",reason="idle"\}/)).toBe(1);
      // A request's keep_alive wins: -1 keeps it, "1s" (Ollama's spelling) lets it go again.
      expect((await complete(s, 'beta', { keep_alive: -1 })).status).toBe(200);
      expect((await available(s)).find((m) => m.id === 'beta')!.expiresAt).toBeNull();
      expect((await complete(s, 'beta', { keep_alive: '1s' })).status).toBe(200);
      await expect.poll(() => stateOf(s, 'beta'), { timeout: 60_000, interval: 200 }).toBe('none');
      const bad = await complete(s, 'beta', { keep_alive: 'soon' });
      expect(bad.status).toBe(400);
    } finally {
      await s.close();
    }
  }, 180_000);

  it('keeps per-model settings (context size) and uses them on the next load', async () => {
    const s = await serve();
    try {
      const put = await fetch(`${s.url}/api/models/beta/settings`, { method: 'PUT', headers: JSON_HEADERS, body: JSON.stringify({ contextSize: 512 }) });
      expect(put.status).toBe(200);
      expect((await complete(s, 'beta')).status).toBe(200);
      const beta = (await available(s)).find((m) => m.id === 'beta')!;
      expect(beta.contextSize).toBe(512);
      expect(beta.memoryBytes).toBeLessThan(estimate);
      // The default model (manager.load, as POST /api/models/load does) answers requests that name none,
      // or a name no engine has (clients that send a fixed name, as llama-server allows).
      expect((await s.manager.load(join(modelsDir, 'alpha.gguf'))).state).toBe('ready');
      const anon = await post(s, '/v1/completions', { prompt: 'x', max_tokens: 2 });
      expect(anon.json.model).toBe('alpha');
      const legacy = await post(s, '/v1/completions', { model: 'gpt-4o', prompt: 'x', max_tokens: 2 });
      expect(legacy.json.model).toBe('alpha');
      const list = (await available(s)).filter((m) => m.default);
      expect(list.map((m) => m.id)).toEqual(['alpha']);
      // The context meter counts with the chat's model when it is loaded (its window), else the default's.
      const count = (model?: string) => post(s, '/api/llm/tokens', { ...(model ? { model } : {}), messages: [{ role: 'user', content: 'hi' }], maxTokens: 8 });
      const [own, def] = await Promise.all([count('beta'), count()]);
      expect(own.status, JSON.stringify(own.json)).toBe(200);
      expect(own.json.contextTokens).toBe(512);
      expect(def.json.contextTokens).toBe(1024);
      const badSettings = await fetch(`${s.url}/api/models/beta/settings`, { method: 'PUT', headers: JSON_HEADERS, body: JSON.stringify({ contextSize: 'big' }) });
      expect(badSettings.status).toBe(400);
    } finally {
      await s.close();
    }
  }, 180_000);

  it('deleting a model file that a chat loaded unloads that model first', async () => {
    copyFileSync(join(modelsDir, 'beta.gguf'), join(modelsDir, 'gamma.gguf'));
    const s = await serve({}, true);
    try {
      expect((await complete(s, 'gamma')).status).toBe(200);
      expect(await stateOf(s, 'gamma')).toBe('ready');
      const del = await fetch(`${s.url}/api/models/gamma.gguf`, { method: 'DELETE', headers: AUTH });
      expect(del.status, await del.clone().text()).toBe(200);
      expect(await stateOf(s, 'gamma')).toBeUndefined();
      expect(existsSync(join(modelsDir, 'gamma.gguf'))).toBe(false);
      expect(await metric(s, /^westfall_model_unloads_total\{model="gamma",reason="request"\}/)).toBe(1);
    } finally {
      await s.close();
    }
  }, 120_000);
});
