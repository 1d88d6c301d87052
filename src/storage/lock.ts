// Who is using the database file, so that `westfall restore` never swaps it under a running backend.
//
// SQLite cannot tell: an idle connection in WAL mode holds no lock, and replacing the file under it would
// leave it writing into the old, unlinked inode (or into a -wal that no longer matches). So each process
// that opens the database (`westfall serve`, `westfall backup`) drops a marker `<db>.users/<kind>-<pid>`
// first, and `westfall restore` creates `<db>.users/restore` exclusively. Each side writes its own marker
// before it looks for the other's, so of two that start together at least one sees the other and backs
// off. A marker whose process is gone (killed, crashed) is stale and ignored.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WestfallError } from '../errors.js';

const RESTORE = 'restore';

export const usersDirOf = (dbFile: string): string => `${path.resolve(dbFile)}.users`;

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function pidOf(dir: string, name: string): number {
  if (name === RESTORE) {
    try {
      return Number(JSON.parse(readFileSync(path.join(dir, name), 'utf8')).pid);
    } catch {
      return NaN; // being written, or garbage: treated as stale
    }
  }
  return Number(/-(\d+)$/.exec(name)?.[1] ?? NaN);
}

/** Live markers other than this process's own. */
function liveMarkers(dir: string): { name: string; pid: number }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, pid: pidOf(dir, name) }))
    .filter((m) => m.pid !== process.pid && alive(m.pid));
}

/**
 * Marks the database as used by this process (`kind`: serve, backup). Refuses with database_in_use while a
 * restore runs. Returns the release function (also run at process exit).
 */
export function claimDatabaseUse(dbFile: string, kind: string): () => void {
  const dir = usersDirOf(dbFile);
  mkdirSync(dir, { recursive: true });
  const marker = path.join(dir, `${kind}-${process.pid}`);
  writeFileSync(marker, JSON.stringify({ pid: process.pid, kind, since: new Date().toISOString() }));
  const release = (): void => {
    rmSync(marker, { force: true });
    process.off('exit', release);
  };
  process.on('exit', release);
  const restore = liveMarkers(dir).find((m) => m.name === RESTORE);
  if (restore) {
    release();
    throw new WestfallError('database_in_use', `A restore of ${dbFile} is running (process ${restore.pid}); try again when it ends`, {
      details: { dbFile, pid: restore.pid, by: 'restore' },
    });
  }
  return release;
}

/**
 * Takes the restore lock: refuses with database_in_use if a backend or a backup (or another restore) uses the
 * database. Returns the release function.
 */
export function acquireRestoreLock(dbFile: string): () => void {
  const dir = usersDirOf(dbFile);
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, RESTORE);
  const body = JSON.stringify({ pid: process.pid, since: new Date().toISOString() });
  for (let tries = 0; ; tries++) {
    try {
      writeFileSync(lock, body, { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 0) throw inUse(dbFile, RESTORE, pidOf(dir, RESTORE));
      const pid = pidOf(dir, RESTORE);
      if (alive(pid)) throw inUse(dbFile, RESTORE, pid);
      rmSync(lock, { force: true }); // stale: its process is gone
    }
  }
  const release = (): void => {
    rmSync(lock, { force: true });
    process.off('exit', release);
  };
  process.on('exit', release);
  const user = liveMarkers(dir).find((m) => m.name !== RESTORE);
  if (user) {
    release();
    throw inUse(dbFile, user.name.replace(/-\d+$/, ''), user.pid);
  }
  return release;
}

function inUse(dbFile: string, by: string, pid: number): WestfallError {
  const what = by === 'serve' ? 'a running backend (westfall serve or the desktop app)' : by === RESTORE ? 'another restore' : `westfall ${by}`;
  return new WestfallError('database_in_use', `${dbFile} is in use by ${what}, process ${pid}; stop it first`, {
    details: { dbFile, pid, by },
  });
}
