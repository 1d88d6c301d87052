import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WestfallError } from '../../src/errors.js';
import {
  MODEL_CATALOG,
  catalogEntrySchema,
  getCatalogEntry,
  getDefaultCatalogEntry,
  parseCatalog,
} from '../../src/models/catalog.js';
import { partPathOf } from '../../src/models/downloader.js';
import {
  ModelStore,
  deleteInstalledModel,
  firstRunStatus,
  listInstalledModels,
  resolveModelPath,
  type DownloadEvent,
} from '../../src/models/store.js';
import { TINY_MODEL_PATH, TestFileServer, makeTempDir, sha256Of } from './helpers.js';

let server: TestFileServer;
let dir: string;
let cleanup: () => Promise<void>;

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
  await cleanup();
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof WestfallError ? e.code : 'not a WestfallError';
  }
  return undefined;
}

describe('catalog', () => {
  it('is valid, has exactly one default and no invented hashes', () => {
    expect(MODEL_CATALOG.length).toBeGreaterThanOrEqual(8);
    expect(MODEL_CATALOG.filter((e) => e.default)).toHaveLength(1);
    const def = getDefaultCatalogEntry();
    expect(def.sizeBytes).toBeLessThan(1.5e9); // a small one
    for (const e of MODEL_CATALOG) {
      expect(catalogEntrySchema.safeParse(e).success).toBe(true);
      expect(e.url).toMatch(/^https:\/\/huggingface\.co\/[^/]+\/[^/]+\/resolve\/main\/[^/]+\.gguf$/);
      expect(e.url.endsWith(`/${e.fileName}`)).toBe(true);
      expect(e.sha256 !== undefined || e.hashSource === 'x-linked-etag').toBe(true);
    }
    expect(getCatalogEntry(def.id)).toBe(def);
    expect(codeOf(() => getCatalogEntry('nope'))).toBe('invalid_params');
  });

  it('rejects catalogs with two defaults or a pinned hash source without a hash', () => {
    const [a, b] = MODEL_CATALOG;
    expect(() => parseCatalog([{ ...a, default: true }, { ...b, default: true }])).toThrow(/exactly one default/);
    expect(catalogEntrySchema.safeParse({ ...a, hashSource: 'catalog' }).success).toBe(false);
    expect(catalogEntrySchema.safeParse({ ...a, hashSource: 'catalog', sha256: 'a'.repeat(64) }).success).toBe(true);
  });
});

describe('installed models', () => {
  it('lists a model with what its GGUF header says, skipping .part files', async () => {
    await copyFile(TINY_MODEL_PATH, join(dir, 'tiny.gguf'));
    await writeFile(join(dir, 'half.gguf.part'), Buffer.alloc(1000));
    await writeFile(join(dir, 'notes.txt'), 'hello');
    await writeFile(join(dir, 'broken.gguf'), 'not a gguf at all');
    const list = await listInstalledModels(dir);
    expect(list.map((m) => m.fileName)).toEqual(['broken.gguf', 'tiny.gguf']);
    const tiny = list.find((m) => m.fileName === 'tiny.gguf')!;
    expect(tiny).toMatchObject({ valid: true, architecture: 'qwen2', path: join(dir, 'tiny.gguf') });
    expect(tiny.parameterCount).toBeGreaterThan(0);
    expect(tiny.contextLength).toBeGreaterThan(0);
    expect(typeof tiny.quantization).toBe('string');
    expect(tiny.sizeBytes).toBe(server.data.length);
    const broken = list.find((m) => m.fileName === 'broken.gguf')!;
    expect(broken.valid).toBe(false);
    expect(broken.error).toBeTruthy();
  });

  it('returns [] for a models dir that does not exist yet', async () => {
    expect(await listInstalledModels(join(dir, 'nope'))).toEqual([]);
  });

  it('deletes a model and refuses paths outside the models dir', async () => {
    const models = join(dir, 'models');
    await mkdir(models);
    const outside = join(dir, 'x.gguf');
    await writeFile(outside, 'keep me');
    await copyFile(TINY_MODEL_PATH, join(models, 'tiny.gguf'));

    for (const bad of ['../x', '../x.gguf', 'a/b.gguf', '..\\x.gguf', '/etc/passwd', '.hidden.gguf', '', 'x.gguf/..']) {
      await expect(deleteInstalledModel(models, bad)).rejects.toMatchObject({ code: 'invalid_params' });
      expect(codeOf(() => resolveModelPath(models, bad))).toBe('invalid_params');
    }
    expect(await readFile(outside, 'utf8')).toBe('keep me');

    await deleteInstalledModel(models, 'tiny.gguf');
    expect(existsSync(join(models, 'tiny.gguf'))).toBe(false);
    await expect(deleteInstalledModel(models, 'tiny.gguf')).rejects.toMatchObject({ code: 'model_not_found' });
  });

  it('firstRunStatus offers the default catalog entry until a model is installed', async () => {
    const first = await firstRunStatus(dir);
    expect(first.firstRun).toBe(true);
    expect(first.installedCount).toBe(0);
    expect(first.defaultModel.id).toBe(getDefaultCatalogEntry().id);
    expect(first.message).toContain(getDefaultCatalogEntry().name);

    await writeFile(join(dir, 'junk.gguf'), 'junk'); // an unusable file does not count
    expect((await firstRunStatus(dir)).firstRun).toBe(true);

    await copyFile(TINY_MODEL_PATH, join(dir, 'tiny.gguf'));
    const after = await firstRunStatus(dir);
    expect(after.firstRun).toBe(false);
    expect(after.installedCount).toBe(1);
  });
});

describe('ModelStore downloads', () => {
  it('downloads by id with progress events, ending verified, and lists the model', async () => {
    const store = new ModelStore({ modelsDir: dir, download: { progressIntervalMs: 0 } });
    server.behavior.chunkDelayMs = 1;
    const events: DownloadEvent[] = [];
    store.on('download', (e) => events.push(e));
    const snap = await store.startDownload({ url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 });
    expect(snap.state).toBe('downloading');
    expect(store.getDownload(snap.id).state).toBe('downloading');
    const final = await store.wait(snap.id);
    expect(final).toMatchObject({ state: 'verified', sha256: server.sha256, fileName: 'tiny.gguf' });
    expect(events.at(-1)).toMatchObject({ id: snap.id, type: 'verified' });
    const progress = events.filter((e) => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)!.download.progress.bytesDownloaded).toBe(server.data.length);
    expect(store.getDownload(snap.id).progress).toMatchObject({
      bytesDownloaded: server.data.length,
      totalBytes: server.data.length,
    });

    const list = await store.list();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ fileName: 'tiny.gguf', architecture: 'qwen2', valid: true });
    expect(sha256Of(await readFile(join(dir, 'tiny.gguf')))).toBe(server.sha256);

    // installed already → model_exists
    await expect(
      store.startDownload({ url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 }),
    ).rejects.toMatchObject({ code: 'model_exists' });
  });

  it('cancels a running download, keeps the part, and refuses a second download of the same file', async () => {
    const store = new ModelStore({ modelsDir: dir, download: { progressIntervalMs: 0 } });
    server.behavior.chunkDelayMs = 20;
    const snap = await store.startDownload({ url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 });
    await expect(
      store.startDownload({ url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 }),
    ).rejects.toMatchObject({ code: 'download_in_progress' });
    await new Promise<void>((resolve) => {
      const off = store.subscribe(snap.id, (e) => {
        if (e.download.progress.bytesDownloaded > 256 * 1024) {
          off();
          resolve();
        }
      });
    });
    const final = await store.cancelDownload(snap.id);
    expect(final.state).toBe('cancelled');
    expect(final.error?.code).toBe('aborted');
    const part = partPathOf(join(dir, 'tiny.gguf'));
    expect(existsSync(part)).toBe(true);
    expect((await store.listPartial())[0]?.fileName).toBe('tiny.gguf');

    // a new download of the same file resumes from the part
    server.behavior.chunkDelayMs = 0;
    const again = await store.startDownload({ url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 });
    const done = await store.wait(again.id);
    expect(done.state).toBe('verified');
    expect(done.resumed).toBe(true);
    expect(server.fileRequests.at(-1)?.range).toMatch(/^bytes=\d+-$/);
  });

  it('reports errors as an error event with the code, and unknown ids as download_job_not_found', async () => {
    const store = new ModelStore({ modelsDir: dir });
    const snap = await store.startDownload({ url: `${server.baseUrl}/missing.gguf`, fileName: 'm.gguf', sha256: 'a'.repeat(64) });
    const final = await store.wait(snap.id);
    expect(final.state).toBe('error');
    expect(final.error?.code).toBe('download_not_found');
    expect(codeOf(() => store.getDownload('nope'))).toBe('download_job_not_found');
    await expect(store.cancelDownload('nope')).rejects.toMatchObject({ code: 'download_job_not_found' });
    await expect(store.startDownload({ url: server.fileUrl, fileName: '../evil.gguf' })).rejects.toMatchObject({
      code: 'invalid_params',
    });
    expect(existsSync(join(dirname(dir), 'evil.gguf'))).toBe(false);
  });

  it('close() cancels running downloads', async () => {
    const store = new ModelStore({ modelsDir: dir });
    server.behavior.chunkDelayMs = 20;
    const snap = await store.startDownload({ url: server.fileUrl, fileName: 'tiny.gguf', sha256: server.sha256 });
    await store.close();
    expect(store.getDownload(snap.id).state).toBe('cancelled');
  });
});
