// Downloads that keep going while they make progress, survive a backend restart, and resume on request.
// A real HTTP server on 127.0.0.1 cuts or stalls the transfer; backoff delays are tiny and every wait is
// for a condition, not a fixed sleep.

import { existsSync } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WestfallError, isWestfallError } from '../../src/errors.js';
import { backoffDelay, downloadModel, partPathOf } from '../../src/models/downloader.js';
import { MODEL_ERROR_HTTP_STATUS } from '../../src/models/index.js';
import { DOWNLOAD_RECORDS_DIR, ModelStore, type DownloadDefaults } from '../../src/models/store.js';
import modelsRoutes from '../../src/server/routes/models.js';
import { TestFileServer, makeTempDir, seededRandom, sha256Of } from './helpers.js';

let server: TestFileServer;
let dir: string;
let cleanup: () => Promise<void>;
const stores: ModelStore[] = [];

const FAST: DownloadDefaults = { progressIntervalMs: 0, retryDelayMs: 1, retryMaxDelayMs: 5 };

beforeAll(async () => {
  server = await new TestFileServer().start();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  ({ dir, cleanup } = await makeTempDir());
  server.reset();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await cleanup();
});

function newStore(download: DownloadDefaults = FAST): ModelStore {
  const s = new ModelStore({ modelsDir: dir, download, saveIntervalMs: 0 });
  stores.push(s);
  return s;
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const rangeStart = (range: string | undefined): number => Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1] ?? 0);

async function records(): Promise<{ id: string; status: string; bytesDownloaded: number }[]> {
  const d = join(dir, DOWNLOAD_RECORDS_DIR);
  if (!existsSync(d)) return [];
  const names = (await readdir(d)).filter((n) => n.endsWith('.json'));
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(join(d, n), 'utf8'))));
}

describe('downloads that make progress never give up', () => {
  it('completes with the right hash through 25 cuts at seeded random points, with a stall limit of 2', async () => {
    const rng = seededRandom(20);
    let cuts = 0;
    server.behavior.cutPolicy = (_start, remaining) => {
      if (cuts >= 25) return undefined;
      cuts++;
      // up to 400 KiB per response: 25 cuts stay inside the 11 MB file
      return 1 + Math.floor(rng() * Math.min(remaining - 1, 400 * 1024));
    };
    const dest = join(dir, 'model.gguf');
    const retries: number[] = [];
    const r = await downloadModel({
      url: server.fileUrl,
      dest,
      sha256: server.sha256,
      stallLimit: 2,
      retryDelayMs: 1,
      retryMaxDelayMs: 4,
      random: seededRandom(7),
      onRetry: (i) => retries.push(i.delayMs),
    });
    expect(cuts).toBe(25);
    expect(r.sha256).toBe(server.sha256);
    expect(r.resumed).toBe(true);
    expect(sha256Of(await readFile(dest))).toBe(server.sha256);
    expect(existsSync(partPathOf(dest))).toBe(false);
    const reqs = server.fileRequests;
    expect(reqs).toHaveLength(26);
    expect(retries).toHaveLength(25);
    for (const d of retries) expect(d).toBeLessThanOrEqual(4);
    for (let i = 1; i < reqs.length; i++) {
      expect(reqs[i]!.status).toBe(206);
      expect(rangeStart(reqs[i]!.range)).toBeGreaterThanOrEqual(rangeStart(reqs[i - 1]!.range));
    }
  });

  it('a server that stops sending ends in download_interrupted after stallLimit idle attempts, keeping the part', async () => {
    server.behavior.stallAt = 1024 * 1024;
    const dest = join(dir, 'model.gguf');
    const err = await downloadModel({
      url: server.fileUrl,
      dest,
      sha256: server.sha256,
      stallLimit: 3,
      idleTimeoutMs: 150,
      retryDelayMs: 1,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isWestfallError(err, 'download_interrupted')).toBe(true);
    expect((err as WestfallError).details).toMatchObject({ resumable: true, stalledAttempts: 3, bytesDownloaded: 1024 * 1024 });
    expect((await stat(partPathOf(dest))).size).toBe(1024 * 1024);
    expect(existsSync(dest)).toBe(false);
    // the last three asked for the same range and got nothing
    const last3 = server.fileRequests.slice(-3).map((q) => q.range);
    expect(last3).toEqual(['bytes=1048576-', 'bytes=1048576-', 'bytes=1048576-']);

    // the server recovers: a later call completes from the part and the whole file verifies
    server.behavior.stallAt = undefined;
    const r = await downloadModel({ url: server.fileUrl, dest, sha256: server.sha256 });
    expect(r.sha256).toBe(server.sha256);
    expect(server.fileRequests.at(-1)?.range).toBe('bytes=1048576-');
  });

  it('backoff doubles per attempt without progress, is capped, and jitters within [half, all]', () => {
    expect(backoffDelay(0, 100, 1000, () => 0)).toBe(50);
    expect(backoffDelay(0, 100, 1000, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, 100, 1000, () => 0.999999)).toBe(800);
    expect(backoffDelay(4, 100, 1000, () => 0.999999)).toBe(1000);
    expect(backoffDelay(60, 100, 1000, () => 0)).toBe(500);
    const rng = seededRandom(1);
    for (let k = 0; k < 10; k++) {
      const d = backoffDelay(k, 100, 30_000, rng);
      const ceiling = Math.min(30_000, 100 * 2 ** k);
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
  });
});

describe('download jobs survive a restart', () => {
  it('a new store on the same directory resumes an unfinished job from its .part', async () => {
    server.behavior.chunkDelayMs = 5;
    const first = newStore();
    const snap = await first.startDownload({ url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 });
    await waitFor(() => first.getDownload(snap.id).progress.bytesDownloaded > 512 * 1024, 'some progress');
    await first.close(); // what a backend shutdown does
    const part = partPathOf(join(dir, 'tiny.gguf'));
    const partSize = (await stat(part)).size;
    expect(partSize).toBeGreaterThan(0);
    expect(await records()).toMatchObject([{ id: snap.id, status: 'running' }]);

    server.behavior.chunkDelayMs = 0;
    const second = newStore();
    const recovered = await second.recover();
    expect(recovered).toMatchObject([{ id: snap.id, state: 'downloading', fileName: 'tiny.gguf' }]);
    const done = await second.wait(snap.id);
    expect(done).toMatchObject({ state: 'verified', sha256: server.sha256, resumed: true });
    expect(server.fileRequests.at(-1)?.range).toBe(`bytes=${partSize}-`);
    expect(sha256Of(await readFile(join(dir, 'tiny.gguf')))).toBe(server.sha256);
    expect(await records()).toEqual([]);
    expect(await second.recover()).toBe(await second.recover()); // once per store
  });

  it('a cancelled job is listed as resumable after a restart, not started, and resumes on request', async () => {
    server.behavior.chunkDelayMs = 5;
    const first = newStore();
    const snap = await first.startDownload({ url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 });
    await waitFor(() => first.getDownload(snap.id).progress.bytesDownloaded > 256 * 1024, 'some progress');
    const cancelled = await first.cancelDownload(snap.id);
    expect(cancelled).toMatchObject({ state: 'cancelled', resumable: true });
    await first.close();
    expect(await records()).toMatchObject([{ id: snap.id, status: 'paused' }]);
    const requestsBefore = server.fileRequests.length;

    server.behavior.chunkDelayMs = 0;
    const second = newStore();
    const [listed] = await second.recover();
    expect(listed).toMatchObject({ id: snap.id, state: 'cancelled', resumable: true });
    expect(listed!.progress.bytesDownloaded).toBe((await stat(partPathOf(join(dir, 'tiny.gguf')))).size);
    expect(server.fileRequests.length).toBe(requestsBefore); // nothing started by itself

    const resumed = await second.resumeDownload(snap.id);
    expect(resumed.state).toBe('downloading');
    const done = await second.wait(snap.id);
    expect(done).toMatchObject({ state: 'verified', sha256: server.sha256, resumed: true });
    await expect(second.resumeDownload(snap.id)).rejects.toMatchObject({ code: 'download_not_resumable' });
  });

  it('a job whose file was installed meanwhile is dropped on recovery', async () => {
    const first = newStore();
    server.behavior.chunkDelayMs = 5;
    const snap = await first.startDownload({ url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 });
    await waitFor(() => first.getDownload(snap.id).progress.bytesDownloaded > 0, 'some progress');
    await first.close();
    server.behavior.chunkDelayMs = 0;
    await downloadModel({ url: server.fileUrl, dest: join(dir, 'tiny.gguf'), sha256: server.sha256 });
    const second = newStore();
    expect(await second.recover()).toEqual([]);
    expect(await records()).toEqual([]);
  });
});

describe('POST /api/models/downloads/:id/resume', () => {
  let app: FastifyInstance;
  beforeEach(async () => {
    app = Fastify();
    app.setErrorHandler((err, _req, reply) => {
      const code = isWestfallError(err) ? err.code : 'internal_error';
      const status = (MODEL_ERROR_HTTP_STATUS as Record<string, number>)[code] ?? (code === 'invalid_params' ? 400 : 500);
      return reply.code(status).send({ error: { code, message: (err as Error).message } });
    });
    await app.register(modelsRoutes, {
      config: { modelsDir: dir },
      manager: { load: async () => undefined, unload: () => undefined, status: () => null },
      download: FAST,
    });
    await app.ready();
  });
  afterEach(async () => {
    await app.close();
  });

  const get = async (id: string) => (await app.inject({ method: 'GET', url: `/api/models/downloads/${id}` })).json();

  it('resumes a cancelled download from its part and verifies the whole file', async () => {
    server.behavior.chunkDelayMs = 5;
    const start = await app.inject({
      method: 'POST',
      url: '/api/models/downloads',
      payload: { url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 },
    });
    const { id } = start.json();
    await waitFor(async () => (await get(id)).progress.bytesDownloaded > 256 * 1024, 'some progress');
    const cancel = await app.inject({ method: 'DELETE', url: `/api/models/downloads/${id}` });
    expect(cancel.json()).toMatchObject({ state: 'cancelled', resumable: true });
    const partSize = (await stat(partPathOf(join(dir, 'tiny.gguf')))).size;

    server.behavior.chunkDelayMs = 0;
    const resume = await app.inject({ method: 'POST', url: `/api/models/downloads/${id}/resume` });
    expect(resume.statusCode).toBe(202);
    expect(resume.json()).toMatchObject({ id, download: { state: 'downloading' } });
    await waitFor(async () => (await get(id)).state !== 'downloading', 'the end of the download');
    expect(await get(id)).toMatchObject({ state: 'verified', sha256: server.sha256, resumed: true });
    expect(server.fileRequests.at(-1)?.range).toBe(`bytes=${partSize}-`);
    expect(sha256Of(await readFile(join(dir, 'tiny.gguf')))).toBe(server.sha256);

    const again = await app.inject({ method: 'POST', url: `/api/models/downloads/${id}/resume` });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('download_not_resumable');
    const unknown = await app.inject({ method: 'POST', url: '/api/models/downloads/nope/resume' });
    expect(unknown.statusCode).toBe(404);
  });

  it('a running download cannot be resumed, and one cancelled with its part discarded cannot either', async () => {
    server.behavior.chunkDelayMs = 20;
    const { id } = (
      await app.inject({
        method: 'POST',
        url: '/api/models/downloads',
        payload: { url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 },
      })
    ).json();
    const running = await app.inject({ method: 'POST', url: `/api/models/downloads/${id}/resume` });
    expect(running.statusCode).toBe(409);
    expect(running.json().error.code).toBe('download_in_progress');
    const discard = await app.inject({ method: 'DELETE', url: `/api/models/downloads/${id}?discard=true` });
    expect(discard.json()).toMatchObject({ state: 'cancelled', resumable: false });
    expect(existsSync(partPathOf(join(dir, 'tiny.gguf')))).toBe(false);
    const resume = await app.inject({ method: 'POST', url: `/api/models/downloads/${id}/resume` });
    expect(resume.statusCode).toBe(409);
    expect(resume.json().error.code).toBe('download_not_resumable');
    expect(await records()).toEqual([]);
  });
});
