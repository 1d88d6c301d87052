// The /api/models plugin on a bare Fastify instance with a fake model manager (the real server and its
// error handler are tested elsewhere; a minimal handler here maps codes to the statuses we propose).

import { existsSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { get as httpGet, type ClientRequest } from 'node:http';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import { MODEL_CATALOG, getDefaultCatalogEntry } from '../../src/models/catalog.js';
import { partPathOf } from '../../src/models/downloader.js';
import { fitCatalog } from '../../src/models/fit.js';
import { MODEL_ERROR_HTTP_STATUS, type CatalogListing } from '../../src/models/index.js';
import { ModelStore } from '../../src/models/store.js';
import modelsRoutes, { firstRunStatus, loadedModelPath, type ModelManagerLike } from '../../src/server/routes/models.js';
import { TINY_MODEL_PATH, TestFileServer, makeTempDir } from './helpers.js';

const STATUS: Record<string, number> = { invalid_params: 400, model_not_found: 404, ...MODEL_ERROR_HTTP_STATUS };

class FakeManager implements ModelManagerLike {
  calls: { method: string; args: unknown[] }[] = [];
  loadedPath: string | null = null;
  async load(path: string, opts: { contextSize?: number; gpuLayers?: number }): Promise<void> {
    this.calls.push({ method: 'load', args: [path, opts] });
    this.loadedPath = path;
  }
  async unload(): Promise<void> {
    this.calls.push({ method: 'unload', args: [] });
    this.loadedPath = null;
  }
  status(): { state: string; path: string | null } {
    return { state: this.loadedPath ? 'loaded' : 'empty', path: this.loadedPath };
  }
}

let server: TestFileServer;
let dir: string;
let cleanup: () => Promise<void>;
let app: FastifyInstance;
let manager: FakeManager;

beforeAll(async () => {
  server = await new TestFileServer().start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  server.reset();
  manager = new FakeManager();
  app = Fastify();
  app.setErrorHandler((err, _req, reply) => {
    if (isWestfallError(err)) {
      return reply
        .code(STATUS[err.code] ?? 500)
        .send({ error: { type: 'error', code: err.code, message: err.message, details: err.details } });
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    return reply.code(e.statusCode ?? 500).send({ error: { type: 'error', code: e.code, message: e.message } });
  });
  await app.register(modelsRoutes, {
    config: { modelsDir: dir },
    manager,
    // the default entry points at the local server: tests never reach the internet
    catalog: MODEL_CATALOG.map((e) => (e.default ? { ...e, url: server.resolveUrl } : e)),
    download: { progressIntervalMs: 0, retryDelayMs: 10 },
    sseHeartbeatMs: 50,
    // a fixed machine: the recommendation must not depend on the computer running the tests
    machineMemory: () => ({ totalBytes: 8 * 2 ** 30, gpuBytes: null }),
  });
  await app.ready();
});
afterEach(async () => {
  await app.close();
  await cleanup();
});

interface SseEvent {
  event: string;
  data: any;
}
function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message';
      const data = JSON.parse(lines.find((l) => l.startsWith('data: '))!.slice(6));
      return { event, data };
    });
}

describe('/api/models routes', () => {
  it('first run: nothing installed, the catalog offers the default', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/models' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ models: [], partial: [], firstRun: true, defaultModel: getDefaultCatalogEntry().id });
    expect(body.loaded).toEqual({ state: 'empty', path: null });

    const cat = await app.inject({ method: 'GET', url: '/api/models/catalog' });
    expect(cat.statusCode).toBe(200);
    expect(cat.json().default).toBe(getDefaultCatalogEntry().id);
    expect(cat.json().models.length).toBeGreaterThanOrEqual(8);
    expect(cat.json().models[0]).toHaveProperty('installed', false);
    expect((await firstRunStatus(dir)).firstRun).toBe(true);
  });

  it('the catalog says per entry whether it fits this machine and which one is recommended', async () => {
    const body = (await app.inject({ method: 'GET', url: '/api/models/catalog' })).json() as CatalogListing;
    const fit = fitCatalog(MODEL_CATALOG, { totalBytes: 8 * 2 ** 30 });
    expect(body).toMatchObject({
      recommended: fit.recommended,
      memoryContext: 8192,
      machine: { totalMemoryBytes: 8 * 2 ** 30, gpuMemoryBytes: null, budgetBytes: fit.budgetBytes },
    });
    expect(body.models.map((m) => m.id)).toEqual(MODEL_CATALOG.map((e) => e.id));
    expect(body.models.filter((m) => m.recommended).map((m) => m.id)).toEqual([fit.recommended]);
    for (const m of body.models) {
      expect(m).toMatchObject({ installed: false, fits: m.memoryBytes <= fit.budgetBytes });
      expect(typeof m.thinks).toBe('boolean');
      expect(typeof m.toolCalls).toBe('boolean');
      expect(m.memoryBytes).toBeGreaterThan(m.sizeBytes);
      expect(m.license.length).toBeGreaterThan(0);
    }
    const rec = body.models.find((m) => m.recommended)!;
    expect(rec).toMatchObject({ fits: true, thinks: true, toolCalls: true });

    // Another machine, another answer: a small one gets the smallest model, marked as not fitting.
    const small = Fastify();
    await small.register(modelsRoutes, { config: { modelsDir: dir }, manager, machineMemory: async () => ({ totalBytes: 2 * 2 ** 30 }) });
    const tiny = (await small.inject({ method: 'GET', url: '/api/models/catalog' })).json() as CatalogListing;
    await small.close();
    const smallest = [...MODEL_CATALOG].sort((a, b) => a.memoryBytes - b.memoryBytes)[0]!;
    expect(tiny.recommended).toBe(smallest.id);
    expect(tiny.machine).toEqual({ totalMemoryBytes: 2 * 2 ** 30, gpuMemoryBytes: null, budgetBytes: 0 });
    expect(tiny.models.every((m) => !m.fits)).toBe(true);
  });

  it('downloads by URL (202 + id), streams SSE progress ending with verified, then lists and loads the model', async () => {
    server.behavior.chunkDelayMs = 2;
    const start = await app.inject({
      method: 'POST',
      url: '/api/models/downloads',
      payload: { url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256.toUpperCase() },
    });
    expect(start.statusCode).toBe(202);
    const { id } = start.json();
    expect(typeof id).toBe('string');
    expect(start.headers.location).toBe(`/api/models/downloads/${id}`);

    const sse = await app.inject({ method: 'GET', url: `/api/models/downloads/${id}/events` });
    expect(sse.statusCode).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    const events = parseSse(sse.body);
    expect(events.length).toBeGreaterThan(2);
    expect(events.slice(0, -1).every((e) => e.event === 'progress')).toBe(true);
    const last = events.at(-1)!;
    expect(last.event).toBe('verified');
    expect(last.data).toMatchObject({ id, state: 'verified', sha256: server.sha256 });
    const bytes = events.map((e) => e.data.progress.bytesDownloaded as number);
    expect([...bytes].sort((a, b) => a - b)).toEqual(bytes);

    const st = await app.inject({ method: 'GET', url: `/api/models/downloads/${id}` });
    expect(st.json()).toMatchObject({ state: 'verified', progress: { bytesDownloaded: server.data.length } });

    // a finished download's stream is just the final event
    const again = parseSse((await app.inject({ method: 'GET', url: `/api/models/downloads/${id}/events` })).body);
    expect(again.map((e) => e.event)).toEqual(['verified']);

    const list = (await app.inject({ method: 'GET', url: '/api/models' })).json();
    expect(list.firstRun).toBe(false);
    expect(list.models).toHaveLength(1);
    expect(list.models[0]).toMatchObject({ fileName: 'tiny.gguf', architecture: 'qwen2', loaded: false });

    const load = await app.inject({
      method: 'POST',
      url: '/api/models/load',
      payload: { fileName: 'tiny.gguf', contextSize: 2048, gpuLayers: 0 },
    });
    expect(load.statusCode).toBe(200);
    expect(manager.calls).toEqual([{ method: 'load', args: [join(dir, 'tiny.gguf'), { contextSize: 2048, gpuLayers: 0 }] }]);
    expect(load.json().loaded).toMatchObject({ state: 'loaded' });
    const listLoaded = (await app.inject({ method: 'GET', url: '/api/models' })).json();
    expect(listLoaded.models[0].loaded).toBe(true);

    const unload = await app.inject({ method: 'POST', url: '/api/models/unload' });
    expect(unload.statusCode).toBe(200);
    expect(manager.calls.at(-1)?.method).toBe('unload');
    await app.inject({ method: 'POST', url: '/api/models/load', payload: { fileName: 'tiny.gguf' } });

    // Deleting the loaded model unloads it first (the UI asks the user before).
    const del = await app.inject({ method: 'DELETE', url: '/api/models/tiny.gguf' });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toEqual({ deleted: 'tiny.gguf', unloaded: true });
    expect(manager.calls.at(-1)?.method).toBe('unload');
    expect(existsSync(join(dir, 'tiny.gguf'))).toBe(false);
    const del2 = await app.inject({ method: 'DELETE', url: '/api/models/tiny.gguf' });
    expect(del2.statusCode).toBe(404);
    expect(del2.json().error.code).toBe('model_not_found');
  });

  it('a failing download ends its SSE stream with an error event carrying the code', async () => {
    const start = await app.inject({
      method: 'POST',
      url: '/api/models/downloads',
      payload: { url: server.fileUrl, fileName: 'tiny.gguf', sha256: 'b'.repeat(64) },
    });
    expect(start.statusCode).toBe(202);
    const events = parseSse(
      (await app.inject({ method: 'GET', url: `/api/models/downloads/${start.json().id}/events` })).body,
    );
    const last = events.at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data.error).toMatchObject({ code: 'checksum_mismatch', details: { expected: 'b'.repeat(64), actual: server.sha256 } });
    expect(existsSync(partPathOf(join(dir, 'tiny.gguf')))).toBe(false);
  });

  it('cancels a download with DELETE /api/models/downloads/:id (part kept, or discarded on request)', async () => {
    server.behavior.chunkDelayMs = 20;
    const start = await app.inject({
      method: 'POST',
      url: '/api/models/downloads',
      payload: { url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 },
    });
    const { id } = start.json();
    const dup = await app.inject({
      method: 'POST',
      url: '/api/models/downloads',
      payload: { url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 },
    });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('download_in_progress');

    await new Promise((r) => setTimeout(r, 150));
    const cancel = await app.inject({ method: 'DELETE', url: `/api/models/downloads/${id}` });
    expect(cancel.statusCode).toBe(200);
    expect(cancel.json()).toMatchObject({ state: 'cancelled', error: { code: 'aborted' } });
    expect(existsSync(partPathOf(join(dir, 'tiny.gguf')))).toBe(true);
    const list = (await app.inject({ method: 'GET', url: '/api/models' })).json();
    expect(list.partial).toHaveLength(1);
    const events = parseSse((await app.inject({ method: 'GET', url: `/api/models/downloads/${id}/events` })).body);
    expect(events.map((e) => e.event)).toEqual(['error']);

    const discard = await app.inject({ method: 'DELETE', url: `/api/models/downloads/${id}?discard=true` });
    expect(discard.statusCode).toBe(200);
    expect(existsSync(partPathOf(join(dir, 'tiny.gguf')))).toBe(false);
  });

  it('validates bodies and params', async () => {
    const cases: { method: 'POST' | 'DELETE' | 'GET'; url: string; payload?: Record<string, unknown>; status: number; code: string }[] = [
      { method: 'POST', url: '/api/models/downloads', payload: {}, status: 400, code: 'invalid_params' },
      { method: 'POST', url: '/api/models/downloads', payload: { url: 'ftp://x/y.gguf' }, status: 400, code: 'invalid_params' },
      {
        method: 'POST',
        url: '/api/models/downloads',
        payload: { url: 'http://127.0.0.1/y.gguf', sha256: 'xyz' },
        status: 400,
        code: 'invalid_params',
      },
      {
        method: 'POST',
        url: '/api/models/downloads',
        payload: { url: 'http://127.0.0.1/y.gguf', fileName: '../evil.gguf' },
        status: 400,
        code: 'invalid_params',
      },
      {
        method: 'POST',
        url: '/api/models/downloads',
        payload: { url: 'http://127.0.0.1/dir/' },
        status: 400,
        code: 'invalid_params',
      },
      { method: 'POST', url: '/api/models/downloads', payload: { catalogId: 'no-such-model' }, status: 400, code: 'invalid_params' },
      { method: 'DELETE', url: '/api/models/..%2Fx', status: 400, code: 'invalid_params' },
      { method: 'DELETE', url: '/api/models/notes.txt', status: 400, code: 'invalid_params' },
      { method: 'POST', url: '/api/models/load', payload: { fileName: 'x.gguf', contextSize: -1 }, status: 400, code: 'invalid_params' },
      { method: 'POST', url: '/api/models/load', payload: { fileName: 'x.gguf', extra: 1 }, status: 400, code: 'invalid_params' },
      { method: 'POST', url: '/api/models/load', payload: { fileName: 'x.gguf' }, status: 404, code: 'model_not_found' },
      { method: 'GET', url: '/api/models/downloads/nope', status: 404, code: 'download_job_not_found' },
      { method: 'GET', url: '/api/models/downloads/nope/events', status: 404, code: 'download_job_not_found' },
      { method: 'DELETE', url: '/api/models/downloads/nope', status: 404, code: 'download_job_not_found' },
    ];
    for (const c of cases) {
      const res = await app.inject({ method: c.method, url: c.url, ...(c.payload !== undefined ? { payload: c.payload } : {}) });
      expect({ url: c.url, payload: c.payload, status: res.statusCode, code: res.json().error?.code }).toEqual({
        url: c.url,
        payload: c.payload,
        status: c.status,
        code: c.code,
      });
    }
    const bad = (await app.inject({ method: 'POST', url: '/api/models/load', payload: { contextSize: 'big' } })).json();
    expect(bad.error.details.fields.map((f: { path: string }) => f.path).sort()).toEqual(['contextSize', 'fileName']);
    expect(manager.calls).toHaveLength(0);
  });

  it('derives the file name from the URL and starts catalog downloads by id', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/api/models/downloads',
      payload: { url: `${server.baseUrl}/resolve/main/file.gguf` },
    });
    expect(res.statusCode).toBe(202);
    expect(res.json().download.fileName).toBe('file.gguf');
    const events = parseSse((await app.inject({ method: 'GET', url: `/api/models/downloads/${res.json().id}/events` })).body);
    expect(events.at(-1)?.data).toMatchObject({ state: 'verified', hashSource: 'x-linked-etag' });

    // By catalog id (the default entry, pointed at the local server in beforeEach); verified by X-Linked-ETag.
    const def = getDefaultCatalogEntry();
    const cat = await app.inject({ method: 'POST', url: '/api/models/downloads', payload: { catalogId: def.id } });
    expect(cat.statusCode).toBe(202);
    expect(cat.json().download).toMatchObject({ catalogId: def.id, fileName: def.fileName });
    const catEvents = parseSse((await app.inject({ method: 'GET', url: `/api/models/downloads/${cat.json().id}/events` })).body);
    expect(catEvents.at(-1)).toMatchObject({ event: 'verified', data: { sha256: server.sha256, hashSource: 'x-linked-etag' } });
    const catalog = (await app.inject({ method: 'GET', url: '/api/models/catalog' })).json();
    expect(catalog.models.find((m: { id: string }) => m.id === def.id).installed).toBe(true);
    expect((await app.inject({ method: 'GET', url: '/api/models' })).json().models.map((m: { catalogId?: string }) => m.catalogId)).toContain(def.id);
  });

  it('sees models copied into the directory and knows which one the manager loaded', async () => {
    await copyFile(TINY_MODEL_PATH, join(dir, 'a.gguf'));
    await copyFile(TINY_MODEL_PATH, join(dir, 'b.gguf'));
    manager.loadedPath = join(dir, 'b.gguf');
    const list = (await app.inject({ method: 'GET', url: '/api/models' })).json();
    expect(list.models.map((m: { fileName: string; loaded: boolean }) => [m.fileName, m.loaded])).toEqual([
      ['a.gguf', false],
      ['b.gguf', true],
    ]);
    expect((await app.inject({ method: 'GET', url: '/api/models/catalog' })).json().models.every((m: { installed: boolean }) => !m.installed)).toBe(true);
  });
});

describe('SSE over a real socket', () => {
  async function liveApp(): Promise<{ store: ModelStore; live: FastifyInstance; base: string; id: string }> {
    const store = new ModelStore({ modelsDir: dir, download: { progressIntervalMs: 0 } });
    const live = Fastify();
    await live.register(modelsRoutes, { config: { modelsDir: dir }, manager, store, sseHeartbeatMs: 50 });
    const base = await live.listen({ host: '127.0.0.1', port: 0 });
    server.behavior.chunkDelayMs = 20;
    const start = await fetch(`${base}/api/models/downloads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 }),
    });
    expect(start.status).toBe(202);
    const { id } = (await start.json()) as { id: string };
    return { store, live, base, id };
  }

  /** Opens the event stream with node:http and resolves once `n` events arrived. */
  function openEvents(url: string, n: number): Promise<{ req: ClientRequest; text: () => string; ended: Promise<void> }> {
    return new Promise((resolve, reject) => {
      let text = '';
      let endResolve!: () => void;
      const ended = new Promise<void>((r) => (endResolve = r));
      const req = httpGet(url, (res) => {
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        res.setEncoding('utf8');
        let resolved = false;
        res.on('data', (d: string) => {
          text += d;
          if (!resolved && parseSse(text).length >= n) {
            resolved = true;
            resolve({ req, text: () => text, ended });
          }
        });
        res.on('end', endResolve);
        res.on('close', endResolve);
      });
      req.on('error', (e) => {
        endResolve();
        if (!text) reject(e);
      });
    });
  }

  it('streams events as they happen and unsubscribes when the client goes away', async () => {
    const { store, live, base, id } = await liveApp();
    try {
      const sse = await openEvents(`${base}/api/models/downloads/${id}/events`, 3);
      expect(parseSse(sse.text()).every((e) => e.event === 'progress')).toBe(true);
      expect(store.listenerCount('download')).toBe(1);
      sse.req.destroy();
      for (let i = 0; i < 50 && store.listenerCount('download') > 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(store.listenerCount('download')).toBe(0);
      expect(store.getDownload(id).state).toBe('downloading'); // the download itself goes on
    } finally {
      await live.close(); // cancels the running download
    }
    expect(store.listDownloads()[0]?.state).toBe('cancelled');
  });

  it('closing the server ends open streams with a final error event and does not hang', async () => {
    const { store, live, base, id } = await liveApp();
    const sse = await openEvents(`${base}/api/models/downloads/${id}/events`, 2);
    await live.close();
    await sse.ended;
    const last = parseSse(sse.text()).at(-1)!;
    expect(last).toMatchObject({ event: 'error', data: { state: 'cancelled', error: { code: 'aborted' } } });
    expect(store.getDownload(id).state).toBe('cancelled');
    expect(existsSync(partPathOf(join(dir, 'tiny.gguf')))).toBe(true);
  });
});

describe('loadedModelPath', () => {
  it('finds the path in common status shapes', () => {
    expect(loadedModelPath({ path: '/m/a.gguf' })).toBe('/m/a.gguf');
    expect(loadedModelPath({ modelPath: '/m/a.gguf' })).toBe('/m/a.gguf');
    expect(loadedModelPath({ model: { path: '/m/a.gguf' } })).toBe('/m/a.gguf');
    expect(loadedModelPath({ state: 'empty', path: null })).toBeUndefined();
    expect(loadedModelPath(null)).toBeUndefined();
  });
});
