// npm run bench:documents — documents indexing throughput and query latency.
// 1. Indexing: a generated corpus (--pdfs PDFs of --pages pages each, made with pdf-lib, plus as many
//    Markdown files) indexed by DocumentService with the engine's embeddings through the ModelManager (the
//    path /v1/embeddings and the server take). Reported: pages/s for the whole job (extraction, chunking,
//    embedding, writing), chunks/s embedded (embedding time alone) and the share of the job spent embedding.
// 2. Queries at --chunks chunks (default 10,000) of generated text, with random unit vectors of the model's
//    width stored in sqlite-vec: latency (p50/p95 over --queries questions) of BM25 alone (FTS5), kNN alone
//    (sqlite-vec, brute force), and the full hybrid search (the question embedded by the model, both lists,
//    RRF fusion, the hits' rows read).
//   tsx bench/documents.ts [--model bench|tiny] [--threads N] [--pdfs 10] [--pages 10] [--chunks 10000]
//                          [--queries 50] [--out docs/benchmarks/documents.md]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { configFrom } from '../src/config/index.js';
import { chunkDocument, DocumentService, extractFile, type Embedder } from '../src/documents/index.js';
import { readdirSync } from 'node:fs';
import { knn } from '../src/documents/vectors.js';
import { ftsQuery } from '../src/documents/search.js';
import { DEFAULT_MODELS_DIR, SYNTHETIC_FILES } from '../src/gguf/index.js';
import { ModelManager } from '../src/server/index.js';
import { openDatabase } from '../src/storage/index.js';
import { makePdf } from '../tests/documents/corpus.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'bench' },
    threads: { type: 'string', default: String(Math.max(1, Math.min(4, cpus().length))) },
    pdfs: { type: 'string', default: '10' },
    pages: { type: 'string', default: '10' },
    chunks: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '50' },
    out: { type: 'string', default: path.join(root, 'docs/benchmarks/documents.md') },
  },
});
const modelFile = path.join(DEFAULT_MODELS_DIR, values.model === 'tiny' ? SYNTHETIC_FILES.tiny : SYNTHETIC_FILES.bench);

// Words for generated text: a fixed pseudo-random stream so runs are comparable.
const WORDS = 'river stone budget harbour lantern invoice meadow copper ledger orchard summit glacier thunder marble velvet canyon beacon quarry falcon willow ember prairie compass anchor cobalt saffron tundra meridian parcel harvest'.split(' ');
let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const sentence = (n = 12) => {
  const w = Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]!);
  return `${w[0]!.charAt(0).toUpperCase()}${w[0]!.slice(1)} ${w.slice(1).join(' ')}.`;
};
const paragraph = (s = 5) => Array.from({ length: s }, () => sentence(8 + Math.floor(rand() * 10))).join(' ');
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;

async function main(): Promise<void> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'westfall-bench-docs-'));
  const threads = Number(values.threads);
  const config = configFrom({ WESTFALL_API_TOKEN: 'bench-token-0123456789abcdef', WESTFALL_THREADS: threads, WESTFALL_CONTEXT_SIZE: 2048, WESTFALL_DATA_DIR: tmp, WESTFALL_LOG_FILE: false });
  const manager = ModelManager.fromConfig(config);
  const status = await manager.load(modelFile);
  const modelId = status.model?.id ?? 'model';
  let embedMs = 0;
  let embedded = 0;
  const embedder: Embedder = async (texts, model) => {
    const t0 = performance.now();
    const r = await manager.embed(texts, { model });
    embedMs += performance.now() - t0;
    embedded += texts.length;
    return { embeddings: r.embeddings, modelId: r.modelId };
  };
  try {
    // 1. Indexing throughput
    const corpus = path.join(tmp, 'corpus');
    mkdirSync(corpus);
    const nPdf = Number(values.pdfs);
    const nPages = Number(values.pages);
    for (let i = 0; i < nPdf; i++) {
      writeFileSync(path.join(corpus, `doc-${i}.pdf`), await makePdf(Array.from({ length: nPages }, () => Array.from({ length: 4 }, () => paragraph(4)))));
      writeFileSync(path.join(corpus, `notes-${i}.md`), Array.from({ length: 6 }, (_, s) => `## Section ${s}\n\n${paragraph(5)}\n\n${paragraph(4)}`).join('\n\n'));
    }
    const db = openDatabase(path.join(tmp, 'westfall.db'));
    const docs = new DocumentService(db, { embedder });
    const c = docs.create('Bench');
    await docs.addPath(c.id, corpus);
    // Warm-up: the embedding context is made on the first call.
    await embedder(['warm up'], undefined);
    embedMs = 0;
    embedded = 0;
    const t0 = performance.now();
    const job = await docs.wait(docs.index(c.id).id);
    const jobMs = performance.now() - t0;
    if (job.state !== 'done') throw new Error(`index job ${job.state}: ${job.error}`);
    // Extraction and chunking alone (no embedding): what the job costs besides the model.
    const tx = performance.now();
    let xPages = 0;
    let xChunks = 0;
    for (const f of readdirSync(corpus)) {
      const pages = await extractFile(path.join(corpus, f));
      xPages += pages.length;
      xChunks += chunkDocument(pages).chunks.length;
    }
    const extractMs = performance.now() - tx;
    console.log(`extraction and chunking alone: ${xPages} pages, ${xChunks} chunks in ${extractMs.toFixed(0)} ms: ${((xPages * 1000) / extractMs).toFixed(0)} pages/s`);
    const idx = { files: job.filesTotal, pages: job.pages, chunks: job.chunksEmbedded, jobMs, embedMs, pagesPerS: (job.pages * 1000) / jobMs, chunksPerS: (embedded * 1000) / embedMs, embedShare: embedMs / jobMs };
    console.log(`indexing: ${idx.files} files, ${idx.pages} pages, ${idx.chunks} chunks in ${(jobMs / 1000).toFixed(1)} s: ${idx.pagesPerS.toFixed(1)} pages/s, ${idx.chunksPerS.toFixed(1)} chunks/s embedded (${(idx.embedShare * 100).toFixed(0)}% of the job)`);

    // 2. Queries at N chunks: generated text and random unit vectors of the model's width.
    const dims = docs.get(c.id).dimensions!;
    const big = docs.create('Big');
    const bigC = docs.store.collection(big.id);
    docs.store.setEmbedding(big.id, modelId, dims);
    const target = Number(values.chunks);
    const perFile = 100;
    for (let f = 0; f * perFile < target; f++) {
      const chunks = Array.from({ length: Math.min(perFile, target - f * perFile) }, (_, i) => {
        const text = paragraph(6);
        return { ord: i, text, heading: `Section ${i % 7}`, page: 1 + Math.floor(i / 10), start: 0, end: text.length };
      });
      const vectors = chunks.map(() => {
        const v = new Float32Array(dims).map(() => rand() - 0.5);
        const n = Math.hypot(...v);
        return v.map((x) => x / n);
      });
      docs.store.saveIndexedFile({ ...bigC, dimensions: dims }, { path: path.join(tmp, `gen-${f}.txt`), size: 0, mtimeMs: 0, hash: `h${f}`, pages: 10 }, chunks, vectors);
    }
    const count = docs.get(big.id).chunks;
    const questions = Array.from({ length: Number(values.queries) }, () => `Where is the ${WORDS[Math.floor(rand() * WORDS.length)]} ${WORDS[Math.floor(rand() * WORDS.length)]} near the ${WORDS[Math.floor(rand() * WORDS.length)]}?`);
    const time = async (fn: (q: string) => unknown): Promise<number[]> => {
      await fn(questions[0]!);
      const out: number[] = [];
      for (const q of questions) {
        const t = performance.now();
        await fn(q);
        out.push(performance.now() - t);
      }
      return out;
    };
    const qv = (await manager.embed([questions[0]!])).embeddings[0]!;
    const bm25 = await time((q) => docs.store.bm25([big.id], ftsQuery(q), 50));
    const vec = await time(() => knn(db, dims, big.id, qv, 50));
    const embedQ = await time((q) => manager.embed([q]));
    const hybrid = await time((q) => docs.search(q, { collections: [big.id], limit: 8 }));
    const row = (name: string, xs: number[]) => `| ${name} | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 95).toFixed(2)} |`;
    const lines = [row('BM25 (FTS5), top 50', bm25), row(`kNN (sqlite-vec, ${dims} dims, brute force), top 50`, vec), row('embedding the question', embedQ), row('hybrid search (embed + both lists + RRF + rows), top 8', hybrid)];
    console.log(`queries at ${count} chunks:\n${lines.join('\n')}`);
    await docs.close();
    db.close();

    const md = `# Documents: indexing and retrieval (bench/documents.ts)

Measured on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, engine threads ${threads}, model \`${path.basename(modelFile)}\`
(${modelId}, ${dims}-dimensional embeddings, synthetic weights: the speed is real, the vectors mean nothing).
The machine is shared with other work while it runs: treat the figures as orders of magnitude.
Command: \`npm run bench:documents -- ${process.argv.slice(2).join(' ')}\`

## Indexing

${idx.files} files (${nPdf} PDFs of ${nPages} pages made with pdf-lib, ${nPdf} Markdown files), ${idx.pages} pages, ${idx.chunks} chunks.

| | |
|---|---|
| whole job (list, hash, extract, chunk, embed, write) | ${(jobMs / 1000).toFixed(1)} s |
| pages/s (whole job) | ${idx.pagesPerS.toFixed(1)} |
| chunks/s embedded (embedding time alone) | ${idx.chunksPerS.toFixed(1)} |
| share of the job spent embedding | ${(idx.embedShare * 100).toFixed(0)}% |
| extraction and chunking alone (no embedding) | ${((xPages * 1000) / extractMs).toFixed(0)} pages/s (${xPages} pages, ${xChunks} chunks in ${extractMs.toFixed(0)} ms) |

Embedding is the cost: each chunk (~300 tokens) is a prompt evaluation of the model, on this machine's
CPU cores, shared with the other work. A small dedicated embedding model (tens of millions of parameters)
or a GPU makes it many times faster; extraction, chunking and writing are a few percent of the job.

## Queries at ${count.toLocaleString('en')} chunks

Latency in milliseconds over ${questions.length} generated questions (one warm-up first).

| | p50 | p95 |
|---|---|---|
${lines.join('\n')}

kNN in sqlite-vec is an exact (brute-force) scan of the collection's partition: linear in its size, ~${(pct(vec, 50) / (count / 1000)).toFixed(1)} ms per
thousand ${dims}-dimensional vectors here. The question's embedding is most of a hybrid search's time.
`;
    writeFileSync(values.out, md);
    console.log(`written ${path.relative(root, values.out)}`);
  } finally {
    await manager.close(1000);
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
