// The documents library on a generated corpus (PDF, DOCX, Markdown, HTML, CSV, text, a corrupt PDF) and a
// real SQLite file: indexing counts, a changed file re-indexed alone, a deleted one removed, the corrupt PDF
// listed with its reason, a job interrupted by closing the service resumed by a new one on the same
// database, retrieval of each known fact within the top 5 (recall@5) with the right file and page cited,
// reciprocal-rank fusion over fixed vectors, the token budget, the search_documents tool, and deleting a
// collection removing its text index and vectors. The embedder here is deterministic (a fixed vector per
// keyword): the real engine's embedding path is in api.test.ts.
import { appendFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chunkDocument, DocumentService, ftsQuery, reciprocalRankFusion, selectPassages, type Embedder, type SearchHit } from '../../src/documents/index.js';
import { openDatabase, type DB } from '../../src/storage/index.js';
import { ToolRegistry } from '../../src/tools/registry.js';
import { documentTools } from '../../src/documents/index.js';
import { QUESTIONS, writeCorpus } from './corpus.js';
import { tempDir } from '../tools/helpers.js';

const KEYWORDS = ['velmora', 'harwick', 'regatta', 'ostrava', 'finch', 'wifi', 'library', 'dentist', 'zephyrine', 'telescope', 'committee', 'coffee'];

/** A fixed vector per keyword (one dimension each, plus a constant so no vector is zero). */
function keywordEmbedder(calls: string[][] = []): Embedder {
  return async (texts) => {
    calls.push(texts);
    return {
      modelId: 'keywords',
      embeddings: texts.map((t) => {
        const v = new Float32Array(KEYWORDS.length + 1);
        const low = t.toLowerCase();
        KEYWORDS.forEach((k, i) => (v[i] = low.includes(k) ? 1 : 0));
        v[KEYWORDS.length] = 0.1;
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      }),
    };
  };
}

describe('documents', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: DB;
  let dbFile: string;
  let corpus: string;
  let docs: DocumentService;

  beforeEach(async () => {
    tmp = tempDir('westfall-docs-');
    dbFile = join(tmp.dir, 'westfall.db');
    db = openDatabase(dbFile);
    corpus = join(tmp.dir, 'corpus');
    await writeCorpus(corpus);
  });
  afterEach(async () => {
    await docs?.close();
    db.close();
    tmp.cleanup();
  });

  async function indexed(calls: string[][] = []): Promise<{ id: number }> {
    docs = new DocumentService(db, { embedder: keywordEmbedder(calls) });
    const c = docs.create('Home');
    await docs.addPath(c.id, corpus);
    const job = await docs.wait(docs.index(c.id).id);
    expect(job.state).toBe('done');
    return c;
  }

  it('chunks by headings and pages with overlap; each chunk is its text slice with its offsets', () => {
    const para = (n: number) => `Sentence ${n} talks about nothing much at all, at some length. `.repeat(6).trim();
    const { text, chunks } = chunkDocument(
      [
        { page: 1, text: `# Intro\n\n${para(1)}\n\n${para(2)}\n\n${para(3)}\n\n## Details\n\n${para(4)}` },
        { page: 2, text: `${para(5)}\n\n${para(6)}` },
      ],
      { maxChars: 800, overlapChars: 120 },
    );
    for (const c of chunks) {
      expect(text.slice(c.start, c.end)).toBe(c.text);
      expect(c.text.length).toBeLessThanOrEqual(800);
    }
    expect(chunks.filter((c) => c.page === 1 && c.heading === 'Intro').length).toBeGreaterThanOrEqual(2);
    expect(chunks.some((c) => c.heading === 'Intro › Details' && c.page === 1)).toBe(true);
    // Page 2 has no heading line of its own: the last heading carries on, on its own page.
    expect(chunks.filter((c) => c.page === 2).every((c) => c.heading === 'Intro › Details')).toBe(true);
    // Within a section, consecutive chunks overlap.
    const intro = chunks.filter((c) => c.heading === 'Intro');
    expect(intro[1]!.start).toBeLessThan(intro[0]!.end);
    // Never across pages.
    const firstOfPage2 = chunks.find((c) => c.page === 2)!;
    expect(firstOfPage2.start).toBeGreaterThanOrEqual(text.indexOf(para(5)));
  });

  it('indexes the corpus: counts, the corrupt PDF listed with its reason and skipped, the model recorded', async () => {
    const c = await indexed();
    const s = docs.get(c.id);
    expect(s.files).toBe(6);
    expect(s.failed).toBe(1);
    expect(s.pages).toBe(3 + 5); // the PDF's three pages, one "page" for each other file
    expect(s.chunks).toBeGreaterThanOrEqual(6);
    expect(s.embedModel).toBe('keywords');
    expect(s.dimensions).toBe(KEYWORDS.length + 1);
    expect(s.job).toMatchObject({ state: 'done', filesTotal: 7, filesDone: 7, filesFailed: 1, filesSkipped: 0, pages: 8 });
    expect(s.job!.chunksEmbedded).toBe(s.chunks);
    const broken = docs.files(c.id).find((f) => f.path.endsWith('broken.pdf'))!;
    expect(broken.status).toBe('failed');
    expect(broken.error).toMatch(/not a readable PDF/);
    // Every chunk has a vector and an FTS row.
    expect((db.prepare('SELECT count(*) n FROM doc_vec_13').get() as { n: number }).n).toBe(s.chunks);
    expect((db.prepare("SELECT count(*) n FROM doc_chunks_fts WHERE doc_chunks_fts MATCH 'committee'").get() as { n: number }).n).toBeGreaterThan(0);
  });

  it('re-indexes only a changed file, removes a deleted one, and skips unchanged ones by hash', async () => {
    const calls: string[][] = [];
    const c = await indexed(calls);
    const before = docs.get(c.id);
    calls.length = 0;
    appendFileSync(join(corpus, 'notes.md'), '\n## Garden\n\nThe quince tree was planted by Aurelio Fenwick.\n');
    rmSync(join(corpus, 'todo.txt'));
    // Same content, new mtime: hashed, found unchanged, not embedded.
    writeFileSync(join(corpus, 'page.html'), (await import('node:fs')).readFileSync(join(corpus, 'page.html')));
    const job = await docs.wait(docs.index(c.id).id);
    expect(job).toMatchObject({ state: 'done', filesTotal: 6, filesRemoved: 1, filesSkipped: 4, filesFailed: 1 });
    const embedded = calls.flat();
    expect(embedded.length).toBeGreaterThan(0);
    expect(embedded.every((t) => !t.includes('Ostrava') && !t.includes('Velmora') && !t.includes('Okonkwo'))).toBe(true);
    expect(embedded.some((t) => t.includes('Aurelio Fenwick'))).toBe(true);
    const after = docs.get(c.id);
    expect(after.files).toBe(before.files - 1);
    const hits = (await docs.search('Who planted the quince tree?', { collections: [c.id] })).hits;
    expect(hits[0]!.fileName).toBe('notes.md');
    expect(hits[0]!.text).toContain('Aurelio Fenwick');
    expect((await docs.search('quartz telescope serial', { collections: [c.id] })).hits.some((h) => h.fileName === 'todo.txt')).toBe(false);
  });

  it('a job interrupted by closing the service is resumed by a new service on the same database', async () => {
    const many = join(tmp.dir, 'many');
    mkdirSync(many);
    for (let i = 0; i < 12; i++) writeFileSync(join(many, `note-${String(i).padStart(2, '0')}.md`), `# Note ${i}\n\nThe code word of note ${i} is word${i}x.\n`);
    // The first service's embedder stops answering after 5 files: the process "goes away" mid-index.
    let served = 0;
    let release!: () => void;
    const stuck = new Promise<void>((r) => (release = r));
    let reachedGate!: () => void;
    const atGate = new Promise<void>((r) => (reachedGate = r));
    const first = new DocumentService(db, {
      embedder: async (texts, model) => {
        if (served >= 5) {
          reachedGate();
          await stuck;
        }
        served++;
        return keywordEmbedder()(texts, model);
      },
    });
    const c = first.create('Many');
    await first.addPath(c.id, many);
    const job = first.index(c.id);
    await atGate;
    const closing = first.close();
    release();
    await closing;
    expect(first.store.job(job.id)!.state).toBe('running');
    expect(first.files(c.id).length).toBe(5);

    const calls: string[][] = [];
    docs = new DocumentService(db, { embedder: keywordEmbedder(calls) });
    const resumed = docs.start();
    expect(resumed.map((j) => j.id)).toEqual([job.id]);
    const done = await docs.wait(job.id);
    expect(done).toMatchObject({ state: 'done', filesTotal: 12, filesDone: 12, filesSkipped: 5 });
    expect(calls.flat().length).toBe(7);
    expect(docs.get(c.id).files).toBe(12);
    expect((db.prepare('SELECT count(*) n FROM doc_chunks WHERE collection_id = ?').get(c.id) as { n: number }).n).toBe(12);
  });

  it('a stopped job stays stopped; the next index() goes on from what was written', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let calls = 0;
    docs = new DocumentService(db, {
      embedder: async (texts, model) => {
        if (++calls === 2) await gate;
        return keywordEmbedder()(texts, model);
      },
    });
    const c = docs.create('Stop');
    await docs.addPath(c.id, corpus);
    const job = docs.index(c.id);
    await expect.poll(() => calls).toBe(2);
    const stopping = docs.stop(c.id);
    release();
    expect((await stopping)!.state).toBe('stopped');
    expect(docs.store.unfinishedJobs()).toEqual([]);
    const next = await docs.wait(docs.index(c.id).id);
    expect(next.id).not.toBe(job.id);
    expect(next.state).toBe('done');
    expect(next.filesSkipped).toBeGreaterThanOrEqual(1);
    expect(docs.get(c.id).files).toBe(6);
  });

  it('finds the passage with each known fact in the top 5 and cites the right file and page (recall@5)', async () => {
    const c = await indexed();
    let found = 0;
    const misses: string[] = [];
    for (const q of QUESTIONS) {
      const { hits } = await docs.search(q.question, { collections: [c.id], limit: 5 });
      const hit = hits.find((h) => h.text.includes(q.contains));
      if (hit && hit.fileName === q.file && hit.page === q.page) found++;
      else misses.push(q.question);
    }
    const recall = found / QUESTIONS.length;
    console.log(`recall@5 over ${QUESTIONS.length} questions: ${recall.toFixed(2)}${misses.length ? ` (missed: ${misses.join('; ')})` : ''}`);
    expect(misses).toEqual([]);
    expect(recall).toBe(1);
  });

  it('keyword search alone (no embedder) still answers, and says the vector side was skipped', async () => {
    const c = await indexed();
    docs.setEmbedder(null);
    const r = await docs.search('Velmora coolant boiling point', { collections: [c.id] });
    expect(r.vectorSkipped).toMatch(/no embedding model/);
    expect(r.hits[0]!.text).toContain('137 degrees');
    expect(r.hits[0]!.vectorRank).toBeNull();
  });

  it('fuses the BM25 and vector lists by reciprocal rank', async () => {
    // Pure fusion: 3 is 2nd in both lists and beats 1 (1st in one list only); ties break by best rank.
    const fused = reciprocalRankFusion([
      [1, 3, 5],
      [4, 3, 6],
    ]);
    expect(fused.map((f) => f.id).slice(0, 3)).toEqual([3, 1, 4]);
    expect(fused[0]!.ranks).toEqual([2, 2]);
    expect(fused[0]!.score).toBeCloseTo(2 / 62, 10);
    // With fixed vectors: a question whose words are not in the passage ("hygienist" is; "tooth doctor" is
    // not) is found by the vector side alone, and a passage in both lists ranks first.
    const c = await indexed();
    const viaVector = await docs.search('our tooth doctor (dentist)', { collections: [c.id], limit: 5 });
    const top = viaVector.hits[0]!;
    expect(top.fileName).toBe('page.html');
    expect(top.bm25Rank).not.toBeNull();
    expect(top.vectorRank).toBe(1);
    const vectorOnly = await docs.search('zephyrine', { collections: [c.id], limit: 50 });
    expect(vectorOnly.hits.some((h) => h.bm25Rank !== null && h.vectorRank !== null)).toBe(true);
    const scores = vectorOnly.hits.map((h) => h.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('the chat context: passages numbered within the token budget, cited by file and place', async () => {
    const c = await indexed();
    const ctx = await docs.chatContext('What is the wifi password of the cabin?', [c.id], 200);
    expect(ctx.citations.length).toBeGreaterThanOrEqual(1);
    expect(ctx.citations[0]).toMatchObject({ n: 1, fileName: 'notes.md', heading: 'Cabin notes › Internet' });
    expect(ctx.message).toContain('[1] (notes.md, Cabin notes › Internet)');
    expect(ctx.message).toContain('tangerine-otter-42');
    expect(ctx.message.length / 4).toBeLessThan(200 + 120);
    const big = await docs.chatContext('What is the wifi password of the cabin?', [c.id], 5000);
    expect(big.citations.length).toBeGreaterThan(ctx.citations.length);
    // The viewer's passage: the chunk, its neighbours, its offsets in the file's text.
    const p = docs.passage(ctx.citations[0]!.chunkId);
    expect(p.chunk.text).toContain('tangerine-otter-42');
    expect(p.before).not.toBeNull();
    // selectPassages keeps at least one passage, cut to the budget.
    const hit = { text: 'x'.repeat(4000) } as SearchHit;
    expect(selectPassages([hit], 100)[0]!.hit.text.length).toBeLessThanOrEqual(400);
    expect(ftsQuery('What is "the" AND OR NEAR( boiling point?')).toBe('"near" OR "boiling" OR "point"');
  });

  it('search_documents in the tool registry returns cited passages', async () => {
    await indexed();
    const registry = new ToolRegistry(documentTools(docs));
    const tool = registry.get('search_documents');
    expect(tool.mutates).toBe(false);
    const out = (await tool.handler(tool.input.parse({ query: 'Harwick lease signed by' }), { caller: 'model' })) as { passages: { n: number; file: string; page: number | null; text: string }[] };
    expect(out.passages[0]).toMatchObject({ n: 1, file: 'handbook.pdf', page: 3 });
    expect(out.passages[0]!.text).toContain('Imelda Quarrington');
    await expect(async () => tool.handler(tool.input.parse({ query: 'x', collection: 'Nope' }), { caller: 'model' })).rejects.toMatchObject({ code: 'collection_not_found' });
  });

  it('deleting a collection removes its files, chunks, text index rows, vectors and jobs', async () => {
    const c = await indexed();
    const other = docs.create('Other');
    await docs.addPath(other.id, join(corpus, 'notes.md'));
    await docs.wait(docs.index(other.id).id);
    await docs.delete(c.id);
    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    const left = docs.get(other.id).chunks;
    expect(count('SELECT count(*) n FROM doc_chunks')).toBe(left);
    expect(count("SELECT count(*) n FROM doc_chunks_fts WHERE doc_chunks_fts MATCH 'velmora'")).toBe(0);
    expect(count('SELECT count(*) n FROM doc_vec_13')).toBe(left);
    expect(count(`SELECT count(*) n FROM doc_files WHERE collection_id = ${c.id}`)).toBe(0);
    expect(count(`SELECT count(*) n FROM doc_jobs WHERE collection_id = ${c.id}`)).toBe(0);
    expect(() => docs.get(c.id)).toThrow(expect.objectContaining({ code: 'collection_not_found' }));
  });

  it('a watched folder is indexed again after a change (fs.watch, debounced)', async () => {
    docs = new DocumentService(db, { embedder: keywordEmbedder(), watchDebounceMs: 200 });
    const c = docs.create('Watched', { watch: true });
    const dir = join(tmp.dir, 'watched');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.md'), '# A\n\nfirst file\n');
    await docs.addPath(c.id, dir);
    await docs.wait(docs.index(c.id).id);
    expect(docs.get(c.id).files).toBe(1);
    writeFileSync(join(dir, 'b.md'), '# B\n\nThe heron nests by the mill pond.\n');
    await expect.poll(() => docs.get(c.id).files, { timeout: 60_000 }).toBe(2);
    await expect.poll(() => docs.get(c.id).job?.state, { timeout: 60_000 }).toBe('done');
  });
});
