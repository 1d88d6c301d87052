// openDatabase(path): the one SQLite database of the data directory, through better-sqlite3.
// WAL journal (readers never block the writer, a crash never corrupts), foreign keys enforced, a busy
// timeout for the rare second connection (backups, a CLI command), and every pending migration applied
// in one transaction before the handle is returned.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations/index.js';
import { migrate, type Migration } from './migrate.js';

export type DB = Database.Database;

export interface OpenDatabaseOptions {
  /** Migrations to apply (default: the project's own list). */
  migrations?: readonly Migration[];
  /** Milliseconds a statement waits for a lock held by another connection (default 5000). */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

export function openDatabase(file: string, options: OpenDatabaseOptions = {}): DB {
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const db = new Database(file, { readonly: options.readonly ?? false, timeout: options.busyTimeoutMs ?? 5000 });
  try {
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      // NORMAL is durable across application crashes in WAL mode; only an OS crash can lose the last commits.
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('foreign_keys = ON');
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (!options.readonly) migrate(db, options.migrations ?? MIGRATIONS);
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}
