// restoreDatabase(dbFile, backupFile): replaces the database with a backup, or leaves it exactly as it was.
//
// 1. The backup is copied next to the database (a staging file: the checks below write -wal/-shm files, and
//    the user's backup must stay untouched) and checked: SQLite header, integrity_check, a schema_migrations
//    table (a Westfall database), a schema no newer than this build (storage_schema_too_new), migrations
//    applied. Any failure removes the staging file; the current database was never touched.
// 2. The current database (with its -wal, which may hold committed pages) is renamed aside with a
//    timestamp, the staging file takes its name, and it is opened and checked again in place.
// 3. If that fails, the restored file is removed and the previous one renamed back.
// The previous database stays aside afterwards (its path is returned): a restore is easy to undo.
//
// The caller must make sure nothing has the database open (see lock.ts; `westfall restore` does).
import { closeSync, copyFileSync, existsSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { WestfallError, isWestfallError } from '../errors.js';
import { openDatabase } from './database.js';
import { migrate, type Migration } from './migrate.js';
import { MIGRATIONS } from './migrations/index.js';

export interface RestoreOptions {
  migrations?: readonly Migration[];
  now?: Date;
}

export interface RestoreResult {
  dbFile: string;
  from: string;
  /** The schema version of the backup as found, and after migrating it to this build's. */
  backupVersion: number;
  schemaVersion: number;
  /** Where the replaced database was kept, or null when there was none. */
  previous: string | null;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
const SIDE_FILES = ['', '-wal', '-shm'] as const;

function invalid(file: string, why: string, cause?: unknown): WestfallError {
  return new WestfallError('backup_invalid', `${file} is not a usable Westfall backup: ${why}`, {
    details: { file, reason: why },
    ...(cause !== undefined ? { cause } : {}),
  });
}

function hasSqliteHeader(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(SQLITE_HEADER.length);
    return readSync(fd, buf, 0, buf.length, 0) === buf.length && buf.equals(SQLITE_HEADER);
  } finally {
    closeSync(fd);
  }
}

function removeWithSides(file: string): void {
  for (const s of SIDE_FILES) rmSync(file + s, { force: true });
}

function newestVersion(db: Database.Database): number {
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
  return row.v ?? 0;
}

/** Opens `file` and checks it as a database this build can use; returns its schema version before migrating. */
function checkStaged(file: string, source: string, migrations: readonly Migration[]): { before: number; after: number } {
  let raw: Database.Database;
  try {
    raw = new Database(file, { fileMustExist: true });
  } catch (err) {
    throw invalid(source, 'SQLite cannot open it', err);
  }
  let before: number;
  try {
    let check: unknown;
    try {
      check = raw.pragma('integrity_check', { simple: true });
    } catch (err) {
      throw invalid(source, `the integrity check failed (${(err as Error).message})`, err);
    }
    if (check !== 'ok') throw invalid(source, `the integrity check failed (${String(check)})`);
    const hasTable = raw.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!hasTable) throw invalid(source, 'it has no schema_migrations table (not a Westfall database)');
    before = newestVersion(raw);
    const known = migrations.length > 0 ? migrations[migrations.length - 1]!.version : 0;
    if (before > known) {
      throw new WestfallError(
        'storage_schema_too_new',
        `${source} has schema version ${before}, newer than this build knows (${known}); restore it with a newer Westfall`,
        { details: { file: source, databaseVersion: before, knownVersion: known } },
      );
    }
  } catch (err) {
    // SQLite's own complaints about a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB) on any of the reads above
    if (isWestfallError(err)) throw err;
    throw invalid(source, (err as Error).message, err);
  } finally {
    raw.close();
  }
  // The real open: WAL, foreign keys, pending migrations in one transaction.
  let db: Database.Database;
  try {
    db = openDatabase(file, { migrations });
  } catch (err) {
    if (isWestfallError(err)) throw err;
    throw new WestfallError('restore_failed', `${source} could not be migrated to this build's schema: ${(err as Error).message}`, {
      details: { file: source },
      cause: err,
    });
  }
  try {
    migrate(db, migrations); // nothing left to apply: a second look that the schema is complete
    const fk = db.pragma('foreign_key_check') as unknown[];
    if (fk.length > 0) throw invalid(source, `${fk.length} rows break foreign keys`);
    const after = newestVersion(db);
    db.pragma('wal_checkpoint(TRUNCATE)');
    return { before, after };
  } finally {
    db.close();
  }
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export function restoreDatabase(dbFile: string, backupFile: string, opts: RestoreOptions = {}): RestoreResult {
  const target = path.resolve(dbFile);
  const source = path.resolve(backupFile);
  const migrations = opts.migrations ?? MIGRATIONS;
  const ts = stamp(opts.now ?? new Date());

  if (!existsSync(source)) throw invalid(source, 'the file does not exist');
  if (source === target) throw invalid(source, 'it is the current database itself');
  let header: boolean;
  try {
    header = hasSqliteHeader(source);
  } catch (err) {
    throw invalid(source, `it cannot be read (${(err as Error).message})`, err);
  }
  if (!header) throw invalid(source, 'it is not an SQLite database');

  const staged = `${target}.restoring-${ts}`;
  removeWithSides(staged);
  let versions: { before: number; after: number };
  try {
    copyFileSync(source, staged);
    versions = checkStaged(staged, source, migrations);
  } catch (err) {
    removeWithSides(staged);
    throw err;
  }

  const previous = existsSync(target) ? `${target}.before-restore-${ts}` : null;
  const moved: string[] = [];
  const putBack = (): void => {
    removeWithSides(target);
    for (const s of moved) renameSync(previous! + s, target + s);
  };
  try {
    if (previous) {
      for (const s of SIDE_FILES) {
        if (!existsSync(target + s)) continue;
        renameSync(target + s, previous + s);
        moved.push(s);
      }
    }
    renameSync(staged, target);
    for (const s of ['-wal', '-shm']) rmSync(staged + s, { force: true });
    const check = checkStaged(target, source, migrations);
    if (check.after !== versions.after) {
      throw new WestfallError('restore_failed', `the restored database reads as schema ${check.after}, expected ${versions.after}`);
    }
  } catch (err) {
    putBack();
    removeWithSides(staged);
    if (isWestfallError(err)) throw err;
    throw new WestfallError('restore_failed', `Restoring ${source} failed (${(err as Error).message}); the current database was put back`, {
      details: { file: source },
      cause: err,
    });
  }
  return { dbFile: target, from: source, backupVersion: versions.before, schemaVersion: versions.after, previous };
}
