import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import { appliedMigrations, backupDatabase, ConversationStore, ftsQuery, MIGRATIONS, openDatabase, type DB, type Migration } from '../../src/storage/index.js';
import { tempDir } from './helpers.js';

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
function fresh(): { dir: string; db: DB; file: string } {
  const t = tempDir();
  const file = join(t.dir, 'westfall.db');
  const db = openDatabase(file);
  cleanups.push(() => {
    if (db.open) db.close();
    t.cleanup();
  });
  return { dir: t.dir, db, file };
}

describe('openDatabase', () => {
  it('uses WAL, enforces foreign keys, sets a busy timeout and records every migration', () => {
    const { db } = fresh();
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(appliedMigrations(db).map((m) => m.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('applies nothing on reopen and keeps the data', () => {
    const { db, file } = fresh();
    db.prepare("INSERT INTO fin_categories (name, kind, created_at) VALUES ('Food', 'expense', 1)").run();
    db.close();
    const again = openDatabase(file);
    expect(appliedMigrations(again)).toHaveLength(MIGRATIONS.length);
    expect(again.prepare('SELECT name FROM fin_categories').all()).toEqual([{ name: 'Food' }]);
    again.close();
  });

  it('applies pending migrations in one transaction: a failing one leaves the database as it was', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, 'm.db');
    const base: Migration[] = [{ version: 1, name: 'one', up: 'CREATE TABLE a (x INTEGER)' }];
    openDatabase(file, { migrations: base }).close();
    const broken: Migration[] = [
      ...base,
      { version: 2, name: 'two', up: 'CREATE TABLE b (x INTEGER)' },
      { version: 3, name: 'three', up: 'THIS IS NOT SQL' },
    ];
    expect(() => openDatabase(file, { migrations: broken })).toThrow();
    const raw = new Database(file);
    expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'b'").get()).toBeUndefined();
    expect(raw.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: 1 }]);
    raw.close();
  });

  it('refuses a database written by a newer schema', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, 'new.db');
    openDatabase(file, { migrations: [{ version: 1, name: 'a', up: 'SELECT 1' }, { version: 9, name: 'future', up: 'SELECT 1' }] }).close();
    try {
      openDatabase(file, { migrations: [{ version: 1, name: 'a', up: 'SELECT 1' }] });
      expect.unreachable();
    } catch (err) {
      expect(isWestfallError(err, 'storage_schema_too_new')).toBe(true);
    }
  });

  it('backupDatabase writes a consistent copy while the source stays open', async () => {
    const { db, dir } = fresh();
    const store = new ConversationStore(db);
    const c = store.create({ title: 'kept' });
    store.append(c.id, [{ role: 'user', content: 'hello backup' }]);
    const dest = join(dir, 'backups', 'copy.db');
    const r = await backupDatabase(db, dest);
    expect(r.path).toBe(dest);
    expect(existsSync(dest)).toBe(true);
    const copy = new Database(dest, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.prepare('SELECT content FROM messages').all()).toEqual([{ content: 'hello backup' }]);
    copy.close();
  });
});

describe('ConversationStore', () => {
  it('creates, appends messages with tool calls and results, lists, renames and deletes', () => {
    const { db } = fresh();
    let t = 1000;
    const store = new ConversationStore(db, { now: () => t++ });
    const a = store.create({ title: 'Budget talk' });
    const b = store.create({ title: 'Music' });
    const saved = store.append(a.id, [
      { role: 'user', content: 'How much did I spend on food?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'call_1', name: 'finance_month_summary', arguments: { month: '2024-03' } }] },
      { role: 'tool', content: '{"expenses":"120.00 EUR"}', toolCallId: 'call_1', name: 'finance_month_summary' },
      { role: 'assistant', content: 'You spent 120 EUR on food in March.' },
    ]);
    expect(saved.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const full = store.getWithMessages(a.id);
    expect(full.messageCount).toBe(4);
    expect(full.messages[1]!.toolCalls).toEqual([{ id: 'call_1', name: 'finance_month_summary', arguments: { month: '2024-03' } }]);
    expect(full.messages[2]).toMatchObject({ role: 'tool', toolCallId: 'call_1', name: 'finance_month_summary' });
    // a was touched last
    expect(store.list().conversations.map((c) => c.id)).toEqual([a.id, b.id]);
    expect(store.rename(b.id, 'Jazz').title).toBe('Jazz');
    expect(store.delete(a.id)).toBe(true);
    expect(store.delete(a.id)).toBe(false);
    expect(db.prepare('SELECT count(*) AS n FROM messages').get()).toEqual({ n: 0 });
    expect(() => store.get(a.id)).toThrow(/does not exist/);
  });

  it('searches message text with FTS5 (prefix words, no operator injection) and titles', () => {
    const { db } = fresh();
    const store = new ConversationStore(db);
    expect(store.fullTextSearch).toBe(true);
    const a = store.create({ title: 'Groceries' });
    store.append(a.id, [{ role: 'user', content: 'I bought apples and bananas at the market' }]);
    const b = store.create({ title: 'Other' });
    store.append(b.id, [{ role: 'user', content: 'The invoice for the Acme project is late' }]);
    expect(store.search('banan').map((h) => h.conversation.id)).toEqual([a.id]);
    expect(store.search('invoice acme')[0]!.snippets[0]).toMatch(/\[invoice\]/i);
    expect(store.search('groceries').map((h) => h.conversation.id)).toEqual([a.id]);
    // FTS syntax in the input is neutralized: no syntax error, words are just words.
    expect(() => store.search('"NEAR( OR * apples')).not.toThrow();
    expect(store.search('apples" OR*').map((h) => h.conversation.id)).toEqual([]);
    expect(store.search('"apples"').map((h) => h.conversation.id)).toEqual([a.id]);
    expect(store.search('nothing-like-this')).toEqual([]);
    expect(ftsQuery('a "b" c*')).toBe('"a"* "b"* "c*"*');
  });

  it('falls back to LIKE without the FTS index', () => {
    const { db } = fresh();
    db.exec('DROP TRIGGER messages_fts_insert; DROP TRIGGER messages_fts_delete; DROP TRIGGER messages_fts_update; DROP TABLE messages_fts;');
    const store = new ConversationStore(db);
    expect(store.fullTextSearch).toBe(false);
    const a = store.create();
    store.append(a.id, [{ role: 'user', content: 'Remind me about 100% of the rent_payment' }]);
    expect(store.search('rent_payment').map((h) => h.conversation.id)).toEqual([a.id]);
    expect(store.search('100%')[0]!.snippets[0]).toContain('[100%]');
    expect(store.search('rentXpayment')).toEqual([]); // _ is literal, not a wildcard
  });
});
