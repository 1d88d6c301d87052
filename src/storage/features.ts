// What this SQLite build and database offer.
import type { DB } from './database.js';

/** Whether this SQLite build has the FTS5 full-text extension. */
export function hasFts5(db: DB): boolean {
  try {
    return (db.prepare("SELECT sqlite_compileoption_used('ENABLE_FTS5') AS v").get() as { v: number }).v === 1;
  } catch {
    return false;
  }
}

/** Whether a table (or virtual table) exists. */
export function tableExists(db: DB, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}
