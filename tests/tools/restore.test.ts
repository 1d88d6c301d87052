// `westfall restore`: a backup comes back row for row; a backup taken under a writer restores consistent;
// a newer schema, a file that is no database and a corrupt one are refused with the current database
// untouched; a running backend (its marker) blocks the restore.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import { acquireRestoreLock, backupDatabase, claimDatabaseUse, openDatabase, restoreDatabase, usersDirOf } from '../../src/storage/index.js';
import { DATABASE_FILE } from '../../src/tools/index.js';
import { makeServices, tempDir } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../..');
const cleanups: (() => void)[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const c of cleanups.splice(0)) c();
});

function dataDir(): string {
  const t = tempDir('westfall-restore-');
  cleanups.push(t.cleanup);
  return t.dir;
}

/** Every row of every table, sorted, by table name. */
function dump(file: string): Record<string, string[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[];
    const out: Record<string, string[]> = {};
    for (const { name } of tables) {
      out[name] = (db.prepare(`SELECT * FROM "${name}"`).raw().all() as unknown[][])
        .map((r) => JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v)))
        .sort();
    }
    return out;
  } finally {
    db.close();
  }
}

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

function seed(dir: string): void {
  const s = makeServices(dir, { startReminders: false });
  try {
    const c = s.conversations.create({ title: 'Trip' });
    s.conversations.append(c.id, [
      { role: 'user', content: 'Where to in June?' },
      { role: 'assistant', content: 'Lisbon.' },
    ]);
    s.finance.accounts.create({ name: 'Checking', currency: 'EUR' });
    s.time.projects.create({ name: 'Westfall' });
  } finally {
    s.close();
  }
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((n) => /restoring|before-restore/.test(n));
}

async function expectCode(fn: () => unknown, code: string): Promise<void> {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(isWestfallError(err), String(err)).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

describe('restoreDatabase', () => {
  it('backup → changes → restore gives back every row of every table; the replaced database is kept aside', async () => {
    const dir = dataDir();
    seed(dir);
    const dbFile = path.join(dir, DATABASE_FILE);
    const backup = path.join(dir, 'backup.db');
    const db = openDatabase(dbFile);
    await backupDatabase(db, backup);
    db.close();
    const before = dump(backup);
    expect(before.conversations).toHaveLength(1);
    expect(before.messages).toHaveLength(2);

    // the app goes on: more rows, one deleted
    const s = makeServices(dir, { startReminders: false });
    s.finance.accounts.create({ name: 'Savings', currency: 'EUR' });
    s.conversations.delete(s.conversations.list().conversations[0]!.id);
    s.close();
    const changed = dump(dbFile);
    expect(changed).not.toEqual(before);

    const r = restoreDatabase(dbFile, backup);
    expect(dump(dbFile)).toEqual(before);
    expect(r.previous).not.toBeNull();
    expect(dump(r.previous!)).toEqual(changed);
    expect(r.schemaVersion).toBe(r.backupVersion);
    expect(existsSync(backup)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.includes('restoring'))).toEqual([]);
    // the app opens the restored database as usual
    const again = makeServices(dir, { startReminders: false });
    expect(again.finance.accounts.list().map((a) => a.name)).toEqual(['Checking']);
    again.close();
  });

  it('a backup taken while another process writes restores to a consistent state', async () => {
    const dir = dataDir();
    seed(dir);
    const dbFile = path.join(dir, DATABASE_FILE);
    // A writer in its own process: each transaction adds a conversation with exactly three messages.
    const writer = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import Database from 'better-sqlite3';
         const db = new Database(${JSON.stringify(dbFile)}, { timeout: 5000 });
         db.pragma('journal_mode = WAL');
         const conv = db.prepare('INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)');
         const msg = db.prepare("INSERT INTO messages (conversation_id, seq, role, content, created_at) VALUES (?, ?, 'user', ?, ?)");
         const add = db.transaction((n) => {
           const id = 'w' + n, now = Date.now();
           conv.run(id, 'writer ' + n, now, now);
           for (let k = 0; k < 3; k++) msg.run(id, k, 'message ' + k + ' '.repeat(200), now);
         });
         let n = 0;
         const tick = () => { add(n++); if (n % 20 === 0) process.stdout.write(n + '\\n'); setTimeout(tick, 1); };
         tick();`,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(writer);
    let written = 0;
    writer.stdout!.on('data', (b: Buffer) => (written = Math.max(written, ...b.toString().trim().split('\n').map(Number))));
    const waitWritten = async (n: number): Promise<void> => {
      const end = Date.now() + 30_000;
      while (written < n) {
        if (Date.now() > end || writer.exitCode !== null) throw new Error(`writer stalled at ${written}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await waitWritten(100);
    const atStart = written;
    const db = openDatabase(dbFile);
    const backup = path.join(dir, 'during.db');
    await backupDatabase(db, backup);
    db.close();
    await waitWritten(atStart + 20); // the writer kept going during and after the backup
    writer.kill('SIGKILL');

    const target = dataDir();
    seed(target);
    const r = restoreDatabase(path.join(target, DATABASE_FILE), backup);
    const restored = new Database(r.dbFile, { readonly: true });
    try {
      expect(restored.pragma('integrity_check', { simple: true })).toBe('ok');
      const counts = restored
        .prepare("SELECT c.id, COUNT(m.id) AS n FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id WHERE c.id LIKE 'w%' GROUP BY c.id")
        .all() as { id: string; n: number }[];
      expect(counts.length).toBeGreaterThanOrEqual(100);
      expect(counts.filter((c) => c.n !== 3)).toEqual([]); // no half transaction
    } finally {
      restored.close();
    }
  });

  it('refuses a backup from a newer schema with a typed error, the current database untouched', async () => {
    const dir = dataDir();
    seed(dir);
    const dbFile = path.join(dir, DATABASE_FILE);
    const backup = path.join(dir, 'future.db');
    const db = openDatabase(dbFile);
    await backupDatabase(db, backup);
    db.close();
    const future = new Database(backup);
    future.prepare("INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')").run();
    future.close();

    const hash = sha(dbFile);
    const rows = dump(dbFile);
    await expectCode(() => restoreDatabase(dbFile, backup), 'storage_schema_too_new');
    let details: unknown;
    try {
      restoreDatabase(dbFile, backup);
    } catch (e) {
      details = (e as { details?: unknown }).details;
    }
    expect(details).toMatchObject({ databaseVersion: 999 });
    expect(sha(dbFile)).toBe(hash);
    expect(dump(dbFile)).toEqual(rows);
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses a file that is not a database, and a corrupt database, the current database untouched', async () => {
    const dir = dataDir();
    seed(dir);
    const dbFile = path.join(dir, DATABASE_FILE);
    const hash = sha(dbFile);

    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'not a database at all\n'.repeat(100));
    await expectCode(() => restoreDatabase(dbFile, text), 'backup_invalid');
    await expectCode(() => restoreDatabase(dbFile, path.join(dir, 'missing.db')), 'backup_invalid');

    // a real backup with its pages after the first overwritten
    const backup = path.join(dir, 'corrupt.db');
    const db = openDatabase(dbFile);
    await backupDatabase(db, backup);
    db.close();
    const bytes = readFileSync(backup);
    const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
    for (let i = pageSize; i < bytes.length; i += 7) bytes[i] = (i * 31) & 0xff;
    writeFileSync(backup, bytes);
    await expectCode(() => restoreDatabase(dbFile, backup), 'backup_invalid');

    // an SQLite file that is not a Westfall database
    const other = path.join(dir, 'other.db');
    const o = new Database(other);
    o.exec('CREATE TABLE t (x)');
    o.close();
    await expectCode(() => restoreDatabase(dbFile, other), 'backup_invalid');

    expect(sha(dbFile)).toBe(hash);
    expect(leftovers(dir)).toEqual([]);
  });
});

describe('who may use the database', () => {
  it('a restore refuses while a live backend has its marker, and a backend refuses while a restore runs', async () => {
    const dir = dataDir();
    const dbFile = path.join(dir, DATABASE_FILE);
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(sleeper);
    const users = usersDirOf(dbFile);
    // what `westfall serve` in another process leaves while it runs
    (await import('node:fs')).mkdirSync(users, { recursive: true });
    writeFileSync(path.join(users, `serve-${sleeper.pid}`), '{}');
    await expectCode(() => acquireRestoreLock(dbFile), 'database_in_use');
    expect(existsSync(path.join(users, 'restore'))).toBe(false);

    sleeper.kill('SIGKILL');
    await new Promise<void>((r) => (sleeper.exitCode !== null || sleeper.signalCode !== null ? r() : sleeper.once('exit', () => r())));
    const release = acquireRestoreLock(dbFile); // the marker is stale now
    // a restore by another process blocks a backend from starting
    const lockBody = readFileSync(path.join(users, 'restore'), 'utf8');
    expect(JSON.parse(lockBody).pid).toBe(process.pid);
    release();
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    children.push(other);
    writeFileSync(path.join(users, 'restore'), JSON.stringify({ pid: other.pid }));
    await expectCode(() => claimDatabaseUse(dbFile, 'serve'), 'database_in_use');
    expect(readdirSync(users)).not.toContain(`serve-${process.pid}`); // the refused claim left no marker
  });

  it('westfall restore FILE restores, and refuses with exit code 1 and the error code', async () => {
    const dir = dataDir();
    seed(dir);
    const dbFile = path.join(dir, DATABASE_FILE);
    const backup = path.join(dir, 'b.db');
    const db = openDatabase(dbFile);
    await backupDatabase(db, backup);
    db.close();
    const before = dump(backup);
    const s = makeServices(dir, { startReminders: false });
    s.finance.accounts.create({ name: 'Later', currency: 'EUR' });
    s.close();

    const run = (file: string) =>
      spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/index.ts'), 'restore', file, '--data-dir', dir], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, WESTFALL_LOG_LEVEL: 'silent' },
      });
    const ok = run(backup);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/Restored .*b\.db/);
    expect(ok.stdout).toMatch(/previous database is kept at .*before-restore/);
    expect(dump(dbFile)).toEqual(before);
    expect(readdirSync(usersDirOf(dbFile))).toEqual([]); // the lock was released

    const junk = path.join(dir, 'junk.db');
    writeFileSync(junk, 'junk');
    const hash = sha(dbFile);
    const bad = run(junk);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/backup_invalid/);
    expect(sha(dbFile)).toBe(hash);
  });
});
