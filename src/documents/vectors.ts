// Vectors in sqlite-vec: one vec0 table per width (doc_vec_<dims>), created on first use, with the
// collection as a partition key so a kNN query reads only the collections asked about. sqlite-vec is
// loaded into the connection here; other connections (backup, restore) never touch these tables.
import * as sqliteVec from 'sqlite-vec';
import type { DB } from '../storage/index.js';

const loaded = new WeakSet<DB>();

export function loadVec(db: DB): void {
  if (loaded.has(db)) return;
  sqliteVec.load(db);
  loaded.add(db);
}

export function vecTable(dims: number): string {
  if (!Number.isInteger(dims) || dims < 1 || dims > 8192) throw new Error(`bad embedding width ${dims}`);
  return `doc_vec_${dims}`;
}

export function ensureVecTable(db: DB, dims: number): string {
  loadVec(db);
  const name = vecTable(dims);
  db.exec(`CREATE VIRTUAL TABLE IF NOT EXISTS ${name} USING vec0(embedding float[${dims}] distance_metric=cosine, collection_id integer partition key)`);
  return name;
}

function exists(db: DB, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

export function insertVectors(db: DB, dims: number, collectionId: number, rows: { chunkId: number; vector: Float32Array }[]): void {
  const table = ensureVecTable(db, dims);
  const ins = db.prepare(`INSERT INTO ${table}(rowid, embedding, collection_id) VALUES (?, ?, ?)`);
  for (const r of rows) {
    if (r.vector.length !== dims) throw new Error(`embedding of width ${r.vector.length}, the collection's is ${dims}`);
    ins.run(BigInt(r.chunkId), r.vector, BigInt(collectionId));
  }
}

export function deleteVectors(db: DB, dims: number | null, chunkIds: readonly number[]): void {
  if (dims === null || chunkIds.length === 0) return;
  loadVec(db);
  const table = vecTable(dims);
  if (!exists(db, table)) return;
  const del = db.prepare(`DELETE FROM ${table} WHERE rowid = ?`);
  for (const id of chunkIds) del.run(BigInt(id));
}

/** The k nearest chunks of one collection to `query` (cosine distance, nearest first). */
export function knn(db: DB, dims: number, collectionId: number, query: Float32Array, k: number): { chunkId: number; distance: number }[] {
  loadVec(db);
  const table = vecTable(dims);
  if (!exists(db, table) || query.length !== dims) return [];
  const rows = db
    .prepare(`SELECT rowid, distance FROM ${table} WHERE embedding MATCH ? AND k = ? AND collection_id = ? ORDER BY distance`)
    .all(query, k, BigInt(collectionId)) as { rowid: number; distance: number }[];
  return rows.map((r) => ({ chunkId: Number(r.rowid), distance: r.distance }));
}
