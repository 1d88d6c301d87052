// DocumentStore: the SQL of the documents tables (migration 010). Writes that must go together (a file's
// old chunks and vectors out, the new ones in, its hash recorded) happen in one transaction, so a crash
// mid-file leaves the previous version whole and the next job sees the file as changed.
import { WestfallError } from '../errors.js';
import type { DB } from '../storage/index.js';
import { mapSqliteError } from '../tools/errors.js';
import type { Chunk, Collection, CollectionSummary, DocFile, IndexJob, JobState, Source } from './types.js';
import { deleteVectors, insertVectors } from './vectors.js';

interface CollectionRow {
  id: number;
  name: string;
  embed_model: string | null;
  dimensions: number | null;
  watch: number;
  created_at: string;
  updated_at: string;
}
interface FileRow {
  id: number;
  collection_id: number;
  path: string;
  size: number;
  mtime_ms: number;
  hash: string | null;
  status: 'indexed' | 'failed';
  error: string | null;
  pages: number;
  chunks: number;
  indexed_at: string;
}
interface JobRow {
  id: number;
  collection_id: number;
  state: JobState;
  phase: IndexJob['phase'];
  files_total: number;
  files_done: number;
  files_skipped: number;
  files_failed: number;
  files_removed: number;
  pages: number;
  chunks_embedded: number;
  current_file: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}
export interface ChunkRow {
  id: number;
  file_id: number;
  collection_id: number;
  ord: number;
  text: string;
  heading: string | null;
  page: number | null;
  start_offset: number;
  end_offset: number;
  path: string;
}

const toCollection = (r: CollectionRow): Collection => ({
  id: r.id,
  name: r.name,
  embedModel: r.embed_model,
  dimensions: r.dimensions,
  watch: r.watch === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toFile = (r: FileRow): DocFile => ({
  id: r.id,
  collectionId: r.collection_id,
  path: r.path,
  size: r.size,
  hash: r.hash,
  status: r.status,
  error: r.error,
  pages: r.pages,
  chunks: r.chunks,
  indexedAt: r.indexed_at,
});
const toJob = (r: JobRow): IndexJob => ({
  id: r.id,
  collectionId: r.collection_id,
  state: r.state,
  phase: r.phase,
  filesTotal: r.files_total,
  filesDone: r.files_done,
  filesSkipped: r.files_skipped,
  filesFailed: r.files_failed,
  filesRemoved: r.files_removed,
  pages: r.pages,
  chunksEmbedded: r.chunks_embedded,
  currentFile: r.current_file,
  error: r.error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  finishedAt: r.finished_at,
});

export type JobPatch = Partial<Pick<IndexJob, 'state' | 'phase' | 'filesTotal' | 'filesDone' | 'filesSkipped' | 'filesFailed' | 'filesRemoved' | 'pages' | 'chunksEmbedded' | 'currentFile' | 'error' | 'finishedAt'>>;
const JOB_COLUMNS: Record<keyof JobPatch, string> = {
  state: 'state',
  phase: 'phase',
  filesTotal: 'files_total',
  filesDone: 'files_done',
  filesSkipped: 'files_skipped',
  filesFailed: 'files_failed',
  filesRemoved: 'files_removed',
  pages: 'pages',
  chunksEmbedded: 'chunks_embedded',
  currentFile: 'current_file',
  error: 'error',
  finishedAt: 'finished_at',
};

export class DocumentStore {
  readonly db: DB;
  readonly #now: () => number;

  constructor(db: DB, now: () => number = Date.now) {
    this.db = db;
    this.#now = now;
  }

  #iso(): string {
    return new Date(this.#now()).toISOString();
  }

  // Collections ------------------------------------------------------------------------------------

  createCollection(name: string, opts: { embedModel?: string | null; watch?: boolean } = {}): Collection {
    const now = this.#iso();
    try {
      const r = this.db
        .prepare('INSERT INTO doc_collections (name, embed_model, watch, created_at, updated_at) VALUES (?, ?, ?, ?, ?)')
        .run(name, opts.embedModel ?? null, opts.watch ? 1 : 0, now, now);
      return this.collection(Number(r.lastInsertRowid));
    } catch (err) {
      throw mapSqliteError(err, `a collection named "${name}"`);
    }
  }

  collection(id: number): Collection {
    const r = this.db.prepare('SELECT * FROM doc_collections WHERE id = ?').get(id) as CollectionRow | undefined;
    if (!r) throw new WestfallError('collection_not_found', `no document collection with id ${id}`, { details: { id } });
    return toCollection(r);
  }

  /** By id (a number or digits) or by name. */
  findCollection(ref: string | number): Collection {
    if (typeof ref === 'number' || /^\d+$/.test(ref)) return this.collection(Number(ref));
    const r = this.db.prepare('SELECT * FROM doc_collections WHERE name = ?').get(ref) as CollectionRow | undefined;
    if (!r) throw new WestfallError('collection_not_found', `no document collection named "${ref}"`, { details: { name: ref } });
    return toCollection(r);
  }

  collections(): Collection[] {
    return (this.db.prepare('SELECT * FROM doc_collections ORDER BY name COLLATE NOCASE').all() as CollectionRow[]).map(toCollection);
  }

  summary(c: Collection): CollectionSummary {
    const counts = this.db
      .prepare(
        `SELECT count(*) FILTER (WHERE status = 'indexed') AS files, count(*) FILTER (WHERE status = 'failed') AS failed,
                coalesce(sum(chunks), 0) AS chunks, coalesce(sum(pages), 0) AS pages FROM doc_files WHERE collection_id = ?`,
      )
      .get(c.id) as { files: number; failed: number; chunks: number; pages: number };
    return { ...c, sources: this.sources(c.id), ...counts, job: this.latestJob(c.id) };
  }

  updateCollection(id: number, patch: { name?: string; watch?: boolean }): Collection {
    const c = this.collection(id);
    try {
      this.db
        .prepare('UPDATE doc_collections SET name = ?, watch = ?, updated_at = ? WHERE id = ?')
        .run(patch.name ?? c.name, (patch.watch ?? c.watch) ? 1 : 0, this.#iso(), id);
    } catch (err) {
      throw mapSqliteError(err, `a collection named "${patch.name}"`);
    }
    return this.collection(id);
  }

  /** Records the model and width of the collection's vectors (on its first embedded file). */
  setEmbedding(id: number, model: string, dims: number): void {
    this.db.prepare('UPDATE doc_collections SET embed_model = ?, dimensions = ?, updated_at = ? WHERE id = ?').run(model, dims, this.#iso(), id);
  }

  /** Removes the collection and everything it holds: sources, files, chunks, their text index and vectors, jobs. */
  deleteCollection(id: number): void {
    const c = this.collection(id);
    this.db.transaction(() => {
      const ids = (this.db.prepare('SELECT id FROM doc_chunks WHERE collection_id = ?').all(id) as { id: number }[]).map((r) => r.id);
      deleteVectors(this.db, c.dimensions, ids);
      this.db.prepare('DELETE FROM doc_chunks WHERE collection_id = ?').run(id);
      this.db.prepare('DELETE FROM doc_collections WHERE id = ?').run(id);
    })();
  }

  // Sources ----------------------------------------------------------------------------------------

  sources(collectionId: number): Source[] {
    return (this.db.prepare('SELECT id, collection_id, path, kind FROM doc_sources WHERE collection_id = ? ORDER BY path').all(collectionId) as { id: number; collection_id: number; path: string; kind: Source['kind'] }[]).map((r) => ({
      id: r.id,
      collectionId: r.collection_id,
      path: r.path,
      kind: r.kind,
    }));
  }

  addSource(collectionId: number, p: string, kind: Source['kind']): Source {
    this.collection(collectionId);
    try {
      const r = this.db.prepare('INSERT INTO doc_sources (collection_id, path, kind, created_at) VALUES (?, ?, ?, ?)').run(collectionId, p, kind, this.#iso());
      return { id: Number(r.lastInsertRowid), collectionId, path: p, kind };
    } catch (err) {
      throw mapSqliteError(err, `${p} in this collection`);
    }
  }

  removeSource(collectionId: number, sourceId: number): void {
    const r = this.db.prepare('DELETE FROM doc_sources WHERE id = ? AND collection_id = ?').run(sourceId, collectionId);
    if (r.changes === 0) throw new WestfallError('not_found', `no source ${sourceId} in collection ${collectionId}`);
  }

  // Files and chunks -------------------------------------------------------------------------------

  files(collectionId: number): DocFile[] {
    return (this.db.prepare('SELECT * FROM doc_files WHERE collection_id = ? ORDER BY path').all(collectionId) as FileRow[]).map(toFile);
  }

  fileByPath(collectionId: number, p: string): (DocFile & { mtimeMs: number }) | null {
    const r = this.db.prepare('SELECT * FROM doc_files WHERE collection_id = ? AND path = ?').get(collectionId, p) as FileRow | undefined;
    return r ? { ...toFile(r), mtimeMs: r.mtime_ms } : null;
  }

  /** The file's mtime changed but not its content: only the stat is refreshed. */
  touchFile(id: number, size: number, mtimeMs: number): void {
    this.db.prepare('UPDATE doc_files SET size = ?, mtime_ms = ? WHERE id = ?').run(size, mtimeMs, id);
  }

  /** Replaces a file's chunks and vectors with new ones, in one transaction. */
  saveIndexedFile(
    c: Collection,
    file: { path: string; size: number; mtimeMs: number; hash: string; pages: number },
    chunks: readonly Chunk[],
    vectors: readonly Float32Array[] | null,
  ): number {
    return this.db.transaction(() => {
      const fileId = this.#upsertFile(c, file, 'indexed', null, chunks.length);
      const ins = this.db.prepare('INSERT INTO doc_chunks (file_id, collection_id, ord, text, heading, page, start_offset, end_offset) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      const rows: { chunkId: number; vector: Float32Array }[] = [];
      chunks.forEach((ch, i) => {
        const r = ins.run(fileId, c.id, ch.ord, ch.text, ch.heading, ch.page, ch.start, ch.end);
        if (vectors) rows.push({ chunkId: Number(r.lastInsertRowid), vector: vectors[i]! });
      });
      if (vectors && rows.length > 0) insertVectors(this.db, vectors[0]!.length, c.id, rows);
      return fileId;
    })();
  }

  /** Records why a file could not be indexed (its old chunks, if any, are removed: they no longer match it). */
  saveFailedFile(c: Collection, file: { path: string; size: number; mtimeMs: number; hash: string | null }, error: string): void {
    this.db.transaction(() => this.#upsertFile(c, { ...file, pages: 0 }, 'failed', error, 0))();
  }

  #upsertFile(c: Collection, file: { path: string; size: number; mtimeMs: number; hash: string | null; pages: number }, status: DocFile['status'], error: string | null, chunks: number): number {
    const existing = this.db.prepare('SELECT id FROM doc_files WHERE collection_id = ? AND path = ?').get(c.id, file.path) as { id: number } | undefined;
    if (existing) {
      this.#dropChunks(c, existing.id);
      this.db
        .prepare('UPDATE doc_files SET size = ?, mtime_ms = ?, hash = ?, status = ?, error = ?, pages = ?, chunks = ?, indexed_at = ? WHERE id = ?')
        .run(file.size, file.mtimeMs, file.hash, status, error, file.pages, chunks, this.#iso(), existing.id);
      return existing.id;
    }
    const r = this.db
      .prepare('INSERT INTO doc_files (collection_id, path, size, mtime_ms, hash, status, error, pages, chunks, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(c.id, file.path, file.size, file.mtimeMs, file.hash, status, error, file.pages, chunks, this.#iso());
    return Number(r.lastInsertRowid);
  }

  #dropChunks(c: Collection, fileId: number): void {
    const ids = (this.db.prepare('SELECT id FROM doc_chunks WHERE file_id = ?').all(fileId) as { id: number }[]).map((r) => r.id);
    deleteVectors(this.db, c.dimensions, ids);
    this.db.prepare('DELETE FROM doc_chunks WHERE file_id = ?').run(fileId);
  }

  removeFile(c: Collection, fileId: number): void {
    this.db.transaction(() => {
      this.#dropChunks(c, fileId);
      this.db.prepare('DELETE FROM doc_files WHERE id = ?').run(fileId);
    })();
  }

  chunk(id: number): ChunkRow | null {
    return (this.db.prepare('SELECT c.*, f.path FROM doc_chunks c JOIN doc_files f ON f.id = c.file_id WHERE c.id = ?').get(id) as ChunkRow | undefined) ?? null;
  }

  chunksByIds(ids: readonly number[]): Map<number, ChunkRow> {
    const out = new Map<number, ChunkRow>();
    if (ids.length === 0) return out;
    const rows = this.db
      .prepare(`SELECT c.*, f.path FROM doc_chunks c JOIN doc_files f ON f.id = c.file_id WHERE c.id IN (${ids.map(() => '?').join(',')})`)
      .all(...ids) as ChunkRow[];
    for (const r of rows) out.set(r.id, r);
    return out;
  }

  /** The chunks of a file around `ord` (for the viewer's context). */
  neighbours(fileId: number, ord: number, span = 1): ChunkRow[] {
    return this.db
      .prepare('SELECT c.*, f.path FROM doc_chunks c JOIN doc_files f ON f.id = c.file_id WHERE c.file_id = ? AND c.ord BETWEEN ? AND ? ORDER BY c.ord')
      .all(fileId, ord - span, ord + span) as ChunkRow[];
  }

  /** BM25 ranking over the FTS5 index of some collections (best first). */
  bm25(collectionIds: readonly number[], match: string, limit: number): number[] {
    if (collectionIds.length === 0 || match === '') return [];
    const rows = this.db
      .prepare(
        `SELECT c.id FROM doc_chunks_fts JOIN doc_chunks c ON c.id = doc_chunks_fts.rowid
         WHERE doc_chunks_fts MATCH ? AND c.collection_id IN (${collectionIds.map(() => '?').join(',')})
         ORDER BY bm25(doc_chunks_fts, 1.0, 0.5) LIMIT ?`,
      )
      .all(match, ...collectionIds, limit) as { id: number }[];
    return rows.map((r) => r.id);
  }

  // Jobs -------------------------------------------------------------------------------------------

  createJob(collectionId: number): IndexJob {
    const now = this.#iso();
    const r = this.db.prepare("INSERT INTO doc_jobs (collection_id, state, created_at, updated_at) VALUES (?, 'queued', ?, ?)").run(collectionId, now, now);
    return this.job(Number(r.lastInsertRowid))!;
  }

  job(id: number): IndexJob | null {
    const r = this.db.prepare('SELECT * FROM doc_jobs WHERE id = ?').get(id) as JobRow | undefined;
    return r ? toJob(r) : null;
  }

  latestJob(collectionId: number): IndexJob | null {
    const r = this.db.prepare('SELECT * FROM doc_jobs WHERE collection_id = ? ORDER BY id DESC LIMIT 1').get(collectionId) as JobRow | undefined;
    return r ? toJob(r) : null;
  }

  /** Jobs a previous process left queued or running (it stopped or crashed): they are resumed. */
  unfinishedJobs(): IndexJob[] {
    return (this.db.prepare("SELECT * FROM doc_jobs WHERE state IN ('queued', 'running') ORDER BY id").all() as JobRow[]).map(toJob);
  }

  updateJob(id: number, patch: JobPatch): IndexJob {
    const keys = Object.keys(patch) as (keyof JobPatch)[];
    if (keys.length > 0) {
      const sets = keys.map((k) => `${JOB_COLUMNS[k]} = ?`).join(', ');
      this.db.prepare(`UPDATE doc_jobs SET ${sets}, updated_at = ? WHERE id = ?`).run(...keys.map((k) => patch[k] ?? null), this.#iso(), id);
    }
    return this.job(id)!;
  }

  // Per-chat choice ---------------------------------------------------------------------------------

  chatCollections(conversationId: string): number[] {
    return (this.db.prepare('SELECT collection_id FROM doc_chat_collections WHERE conversation_id = ? ORDER BY collection_id').all(conversationId) as { collection_id: number }[]).map((r) => r.collection_id);
  }

  setChatCollections(conversationId: string, ids: readonly number[]): number[] {
    for (const id of ids) this.collection(id);
    try {
      this.db.transaction(() => {
        this.db.prepare('DELETE FROM doc_chat_collections WHERE conversation_id = ?').run(conversationId);
        const ins = this.db.prepare('INSERT OR IGNORE INTO doc_chat_collections (conversation_id, collection_id) VALUES (?, ?)');
        for (const id of ids) ins.run(conversationId, id);
      })();
    } catch (err) {
      const e = mapSqliteError(err, `conversation ${conversationId}`);
      if (e instanceof WestfallError && e.code === 'conflict') throw new WestfallError('not_found', `no conversation with id ${conversationId}`);
      throw e;
    }
    return this.chatCollections(conversationId);
  }
}
