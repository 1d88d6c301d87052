// /api/documents end to end on the real engine: the tiny synthetic model (tests/helpers/models.ts) embeds
// the generated corpus through the model manager (the path /v1/embeddings takes), so the vectors are
// meaningless but real: their shape (the model's 64 numbers, one per chunk, in sqlite-vec), the speed, and
// the whole HTTP surface (create with a folder, job progress, files with the failed one's reason, search
// with citations, chat context, the viewer's passage, the per-chat choice, delete) and its typed errors.
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelManager } from '../../src/server/index.js';
import type { ToolServices } from '../../src/tools/index.js';
import { TINY_MODEL, testConfig } from '../server/helpers.js';
import { json, makeApp, makeServices, tempDir } from '../tools/helpers.js';
import { QUESTIONS, writeCorpus } from './corpus.js';

const T = 240_000;

describe('/api/documents with the real engine', () => {
  const tmp = tempDir('westfall-docs-api-');
  let services: ToolServices;
  let manager: ModelManager;
  let app: FastifyInstance;
  const corpus = join(tmp.dir, 'corpus');

  beforeAll(async () => {
    await writeCorpus(corpus);
    manager = ModelManager.fromConfig(testConfig({ WESTFALL_DATA_DIR: tmp.dir }));
    await manager.load(TINY_MODEL);
    services = makeServices(tmp.dir, { startReminders: false });
    app = await makeApp(services, { manager });
  }, T);

  afterAll(async () => {
    await app?.close();
    services?.close();
    await manager?.close(1000);
    tmp.cleanup();
  }, T);

  const inject = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}) });
    return { status: res.statusCode, body: json(res) };
  };

  it(
    'indexes a folder through the model manager: vectors of the model\'s width, progress, failures listed, search and citations',
    async () => {
      const t0 = performance.now();
      const created = await inject('POST', '/api/documents/collections', { name: 'Home', paths: [corpus] });
      expect(created.status).toBe(201);
      const id = created.body.collection.id as number;
      expect(created.body.job.state).toMatch(/queued|running/);
      const jobId = created.body.job.id as number;
      const seen = new Set<number>();
      await expect
        .poll(
          async () => {
            const j = (await inject('GET', `/api/documents/jobs/${jobId}`)).body.job;
            seen.add(j.filesDone);
            return j.state;
          },
          { timeout: 120_000, interval: 20 },
        )
        .toBe('done');
      const ms = performance.now() - t0;
      const { body } = await inject('GET', `/api/documents/collections/${id}`);
      expect(body.collection).toMatchObject({ name: 'Home', embedModel: 'tiny-qwen2', dimensions: 64, files: 6, failed: 1, pages: 8 });
      expect(body.collection.job).toMatchObject({ state: 'done', filesTotal: 7, filesDone: 7, filesFailed: 1 });
      const chunks = body.collection.chunks as number;
      console.log(`real engine: ${chunks} chunks of 8 pages indexed and embedded in ${ms.toFixed(0)} ms (${((chunks * 1000) / ms).toFixed(1)} chunks/s)`);
      const failed = (body.files as { path: string; status: string; error: string }[]).filter((f) => f.status === 'failed');
      expect(failed).toHaveLength(1);
      expect(failed[0]!.path).toMatch(/broken\.pdf$/);
      expect(failed[0]!.error).toMatch(/not a readable PDF/);
      // One 64-wide vector per chunk, unit length (the engine's mean-pooled, L2-normalized embeddings).
      const n = (services.db.prepare('SELECT count(*) n FROM doc_vec_64').get() as { n: number }).n;
      expect(n).toBe(chunks);

      const search = await inject('POST', '/api/documents/search', { query: QUESTIONS[0]!.question, collections: [id], limit: 5 });
      expect(search.status).toBe(200);
      expect(search.body.vectorSkipped).toBeNull();
      expect(search.body.hits.some((h: { vectorRank: number | null }) => h.vectorRank !== null)).toBe(true);
      const answer = search.body.hits.find((h: { text: string }) => h.text.includes(QUESTIONS[0]!.contains));
      expect(answer).toMatchObject({ fileName: 'handbook.pdf', page: 2 });
      expect(search.body.tookMs).toBeLessThan(30_000);

      const ctx = await inject('POST', '/api/documents/context', { query: 'What is the serial number of the quartz telescope?', collections: [id], budgetTokens: 400 });
      expect(ctx.body.citations.find((c: { fileName: string }) => c.fileName === 'todo.txt')).toBeTruthy();
      expect(ctx.body.message).toMatch(/\[1\] \(/);
      const passage = await inject('GET', `/api/documents/passages/${ctx.body.citations[0].chunkId}`);
      expect(passage.body.chunk.text).toBe(ctx.body.citations[0].text);

      // The per-chat choice of collections (a saved conversation).
      const conv = services.conversations.create({ title: 'Docs chat' });
      expect((await inject('PUT', `/api/documents/chats/${conv.id}/collections`, { collections: [id] })).body.collections).toEqual([id]);
      expect((await inject('GET', `/api/documents/chats/${conv.id}/collections`)).body.collections).toEqual([id]);

      // Indexing again: nothing changed, nothing embedded.
      const again = await inject('POST', `/api/documents/collections/${id}/index`);
      expect(again.status).toBe(202);
      await expect.poll(async () => (await inject('GET', `/api/documents/jobs/${again.body.job.id}`)).body.job.state, { timeout: 60_000 }).toBe('done');
      expect((await inject('GET', `/api/documents/jobs/${again.body.job.id}`)).body.job).toMatchObject({ filesSkipped: 6, filesFailed: 1, chunksEmbedded: 0 });

      expect((await inject('DELETE', `/api/documents/collections/${id}`)).status).toBe(200);
      expect((services.db.prepare('SELECT count(*) n FROM doc_vec_64').get() as { n: number }).n).toBe(0);
      expect((await inject('GET', `/api/documents/chats/${conv.id}/collections`)).body.collections).toEqual([]);
    },
    T,
  );

  it('typed errors: unknown collection, a folder that does not exist (nothing kept), bad bodies, duplicate names', async () => {
    const missing = await inject('GET', '/api/documents/collections/9999');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('collection_not_found');
    const nofolder = await inject('POST', '/api/documents/collections', { name: 'Ghost', paths: [join(tmp.dir, 'nope')] });
    expect(nofolder.status).toBe(404);
    expect(nofolder.body.error.code).toBe('folder_not_found');
    expect((await inject('GET', '/api/documents/collections')).body.collections.some((c: { name: string }) => c.name === 'Ghost')).toBe(false);
    const bad = await inject('POST', '/api/documents/search', { query: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect((await inject('POST', '/api/documents/collections', { name: 'Twice' })).status).toBe(201);
    const dup = await inject('POST', '/api/documents/collections', { name: 'Twice' });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('conflict');
    const chat = await inject('PUT', '/api/documents/chats/no-such-chat/collections', { collections: [] });
    expect(chat.status).toBe(200);
    const chatBad = await inject('PUT', '/api/documents/chats/no-such-chat/collections', { collections: [424242] });
    expect(chatBad.body.error.code).toBe('collection_not_found');
  });
});
