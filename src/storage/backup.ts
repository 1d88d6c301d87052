// backupDatabase(db, dest): a consistent online copy through SQLite's backup API (better-sqlite3's
// .backup), safe while the service keeps writing. The copy is written next to `dest` and renamed into
// place, so `dest` is either the old file or a complete new one.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { DB } from './database.js';

export interface BackupResult {
  path: string;
  totalPages: number;
}

export async function backupDatabase(db: DB, dest: string): Promise<BackupResult> {
  const target = path.resolve(dest);
  mkdirSync(path.dirname(target), { recursive: true });
  const partial = `${target}.partial-${process.pid}`;
  rmSync(partial, { force: true });
  try {
    const meta = await db.backup(partial);
    renameSync(partial, target);
    return { path: target, totalPages: meta.totalPages };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/** A file name for a backup taken now: westfall-YYYYMMDD-HHMMSS.db */
export function backupFileName(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `westfall-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}.db`;
}
