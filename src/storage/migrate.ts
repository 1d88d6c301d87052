// Versioned migrations. Each migration has a version (strictly increasing), a name and either SQL or a
// function; `schema_migrations` records what was applied. Every pending migration runs inside one
// transaction: either the database moves to the newest schema or it stays exactly as it was.
import { WestfallError } from '../errors.js';
import type { DB } from './database.js';

export interface Migration {
  version: number;
  name: string;
  up: string | ((db: DB) => void);
}

export interface AppliedMigration {
  version: number;
  name: string;
  appliedAt: string;
}

export function appliedMigrations(db: DB): AppliedMigration[] {
  ensureTable(db);
  return (db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all() as {
    version: number;
    name: string;
    applied_at: string;
  }[]).map((r) => ({ version: r.version, name: r.name, appliedAt: r.applied_at }));
}

function ensureTable(db: DB): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
  )`);
}

/** Applies the pending migrations in one transaction; returns the versions applied. */
export function migrate(db: DB, migrations: readonly Migration[]): number[] {
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version <= migrations[i - 1]!.version) {
      throw new WestfallError('internal_error', `migration versions must increase: ${migrations[i]!.version} after ${migrations[i - 1]!.version}`);
    }
  }
  ensureTable(db);
  const done = new Set(appliedMigrations(db).map((m) => m.version));
  const newest = Math.max(0, ...done);
  const known = migrations.length > 0 ? migrations[migrations.length - 1]!.version : 0;
  if (newest > known) {
    throw new WestfallError(
      'storage_schema_too_new',
      `the database has schema version ${newest}, newer than this build knows (${known}); use a newer Westfall`,
      { details: { databaseVersion: newest, knownVersion: known } },
    );
  }
  const pending = migrations.filter((m) => !done.has(m.version));
  if (pending.length === 0) return [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name) VALUES (?, ?)');
  db.transaction(() => {
    for (const m of pending) {
      if (typeof m.up === 'string') db.exec(m.up);
      else m.up(db);
      record.run(m.version, m.name);
    }
  }).immediate();
  return pending.map((m) => m.version);
}
