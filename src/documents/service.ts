// DocumentService: collections, indexing jobs and retrieval over one database.
//
// Indexing is a background job per collection whose state is in doc_jobs. It lists the sources' files,
// removes the files that are gone, and for each file compares size and mtime, then the SHA-256 of its
// content, with what was indexed: only a changed file is extracted, chunked and embedded again. Each file is
// written in one transaction, so a job interrupted anywhere (stop, close, crash) loses at most the file in
// progress: a job left 'queued' or 'running' by a previous process is resumed by start(), and its rescan
// skips what was already written. A file that cannot be read is recorded as failed with the reason and the
// job goes on. Folders of a collection with `watch` on are watched (fs.watch, recursive, debounced): a
// change starts a job; since fs.watch can miss events (network drives, some editors' atomic saves), the
// "Index now" rescan is always there too.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { WestfallError, isWestfallError } from '../errors.js';
import type { DB } from '../storage/index.js';
import { chunkDocument, type ChunkOptions } from './chunk.js';
import { extractFile } from './extract.js';
import { listSourceFiles } from './scan.js';
import { contextMessage, ftsQuery, reciprocalRankFusion, selectPassages, type Passage } from './search.js';
import { DocumentStore, type ChunkRow } from './store.js';
import type { Collection, CollectionSummary, DocFile, Embedder, IndexJob, SearchHit, SearchResult, Source } from './types.js';
import { knn } from './vectors.js';

export interface DocumentServiceOptions {
  embedder?: Embedder | null;
  now?: () => number;
  chunk?: ChunkOptions;
  /** Chunks per embedding call (default 16). */
  batchSize?: number;
  /** Quiet time after a change in a watched folder before a job starts (default 2000 ms). */
  watchDebounceMs?: number;
  /** Called when a job ends badly or a watcher fails (the server logs it). */
  log?: (level: 'warn' | 'error', msg: string, data?: Record<string, unknown>) => void;
}

export interface SearchOptions {
  collections: readonly number[];
  /** Hits returned (default 8, at most 50). */
  limit?: number;
  /** Candidates taken from each list before fusion (default 50). */
  candidates?: number;
  signal?: AbortSignal;
}

export interface ChatContext {
  /** The system message with the numbered passages ('' when nothing was found). */
  message: string;
  citations: { n: number; chunkId: number; path: string; fileName: string; page: number | null; heading: string | null; start: number; end: number; text: string }[];
  vectorSkipped: string | null;
}

interface Running {
  job: IndexJob;
  abort: AbortController;
  /** 'stop': the user stopped it (state stopped); 'close': the process is going (left resumable). */
  reason: 'stop' | 'close' | null;
  done: Promise<IndexJob>;
  /** A watched folder changed while the job ran: run again after it. */
  again: boolean;
}

export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return path.isAbsolute(p) ? p : path.join(os.homedir(), p);
}

export class DocumentService extends EventEmitter<{ job: [IndexJob] }> {
  readonly store: DocumentStore;
  #embedder: Embedder | null;
  readonly #opts: DocumentServiceOptions;
  readonly #running = new Map<number, Running>();
  readonly #watchers = new Map<number, { watchers: FSWatcher[]; timer: NodeJS.Timeout | null }>();
  #closed = false;

  constructor(db: DB, options: DocumentServiceOptions = {}) {
    super();
    this.store = new DocumentStore(db, options.now);
    this.#embedder = options.embedder ?? null;
    this.#opts = options;
  }

  setEmbedder(embedder: Embedder | null): void {
    this.#embedder = embedder;
  }

  /** Resumes the jobs a previous process left unfinished and starts watching folders. */
  start(): IndexJob[] {
    const resumed: IndexJob[] = [];
    for (const job of this.store.unfinishedJobs()) {
      if (this.#running.has(job.collectionId)) continue;
      resumed.push(this.#run(job).job);
    }
    for (const c of this.store.collections()) if (c.watch) this.#watch(c.id);
    return resumed;
  }

  // Collections ------------------------------------------------------------------------------------

  list(): CollectionSummary[] {
    return this.store.collections().map((c) => this.store.summary(c));
  }

  get(id: number): CollectionSummary {
    return this.store.summary(this.store.collection(id));
  }

  create(name: string, opts: { embedModel?: string | null; watch?: boolean } = {}): CollectionSummary {
    const c = this.store.createCollection(name, opts);
    return this.store.summary(c);
  }

  update(id: number, patch: { name?: string; watch?: boolean }): CollectionSummary {
    const c = this.store.updateCollection(id, patch);
    if (c.watch) this.#watch(id);
    else this.#unwatch(id);
    return this.store.summary(c);
  }

  async delete(id: number): Promise<void> {
    this.store.collection(id);
    this.#unwatch(id);
    const r = this.#running.get(id);
    if (r) {
      r.reason = 'stop';
      r.abort.abort();
      await r.done;
    }
    this.store.deleteCollection(id);
  }

  files(id: number): DocFile[] {
    this.store.collection(id);
    return this.store.files(id);
  }

  /** Adds a folder or a file (a path starting at the home folder, `~/…`, or absolute). */
  async addPath(collectionId: number, input: string): Promise<Source> {
    this.store.collection(collectionId);
    const p = path.resolve(expandHome(input.trim()));
    let st;
    try {
      st = await stat(p);
    } catch {
      throw new WestfallError('folder_not_found', `${input} does not exist (looked for ${p})`, { details: { path: p } });
    }
    if (!st.isDirectory() && !st.isFile()) throw new WestfallError('invalid_params', `${p} is neither a folder nor a file`);
    const source = this.store.addSource(collectionId, p, st.isDirectory() ? 'folder' : 'file');
    if (this.store.collection(collectionId).watch) this.#watch(collectionId);
    return source;
  }

  removeSource(collectionId: number, sourceId: number): void {
    this.store.removeSource(collectionId, sourceId);
    if (this.store.collection(collectionId).watch) this.#watch(collectionId);
  }

  // Jobs -------------------------------------------------------------------------------------------

  /** Starts indexing the collection (or returns the job already running). */
  index(collectionId: number): IndexJob {
    this.#assertOpen();
    this.store.collection(collectionId);
    const running = this.#running.get(collectionId);
    if (running) return running.job;
    return this.#run(this.store.createJob(collectionId)).job;
  }

  job(id: number): IndexJob {
    const j = this.store.job(id);
    if (!j) throw new WestfallError('not_found', `no index job ${id}`);
    return this.#running.get(j.collectionId)?.job.id === id ? this.#running.get(j.collectionId)!.job : j;
  }

  /** Resolves with the job once it ended (at once when it is not running in this process). */
  async wait(jobId: number): Promise<IndexJob> {
    for (const r of this.#running.values()) if (r.job.id === jobId) return r.done;
    return this.job(jobId);
  }

  /** Stops the collection's job; it stays stopped (a later index() starts a new one, which skips what was done). */
  async stop(collectionId: number): Promise<IndexJob | null> {
    const r = this.#running.get(collectionId);
    if (!r) return this.store.latestJob(collectionId);
    r.reason = 'stop';
    r.abort.abort();
    return r.done;
  }

  /** Ends watchers and running jobs; the jobs stay 'running' in the database, so the next start() resumes them. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.#watchers.keys()]) this.#unwatch(id);
    const all = [...this.#running.values()];
    for (const r of all) {
      r.reason = 'close';
      r.abort.abort();
    }
    await Promise.all(all.map((r) => r.done));
  }

  #assertOpen(): void {
    if (this.#closed) throw new WestfallError('shutting_down', 'the documents service is closed');
  }

  #run(job: IndexJob): Running {
    const abort = new AbortController();
    const r: Running = { job, abort, reason: null, again: false, done: Promise.resolve(job) };
    this.#running.set(job.collectionId, r);
    r.done = this.#work(r).finally(() => {
      if (this.#running.get(job.collectionId) === r) this.#running.delete(job.collectionId);
      if (r.again && !this.#closed && r.reason === null) {
        try {
          this.index(job.collectionId);
        } catch {
          // the collection was deleted meanwhile
        }
      }
    });
    return r;
  }

  #update(r: Running, patch: Parameters<DocumentStore['updateJob']>[1]): void {
    r.job = this.store.updateJob(r.job.id, patch);
    this.emit('job', r.job);
  }

  async #work(r: Running): Promise<IndexJob> {
    const signal = r.abort.signal;
    try {
      // Counters start over: the rescan recounts what a previous run of this job already wrote as unchanged.
      this.#update(r, { state: 'running', phase: 'scan', filesDone: 0, filesSkipped: 0, filesFailed: 0, filesRemoved: 0, pages: 0, chunksEmbedded: 0, error: null });
      const c = this.store.collection(r.job.collectionId);
      const paths = await listSourceFiles(this.store.sources(c.id));
      const present = new Set(paths);
      const gone = this.store.files(c.id).filter((f) => !present.has(f.path));
      for (const f of gone) this.store.removeFile(c, f.id);
      this.#update(r, { phase: 'index', filesTotal: paths.length, filesRemoved: gone.length });
      for (const p of paths) {
        if (signal.aborted) break;
        this.#update(r, { currentFile: p });
        const outcome = await this.#indexFile(c.id, p, signal);
        if (outcome === 'aborted') break;
        const j = r.job;
        this.#update(r, {
          filesDone: j.filesDone + 1,
          filesSkipped: j.filesSkipped + (outcome.kind === 'skipped' ? 1 : 0),
          filesFailed: j.filesFailed + (outcome.kind === 'failed' ? 1 : 0),
          pages: j.pages + (outcome.kind === 'indexed' ? outcome.pages : 0),
          chunksEmbedded: j.chunksEmbedded + (outcome.kind === 'indexed' ? outcome.chunks : 0),
        });
      }
      if (signal.aborted) {
        // Closing leaves the job 'running' for the next process to resume; a stop is final.
        if (r.reason === 'stop') this.#update(r, { state: 'stopped', currentFile: null, finishedAt: new Date().toISOString() });
        return r.job;
      }
      this.#update(r, { state: 'done', phase: 'done', currentFile: null, finishedAt: new Date().toISOString() });
    } catch (err) {
      if (signal.aborted && r.reason === 'close') return r.job;
      const message = isWestfallError(err) ? err.message : `indexing failed: ${(err as Error).message}`;
      this.#opts.log?.('error', 'index job failed', { jobId: r.job.id, err: (err as Error).message });
      try {
        this.#update(r, { state: 'failed', currentFile: null, error: message, finishedAt: new Date().toISOString() });
      } catch {
        // the collection (and its job) was deleted meanwhile
      }
    }
    return r.job;
  }

  async #indexFile(collectionId: number, p: string, signal: AbortSignal): Promise<{ kind: 'indexed'; pages: number; chunks: number } | { kind: 'skipped' | 'failed' } | 'aborted'> {
    let c: Collection = this.store.collection(collectionId);
    let st;
    try {
      st = await stat(p);
    } catch {
      return { kind: 'skipped' }; // gone since the scan: the next job removes it
    }
    const existing = this.store.fileByPath(c.id, p);
    if (existing && existing.size === st.size && existing.mtimeMs === st.mtimeMs) return { kind: existing.status === 'failed' ? 'failed' : 'skipped' };
    let bytes: Buffer;
    try {
      bytes = await readFile(p);
    } catch (err) {
      this.store.saveFailedFile(c, { path: p, size: st.size, mtimeMs: st.mtimeMs, hash: null }, `cannot read the file: ${(err as Error).message}`);
      return { kind: 'failed' };
    }
    const hash = createHash('sha256').update(bytes).digest('hex');
    if (existing && existing.hash === hash) {
      this.store.touchFile(existing.id, st.size, st.mtimeMs);
      return { kind: existing.status === 'failed' ? 'failed' : 'skipped' };
    }
    const file = { path: p, size: st.size, mtimeMs: st.mtimeMs, hash };
    let pages;
    try {
      pages = await extractFile(p, bytes);
    } catch (err) {
      this.store.saveFailedFile(c, file, isWestfallError(err) ? ((err.details as { reason?: string } | undefined)?.reason ?? err.message) : (err as Error).message);
      return { kind: 'failed' };
    }
    if (signal.aborted) return 'aborted';
    const { chunks } = chunkDocument(pages, this.#opts.chunk);
    const vectors = await this.#embedChunks(c, chunks.map((ch) => (ch.heading ? `${ch.heading}\n${ch.text}` : ch.text)), signal);
    if (vectors === 'aborted') return 'aborted';
    c = this.store.collection(collectionId);
    this.store.saveIndexedFile(c, { ...file, pages: pages.length }, chunks, vectors);
    return { kind: 'indexed', pages: pages.length, chunks: chunks.length };
  }

  async #embedChunks(c: Collection, texts: string[], signal: AbortSignal): Promise<Float32Array[] | 'aborted'> {
    const embedder = this.#embedder;
    if (!embedder) throw new WestfallError('embedding_unavailable', 'no embedding model: the backend has no model manager attached');
    const out: Float32Array[] = [];
    const batch = Math.max(1, this.#opts.batchSize ?? 16);
    for (let i = 0; i < texts.length; i += batch) {
      if (signal.aborted) return 'aborted';
      let res;
      try {
        res = await embedder(texts.slice(i, i + batch), c.embedModel ?? undefined, signal);
      } catch (err) {
        if (signal.aborted) return 'aborted';
        if (isWestfallError(err) && ['model_not_loaded', 'model_not_found', 'invalid_request'].includes(err.code)) {
          throw new WestfallError('embedding_unavailable', `cannot embed with ${c.embedModel ?? 'the default model'}: ${err.message}`, { cause: err });
        }
        throw err;
      }
      if (signal.aborted) return 'aborted';
      const dims = res.embeddings[0]?.length ?? 0;
      if (c.dimensions === null) {
        this.store.setEmbedding(c.id, res.modelId, dims);
        c = this.store.collection(c.id);
      } else if (dims !== c.dimensions) {
        throw new WestfallError('embedding_unavailable', `${res.modelId} makes vectors of ${dims} numbers, the collection's have ${c.dimensions} (embedded with ${c.embedModel}): use that model`);
      }
      out.push(...res.embeddings);
    }
    return out;
  }

  // Watching ---------------------------------------------------------------------------------------

  #watch(collectionId: number): void {
    this.#unwatch(collectionId);
    if (this.#closed) return;
    const entry = { watchers: [] as FSWatcher[], timer: null as NodeJS.Timeout | null };
    const fire = () => {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = setTimeout(() => {
        entry.timer = null;
        const r = this.#running.get(collectionId);
        if (r) r.again = true;
        else {
          try {
            this.index(collectionId);
          } catch (err) {
            this.#opts.log?.('warn', 'a watched change could not start indexing', { collectionId, err: (err as Error).message });
          }
        }
      }, this.#opts.watchDebounceMs ?? 2000);
      entry.timer.unref();
    };
    for (const s of this.store.sources(collectionId)) {
      try {
        const w = watch(s.kind === 'folder' ? s.path : path.dirname(s.path), { recursive: s.kind === 'folder', persistent: false }, (_e, name) => {
          if (s.kind === 'file' && name !== null && path.join(path.dirname(s.path), String(name)) !== s.path) return;
          fire();
        });
        w.on('error', (err) => this.#opts.log?.('warn', 'a watched folder failed; use Index now to rescan', { path: s.path, err: err.message }));
        entry.watchers.push(w);
      } catch (err) {
        this.#opts.log?.('warn', 'cannot watch a folder; use Index now to rescan', { path: s.path, err: (err as Error).message });
      }
    }
    this.#watchers.set(collectionId, entry);
  }

  #unwatch(collectionId: number): void {
    const e = this.#watchers.get(collectionId);
    if (!e) return;
    if (e.timer) clearTimeout(e.timer);
    for (const w of e.watchers) w.close();
    this.#watchers.delete(collectionId);
  }

  // Retrieval --------------------------------------------------------------------------------------

  /** Hybrid search: BM25 and (when the collection has vectors and its model can embed) kNN, fused by RRF. */
  async search(question: string, opts: SearchOptions): Promise<SearchResult> {
    const t0 = performance.now();
    const collections = opts.collections.map((id) => this.store.collection(id));
    const limit = Math.min(50, Math.max(1, opts.limit ?? 8));
    const candidates = Math.max(limit, opts.candidates ?? 50);
    const bm25 = this.store.bm25(
      collections.map((c) => c.id),
      ftsQuery(question),
      candidates,
    );
    const { ids: vector, skipped } = await this.#vectorSide(question, collections, candidates, opts.signal);
    return { hits: this.hitsFor(reciprocalRankFusion([bm25, vector]).slice(0, limit)), vectorSkipped: skipped, tookMs: performance.now() - t0 };
  }

  /** Fused ids as hits, with their file and place (the fusion's order kept). */
  hitsFor(fused: readonly { id: number; score: number; ranks: (number | null)[] }[]): SearchHit[] {
    const rows = this.store.chunksByIds(fused.map((f) => f.id));
    return fused.flatMap((f) => {
      const r = rows.get(f.id);
      return r ? [toHit(r, f.score, f.ranks[0] ?? null, f.ranks[1] ?? null)] : [];
    });
  }

  async #vectorSide(question: string, collections: readonly Collection[], k: number, signal?: AbortSignal): Promise<{ ids: number[]; skipped: string | null }> {
    const embedded = collections.filter((c) => c.dimensions !== null);
    if (embedded.length === 0) return { ids: [], skipped: 'no collection has vectors yet' };
    if (!this.#embedder) return { ids: [], skipped: 'no embedding model' };
    const all: { chunkId: number; distance: number }[] = [];
    const problems: string[] = [];
    // One query vector per embedding model.
    const byModel = new Map<string, Collection[]>();
    for (const c of embedded) byModel.set(c.embedModel ?? '', [...(byModel.get(c.embedModel ?? '') ?? []), c]);
    for (const [model, cs] of byModel) {
      try {
        const { embeddings } = await this.#embedder([question], model || undefined, signal);
        for (const c of cs) all.push(...knn(this.store.db, c.dimensions!, c.id, embeddings[0]!, k));
      } catch (err) {
        problems.push(`${model}: ${(err as Error).message}`);
      }
    }
    all.sort((a, b) => a.distance - b.distance);
    return { ids: all.slice(0, k).map((r) => r.chunkId), skipped: problems.length > 0 ? `vector search unavailable (${problems.join('; ')})` : null };
  }

  /** The passages for a chat turn: the best hits within `budgetTokens`, as a system message and citations. */
  async chatContext(question: string, collections: readonly number[], budgetTokens = 1500, signal?: AbortSignal): Promise<ChatContext> {
    const res = await this.search(question, { collections, limit: 12, ...(signal ? { signal } : {}) });
    const passages: Passage[] = selectPassages(res.hits, budgetTokens);
    return {
      message: contextMessage(passages),
      citations: passages.map((p) => ({
        n: p.n,
        chunkId: p.hit.chunkId,
        path: p.hit.path,
        fileName: p.hit.fileName,
        page: p.hit.page,
        heading: p.hit.heading,
        start: p.hit.start,
        end: p.hit.end,
        text: p.hit.text,
      })),
      vectorSkipped: res.vectorSkipped,
    };
  }

  /** A chunk with its neighbours, for the viewer that opens a citation. */
  passage(chunkId: number): { chunk: SearchHit; before: string | null; after: string | null } {
    const row = this.store.chunk(chunkId);
    if (!row) throw new WestfallError('not_found', `no passage ${chunkId} (its collection may have been re-indexed)`);
    const around = this.store.neighbours(row.file_id, row.ord);
    const before = around.find((r) => r.ord === row.ord - 1);
    const after = around.find((r) => r.ord === row.ord + 1);
    return { chunk: toHit(row, 0, null, null), before: before?.text ?? null, after: after?.text ?? null };
  }
}

function toHit(r: ChunkRow, score: number, bm25Rank: number | null, vectorRank: number | null): SearchHit {
  return {
    chunkId: r.id,
    collectionId: r.collection_id,
    fileId: r.file_id,
    path: r.path,
    fileName: path.basename(r.path),
    page: r.page,
    heading: r.heading,
    start: r.start_offset,
    end: r.end_offset,
    text: r.text,
    score,
    bm25Rank,
    vectorRank,
  };
}
