import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import { openDatabase, type DB } from '../../src/storage/index.js';
import { ToolRegistry } from '../../src/tools/registry.js';
import {
  AMBIGUOUS,
  DEFAULT_KDF,
  VaultService,
  deriveKey,
  newSalt,
  checkStrength,
  generatePassphrase,
  generatePassword,
  passwordEntropyBits,
  vaultTools,
  wordList,
} from '../../src/tools/vault/index.js';
import { FAST_KDF, tempDir } from './helpers.js';

let db: DB;
let dbPath: string;
let vault: VaultService;
let cleanup: () => void;
const MASTER = 'correct horse battery staple';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

beforeEach(() => {
  const t = tempDir();
  cleanup = t.cleanup;
  dbPath = join(t.dir, 'westfall.db');
  db = openDatabase(dbPath);
  vault = new VaultService(db, { kdf: FAST_KDF });
});
afterEach(() => {
  vault.close();
  if (db.open) db.close();
  cleanup();
});

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return isWestfallError(err) ? err.code : `not coded: ${String(err)}`;
  }
  return 'no error';
}

describe('vault', () => {
  it('round trip: entries are sealed at rest and come back intact after lock and unlock', async () => {
    expect(vault.status()).toMatchObject({ initialized: false, unlocked: false });
    await vault.setup(MASTER);
    const s = vault.create({ title: 'Bank', username: 'me@example.com', password: 'pä$$wörd-1', url: 'https://bank.example', notes: 'PIN 1234' });
    expect(s).not.toHaveProperty('password');
    expect(s).not.toHaveProperty('notes');
    // Nothing readable on disk: not the password, not the title.
    const raw = db.prepare('SELECT * FROM vault_entries').all() as Record<string, unknown>[];
    const dump = JSON.stringify(raw.map((r) => Object.values(r).map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : v))));
    for (const secret of ['pä$$wörd-1', 'Bank', 'me@example.com', 'PIN 1234', 'bank.example']) expect(dump).not.toContain(secret);
    vault.lock();
    expect(await code(() => vault.get(s.id))).toBe('vault_locked');
    // A new process: only the master password opens it.
    vault.close();
    vault = new VaultService(db, { kdf: FAST_KDF });
    await vault.unlock(MASTER);
    expect(vault.get(s.id)).toMatchObject({ title: 'Bank', username: 'me@example.com', password: 'pä$$wörd-1', url: 'https://bank.example', notes: 'PIN 1234' });
    vault.update(s.id, { password: 'new' });
    expect(vault.get(s.id).password).toBe('new');
    expect(vault.search('bank').entries.map((e) => e.id)).toEqual([s.id]);
    expect(vault.search('example.com ME').entries).toHaveLength(1);
    expect(vault.search('nope').entries).toHaveLength(0);
    vault.delete(s.id);
    expect(await code(() => vault.get(s.id))).toBe('not_found');
  });

  it('a wrong master password is vault_wrong_password, never garbage', async () => {
    await vault.setup(MASTER);
    vault.create({ title: 'x', password: 'y' });
    vault.lock();
    expect(await code(vault.unlock('correct horse battery stapler'))).toBe('vault_wrong_password');
    expect(vault.unlocked).toBe(false);
    expect(await code(vault.setup('another one'))).toBe('vault_already_initialized');
    expect(await code(new VaultService(openDatabase(join(dbPath, '..', 'other.db')), { kdf: FAST_KDF }).unlock(MASTER))).toBe('vault_not_initialized');
    expect(await code(() => vault.setup('short'))).toBe('invalid_params');
  });

  it('tampered ciphertext, tag, nonce or a moved record is vault_tampered', async () => {
    await vault.setup(MASTER);
    const a = vault.create({ title: 'A', password: 'secret-a' });
    const b = vault.create({ title: 'B', password: 'secret-b' });
    const flip = (column: string, id: string) => {
      const row = db.prepare(`SELECT ${column} AS v FROM vault_entries WHERE id = ?`).get(id) as { v: Buffer };
      const v = Buffer.from(row.v);
      v[0] = v[0]! ^ 0x01;
      db.prepare(`UPDATE vault_entries SET ${column} = ? WHERE id = ?`).run(v, id);
      return () => db.prepare(`UPDATE vault_entries SET ${column} = ? WHERE id = ?`).run(row.v, id);
    };
    for (const column of ['ciphertext', 'tag', 'nonce']) {
      const restore = flip(column, a.id);
      expect(await code(() => vault.get(a.id))).toBe('vault_tampered');
      restore();
      expect(vault.get(a.id).password).toBe('secret-a');
    }
    // B's sealed data copied into A's row: authentic ciphertext, wrong place.
    const rowB = db.prepare('SELECT nonce, ciphertext, tag FROM vault_entries WHERE id = ?').get(b.id) as Record<string, Buffer>;
    db.prepare('UPDATE vault_entries SET nonce = ?, ciphertext = ?, tag = ? WHERE id = ?').run(rowB.nonce, rowB.ciphertext, rowB.tag, a.id);
    expect(await code(() => vault.get(a.id))).toBe('vault_tampered');
    // Search leaves the damaged record out and says so; re-keying refuses to proceed.
    expect(vault.search('')).toEqual({ entries: [expect.objectContaining({ id: b.id })], damaged: [a.id] });
    expect(await code(vault.changeMasterPassword(MASTER, 'a new master password'))).toBe('vault_tampered');
    vault.lock();
    await vault.unlock(MASTER); // unchanged
  });

  it('changing the master password re-encrypts every entry in one transaction', async () => {
    await vault.setup(MASTER);
    const ids = ['one', 'two', 'three'].map((t) => vault.create({ title: t, password: `pw-${t}` }).id);
    const before = db.prepare('SELECT id, ciphertext FROM vault_entries ORDER BY id').all() as { id: string; ciphertext: Buffer }[];
    const saltBefore = (db.prepare('SELECT salt FROM vault_meta').get() as { salt: Buffer }).salt;
    expect(await code(vault.changeMasterPassword('wrong password', 'new master password'))).toBe('vault_wrong_password');
    await vault.changeMasterPassword(MASTER, 'new master password');
    const after = db.prepare('SELECT id, ciphertext FROM vault_entries ORDER BY id').all() as { id: string; ciphertext: Buffer }[];
    expect(after.map((r) => r.id)).toEqual(before.map((r) => r.id));
    after.forEach((r, i) => expect(r.ciphertext.equals(before[i]!.ciphertext)).toBe(false));
    expect((db.prepare('SELECT salt FROM vault_meta').get() as { salt: Buffer }).salt.equals(saltBefore)).toBe(false);
    vault.lock();
    expect(await code(vault.unlock(MASTER))).toBe('vault_wrong_password');
    await vault.unlock('new master password');
    expect(ids.map((id) => vault.get(id).password)).toEqual(['pw-one', 'pw-two', 'pw-three']);
  });

  it('locks itself after the idle time, and use postpones it', async () => {
    vault.close();
    vault = new VaultService(db, { kdf: FAST_KDF, idleMs: 300 });
    const locked: string[] = [];
    vault.on('locked', (r) => locked.push(r));
    await vault.setup(MASTER);
    const e = vault.create({ title: 'x' });
    await new Promise((r) => setTimeout(r, 200));
    vault.get(e.id); // use: the countdown restarts
    await new Promise((r) => setTimeout(r, 200));
    expect(vault.unlocked).toBe(true);
    await new Promise((r) => setTimeout(r, 250));
    expect(vault.unlocked).toBe(false);
    expect(locked).toEqual(['idle']);
    expect(await code(() => vault.search(''))).toBe('vault_locked');
  });

  it('the model sees no secrets: search results carry no password, copying needs the user', async () => {
    await vault.setup(MASTER);
    const e = vault.create({ title: 'Mail', username: 'me', password: 'hunter2-very-secret', url: 'https://mail.example', notes: 'recovery code 42' });
    const registry = new ToolRegistry(vaultTools(vault));
    const found = await registry.invoke('vault_search_entries', { query: 'mail' }, { caller: 'model' });
    expect(found).toEqual({ entries: [{ id: e.id, title: 'Mail', username: 'me', url: 'https://mail.example' }] });
    const copy = (await registry.invoke('vault_copy_password', { id: e.id }, { caller: 'model' })) as { requestId: string; status: string };
    expect(copy.status).toBe('pending_user_approval');
    for (const r of [found, copy]) expect(JSON.stringify(r)).not.toMatch(/hunter2|recovery code/);
    expect(vault.copyRequests.list().map((r) => r.id)).toEqual([copy.requestId]);
    expect(vault.approveCopy(copy.requestId)).toEqual({ entryId: e.id, title: 'Mail', password: 'hunter2-very-secret' });
    expect(await code(() => vault.approveCopy(copy.requestId))).toBe('not_found'); // used once
    const denied = (await registry.invoke('vault_copy_password', { id: e.id }, { caller: 'model' })) as { requestId: string };
    vault.denyCopy(denied.requestId);
    expect(vault.copyRequests.list()).toEqual([]);
    // Locking forgets pending requests.
    const pending = (await registry.invoke('vault_copy_password', { id: e.id }, { caller: 'model' })) as { requestId: string };
    vault.lock();
    expect(await code(() => vault.denyCopy(pending.requestId))).toBe('not_found');
  });
});

describe('key derivation', () => {
  it('runs scrypt with the production cost (N = 2^17, r = 8, p = 1) within its memory limit', async () => {
    const salt = newSalt();
    const a = await deriveKey(MASTER, { ...DEFAULT_KDF, salt });
    const b = await deriveKey(MASTER, { ...DEFAULT_KDF, salt });
    expect(a.key).toHaveLength(32);
    expect(a.key.equals(b.key)).toBe(true);
    expect(a.verifier.equals(b.verifier)).toBe(true);
    expect((await deriveKey('other', { ...DEFAULT_KDF, salt })).verifier.equals(a.verifier)).toBe(false);
  });
});

describe('generator and strength', () => {
  it('generates passwords from the chosen classes, with every class present and no look-alikes', () => {
    for (let i = 0; i < 50; i++) {
      const { password, entropyBits } = generatePassword({ length: 16, symbols: false, excludeAmbiguous: true });
      expect(password).toHaveLength(16);
      expect(password).toMatch(/^[A-Za-z0-9]+$/);
      expect(password).toMatch(/[a-z]/);
      expect(password).toMatch(/[A-Z]/);
      expect(password).toMatch(/[0-9]/);
      for (const c of password) expect(AMBIGUOUS.has(c)).toBe(false);
      expect(entropyBits).toBeGreaterThan(85);
      expect(entropyBits).toBeLessThan(16 * Math.log2(62));
    }
    expect(generatePassword({ length: 8, lowercase: false, uppercase: false, symbols: false }).password).toMatch(/^\d{8}$/);
    expect(() => generatePassword({ lowercase: false, uppercase: false, digits: false, symbols: false })).toThrow(/at least one character class/);
    expect(() => generatePassword({ length: 2 })).toThrow(/length/);
  });

  it('computes exact entropy of the constrained space', () => {
    // digits only, length 4: 10^4 strings → 13.3 bits
    expect(passwordEntropyBits(['0123456789'], 4)).toBe(13.3);
    // two pools of 2 and length 2: 16 strings minus those missing a pool (4 + 4) = 8 → 3 bits
    expect(passwordEntropyBits(['ab', 'cd'], 2)).toBe(3);
  });

  it('builds passphrases from the 7776-word list', () => {
    expect(wordList()).toHaveLength(7776);
    const p = generatePassphrase({ words: 5, separator: ' ', capitalize: true });
    const words = p.password.split(' ');
    expect(words).toHaveLength(5);
    for (const w of words) expect(wordList()).toContain(w.toLowerCase());
    expect(p.entropyBits).toBe(64.6);
    expect(generatePassphrase({ words: 4, includeNumber: true }).password).toMatch(/\d/);
  });

  it('rates strength with zxcvbn', () => {
    const weak = checkStrength('password1');
    expect(weak.score).toBeLessThanOrEqual(1);
    expect(weak.label).toMatch(/weak/);
    const strong = checkStrength(generatePassword({ length: 24 }).password);
    expect(strong.score).toBe(4);
    expect(strong.entropyBits).toBeGreaterThan(100);
    expect(checkStrength('john1985', ['john']).score).toBeLessThanOrEqual(1);
  });
});

describe('dictionaries', () => {
  it('load on the first strength check, not when the server starts', () => {
    // A fresh process: this one has loaded them already. `westfall serve` wires the tools' services and
    // route plugins from these two modules, the vault's among them.
    const script = [
      "import { createRequire } from 'node:module';",
      "const cache = createRequire(import.meta.url).cache;",
      "const loaded = () => Object.keys(cache).some((k) => k.includes('@zxcvbn-ts/language-'));",
      "await import('./src/tools/services.ts');",
      "await import('./src/server/routes/tool-plugins.ts');",
      "const atStart = loaded();",
      "const { checkStrength } = await import('./src/tools/vault/index.ts');",
      "const score = checkStrength('password123').score;",
      "console.log(JSON.stringify({ atStart, afterCheck: loaded(), score }));",
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').pop()!)).toEqual({ atStart: false, afterCheck: true, score: 0 });
  });
});
