// Importing a GGUF from disk (POST /api/models/import, streamed body) and searching the hub
// (GET /api/models/hub/search) against a local fake hub, on a bare Fastify instance with the models plugin,
// a real listening server for the streamed uploads, and the real GGUF files of tests/helpers/models.ts.

import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ERROR_CATALOG, isWestfallError } from '../../src/errors.js';
import { MODEL_CATALOG } from '../../src/models/catalog.js';
import { modelBudget } from '../../src/models/fit.js';
import { estimateMemoryFromFileSize, quantizationFromName } from '../../src/models/hub.js';
import type { HubSearchResult } from '../../src/models/types.js';
import modelsRoutes, { type ModelManagerLike } from '../../src/server/routes/models.js';
import { fixture } from '../helpers/models.js';
import { FakeHub } from './fake-hub.js';
import { TINY_MODEL_PATH, makeTempDir } from './helpers.js';

const GiB = 2 ** 30;
const MACHINE = { totalBytes: 8 * GiB, gpuBytes: null };

class FakeManager implements ModelManagerLike {
  calls: string[] = [];
  loadedPath: string | null = null;
  async load(path: string): Promise<void> {
    this.calls.push('load');
    this.loadedPath = path;
  }
  async unload(): Promise<void> {
    this.calls.push('unload');
    this.loadedPath = null;
  }
  status(): { state: string; model: { path: string } | null } {
    return { state: this.loadedPath ? 'ready' : 'none', model: this.loadedPath ? { path: this.loadedPath } : null };
  }
}

const tiny = readFileSync(TINY_MODEL_PATH);
const hub = new FakeHub([
  {
    id: 'westfall-test/Tiny-Qwen2-GGUF',
    downloads: 100,
    files: [
      { path: 'tiny-qwen2-Q4_K_M.gguf', data: tiny },
      { path: 'tiny-qwen2-F16.gguf', size: 200 * GiB }, // listed, far too big for 8 GiB
      { path: 'tiny-qwen2-Q8_0-00001-of-00002.gguf', size: 3 * GiB },
      { path: 'tiny-qwen2-Q8_0-00002-of-00002.gguf', size: 3 * GiB },
    ],
  },
  { id: 'someone-else/Unrelated-GGUF', files: [{ path: 'other-Q4_0.gguf', size: GiB }] },
]);

let app: FastifyInstance;
let url: string;
let dir: string;
let cleanup: () => Promise<void>;
let manager: FakeManager;
let freeBytes = Number.MAX_SAFE_INTEGER;

beforeAll(async () => {
  await hub.start();
});
afterAll(async () => {
  await hub.close();
});
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  manager = new FakeManager();
  freeBytes = Number.MAX_SAFE_INTEGER;
  hub.apiStatus = undefined;
  hub.requests.length = 0;
  app = Fastify();
  app.setErrorHandler((err, _req, reply) => {
    if (isWestfallError(err)) {
      const status = (ERROR_CATALOG as Record<string, { status: number }>)[err.code]?.status ?? 500;
      return reply.code(status).send({ error: { code: err.code, message: err.message, details: err.details } });
    }
    const e = err as { statusCode?: number; code?: string; message: string };
    return reply.code(e.statusCode ?? 500).send({ error: { code: e.code, message: e.message } });
  });
  await app.register(modelsRoutes, {
    config: { modelsDir: dir, hubUrl: hub.baseUrl },
    manager,
    download: { progressIntervalMs: 0, retryDelayMs: 10, statfsImpl: async () => ({ bavail: freeBytes, bsize: 1 }), diskMarginBytes: 0 },
    machineMemory: () => MACHINE,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
});
afterEach(async () => {
  await app.close();
  await cleanup();
});

/** Uploads a file as the browser does: a streamed octet-stream body over a real connection. */
async function upload(path: string, fileName: string, query = ''): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/api/models/import?fileName=${encodeURIComponent(fileName)}${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(statSync(path).size) },
    body: createReadStream(path) as unknown as BodyInit,
    duplex: 'half',
  } as RequestInit);
  return { status: res.status, body: await res.json() };
}

const leftovers = async () => (await readdir(dir)).filter((n) => n.startsWith('.import-'));

describe('POST /api/models/import', () => {
  it('keeps a valid GGUF under its name and lists it', async () => {
    const r = await upload(TINY_MODEL_PATH, 'my-tiny.gguf');
    expect(r.status).toBe(201);
    expect(r.body.model).toMatchObject({ fileName: 'my-tiny.gguf', valid: true, architecture: 'qwen2', sizeBytes: tiny.length });
    expect(readFileSync(join(dir, 'my-tiny.gguf')).equals(tiny)).toBe(true);
    expect(await leftovers()).toEqual([]);
    const list = await (await fetch(`${url}/api/models`)).json();
    expect(list.models.map((m: { fileName: string }) => m.fileName)).toEqual(['my-tiny.gguf']);
  });

  it('refuses a file that is not GGUF with a clear message and keeps nothing', async () => {
    const r = await upload(fixture('notGguf'), 'notes.gguf');
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('invalid_model');
    expect(r.body.error.message).toBe('notes.gguf is not a usable GGUF model: it is not a GGUF model file (it does not start like one)');
    expect(r.body.error.details.reason).toMatch(/bad magic/);
    expect(r.body.error.message).not.toContain(dir); // the temporary path is not the user's business
    expect(await readdir(dir)).toEqual([]);
  });

  it.each(['truncated', 'corruptMetadata', 'corruptOffsets', 'empty'] as const)('refuses a corrupt GGUF (%s) and keeps nothing', async (name) => {
    const r = await upload(fixture(name), 'broken.gguf');
    expect(r.status).toBe(422);
    expect(r.body.error.code).toBe('invalid_model');
    expect(r.body.error.details.fileName).toBe('broken.gguf');
    expect(r.body.error.message).toMatch(/^broken\.gguf is not a usable GGUF model: the file is (empty|incomplete or damaged|damaged or of an unsupported kind)/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('does not replace an installed model unless asked to', async () => {
    await writeFile(join(dir, 'taken.gguf'), 'the old one');
    const r = await upload(TINY_MODEL_PATH, 'taken.gguf');
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'model_exists', details: { fileName: 'taken.gguf' } });
    expect(readFileSync(join(dir, 'taken.gguf'), 'utf8')).toBe('the old one');
    expect(await leftovers()).toEqual([]);

    const again = await upload(TINY_MODEL_PATH, 'taken.gguf', '&overwrite=true');
    expect(again.status).toBe(201);
    expect(readFileSync(join(dir, 'taken.gguf')).equals(tiny)).toBe(true);
  });

  it('an invalid file does not replace the installed one even with overwrite', async () => {
    await copyFile(TINY_MODEL_PATH, join(dir, 'keep.gguf'));
    const r = await upload(fixture('truncated'), 'keep.gguf', '&overwrite=true');
    expect(r.status).toBe(422);
    expect(readFileSync(join(dir, 'keep.gguf')).equals(tiny)).toBe(true);
    expect(await leftovers()).toEqual([]);
  });

  it('refuses replacing the loaded model, a file larger than the free space, bad names and non-file bodies', async () => {
    await copyFile(TINY_MODEL_PATH, join(dir, 'loaded.gguf'));
    manager.loadedPath = join(dir, 'loaded.gguf');
    expect((await upload(TINY_MODEL_PATH, 'loaded.gguf', '&overwrite=true')).body.error.code).toBe('model_in_use');

    freeBytes = 1000;
    const full = await upload(TINY_MODEL_PATH, 'big.gguf');
    expect(full.status).toBe(507);
    expect(full.body.error.code).toBe('insufficient_disk_space');
    expect(existsSync(join(dir, 'big.gguf'))).toBe(false);
    freeBytes = Number.MAX_SAFE_INTEGER;

    for (const name of ['../escape.gguf', 'model.bin', '.hidden.gguf']) {
      const r = await upload(TINY_MODEL_PATH, name);
      expect(r.status, name).toBe(400);
      expect(r.body.error.code).toBe('invalid_params');
    }
    const json = await fetch(`${url}/api/models/import?fileName=x.gguf`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    expect((await json.json()).error.code).toBe('unsupported_media_type');
    expect(await leftovers()).toEqual([]);
  });

  it('an upload cut off half-way leaves nothing behind and the server keeps serving', async () => {
    const { request } = await import('node:http');
    const port = (app.server.address() as { port: number }).port;
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/models/import?fileName=cut.gguf',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(tiny.length) },
    });
    req.on('error', () => {}); // the socket is ours to destroy
    req.write(tiny.subarray(0, 1 << 20));
    // Wait until the server has started the temporary file, then go away.
    await expect.poll(async () => (await leftovers()).length, { timeout: 30_000 }).toBe(1);
    req.destroy();
    await expect.poll(async () => (await readdir(dir)).length, { timeout: 30_000 }).toBe(0);
    expect((await upload(TINY_MODEL_PATH, 'after.gguf')).status).toBe(201);
  });
});

describe('GET /api/models/hub/search (local fake hub)', () => {
  it('lists matching repositories with their GGUF files, sizes, published hashes and fit', async () => {
    const res = await fetch(`${url}/api/models/hub/search?q=tiny-qwen2`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as HubSearchResult;
    expect(body.hubUrl).toBe(hub.baseUrl);
    expect(body.budgetBytes).toBe(modelBudget(MACHINE));
    expect(body.models.map((m) => m.repo)).toEqual(['westfall-test/Tiny-Qwen2-GGUF']);
    const [repo] = body.models;
    expect(repo!.skippedSplit).toBe(2);
    expect(repo!.files.map((f) => f.fileName)).toEqual(['tiny-qwen2-Q4_K_M.gguf', 'tiny-qwen2-F16.gguf']);
    const [small, big] = repo!.files;
    expect(small).toMatchObject({
      sizeBytes: tiny.length,
      sha256: FakeHub.sha256(tiny),
      quantization: 'Q4_K_M',
      fits: true,
      downloadable: true,
      url: `${hub.baseUrl}/westfall-test/Tiny-Qwen2-GGUF/resolve/main/tiny-qwen2-Q4_K_M.gguf`,
    });
    expect(big).toMatchObject({ sizeBytes: 200 * GiB, quantization: 'F16', fits: false });
    expect(big!.memoryBytes).toBe(estimateMemoryFromFileSize(200 * GiB, MODEL_CATALOG));
    expect(big!.memoryBytes).toBeGreaterThan(200 * GiB);
    expect(hub.requests.some((r) => r.url.startsWith('/api/models?') && r.url.includes('filter=gguf'))).toBe(true);
  });

  it('says plainly when the hub is down, and validates the query', async () => {
    hub.apiStatus = 503;
    const down = await fetch(`${url}/api/models/hub/search?q=tiny`);
    expect(down.status).toBe(502);
    expect((await down.json()).error).toMatchObject({ code: 'hub_unavailable', message: expect.stringContaining('HTTP 503') });
    const empty = await fetch(`${url}/api/models/hub/search?q=%20`);
    expect(empty.status).toBe(400);
  });

  it('reads quantizations from file names', () => {
    expect(quantizationFromName('Qwen3-8B-UD-IQ3_XXS.gguf')).toBe('IQ3_XXS');
    expect(quantizationFromName('gemma-3-4b-it-q4_k_m.gguf')).toBe('Q4_K_M');
    expect(quantizationFromName('model-bf16.gguf')).toBe('BF16');
    expect(quantizationFromName('model.gguf')).toBeUndefined();
  });
});

describe('downloads with the SHA-256 left empty', () => {
  it('takes the hash the hub publishes for one of its files', async () => {
    const fileUrl = `${hub.baseUrl}/westfall-test/Tiny-Qwen2-GGUF/resolve/main/tiny-qwen2-Q4_K_M.gguf`;
    const start = await fetch(`${url}/api/models/downloads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: fileUrl, expectedSize: tiny.length }),
    });
    expect(start.status).toBe(202);
    const { id } = await start.json();
    const done = await waitDownload(id);
    expect(done).toMatchObject({ state: 'verified', hashSource: 'option', sha256: FakeHub.sha256(tiny), fileName: 'tiny-qwen2-Q4_K_M.gguf' });
  });

  it('downloads unverified, and says so, when nobody publishes a hash', async () => {
    const { dir: other, cleanup: rmOther } = await makeTempDir();
    try {
      // The same bytes under a URL the hub's file list does not know.
      const plain = new FakeHub([{ id: 'x/y', files: [{ path: 'z.gguf', data: tiny }] }]);
      await plain.start();
      const start = await fetch(`${url}/api/models/downloads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: `${plain.baseUrl}/x/y/resolve/main/z.gguf`, fileName: 'plain.gguf' }),
      });
      expect(start.status).toBe(202);
      const done = await waitDownload((await start.json()).id);
      await plain.close();
      expect(done).toMatchObject({ state: 'verified', hashSource: 'none', sha256: FakeHub.sha256(tiny) });
      expect(existsSync(join(dir, 'plain.gguf'))).toBe(true);
    } finally {
      await rmOther();
    }
  });

  it('still refuses a wrong hash the user typed', async () => {
    const fileUrl = `${hub.baseUrl}/westfall-test/Tiny-Qwen2-GGUF/resolve/main/tiny-qwen2-Q4_K_M.gguf`;
    const start = await fetch(`${url}/api/models/downloads`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: fileUrl, sha256: 'c'.repeat(64) }),
    });
    const done = await waitDownload((await start.json()).id);
    expect(done).toMatchObject({ state: 'error', error: { code: 'checksum_mismatch' } });
  });
});

describe('DELETE /api/models/:fileName of the loaded model', () => {
  it('unloads it first instead of refusing', async () => {
    await copyFile(TINY_MODEL_PATH, join(dir, 'in-use.gguf'));
    manager.loadedPath = join(dir, 'in-use.gguf');
    const res = await fetch(`${url}/api/models/in-use.gguf`, { method: 'DELETE' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ deleted: 'in-use.gguf', unloaded: true });
    expect(manager.calls).toEqual(['unload']);
    expect(existsSync(join(dir, 'in-use.gguf'))).toBe(false);

    const missing = await fetch(`${url}/api/models/in-use.gguf`, { method: 'DELETE' });
    expect(missing.status).toBe(404);
    expect(manager.calls).toEqual(['unload']); // nothing unloaded for a file that is not there
  });
});

async function waitDownload(id: string): Promise<any> {
  for (;;) {
    const snap = await (await fetch(`${url}/api/models/downloads/${id}`)).json();
    if (snap.state !== 'downloading') return snap;
    await new Promise((r) => setTimeout(r, 25));
  }
}
