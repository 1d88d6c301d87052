// The password vault. Entries (title, username, password, URL, notes) are sealed together with
// AES-256-GCM under a key derived from the master password with scrypt; only ids and dates are stored in
// clear. While unlocked the key is held in memory; it is wiped on lock, which happens on request, after
// `idleMs` without use, and when the service closes. Secrets are never logged, and the summaries the
// model may see carry no password and no notes.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { DB } from '../../storage/index.js';
import { notFound, ToolError } from '../errors.js';
import { CopyRequests } from './copy-requests.js';
import { MIN_MASTER_SCORE, masterPasswordVerdict } from './strength.js';
import { DEFAULT_KDF, checkKdfParams, deriveKey, newSalt, open, seal, verifierMatches, type KdfParams, type Sealed } from './crypto.js';
import type { CopyRequest, LockReason, VaultEntry, VaultEntrySummary, VaultSearchResult, VaultStatus } from './types.js';

export type { LockReason, VaultEntry, VaultEntrySummary, VaultStatus } from './types.js';

export interface VaultEntryData {
  title: string;
  username: string;
  password: string;
  url: string;
  notes: string;
}

export interface VaultEvents {
  locked: [LockReason];
  unlocked: [];
  copy_requested: [CopyRequest];
}

export interface VaultOptions {
  /** Auto-lock after this long without use (default 5 minutes). */
  idleMs?: number;
  /** scrypt cost for new keys (default N=2^17, r=8, p=1). */
  kdf?: { N: number; r: number; p: number };
  /** How long a copy request waits for the user (default 2 minutes). */
  copyRequestTtlMs?: number;
  /** Shortest master password accepted (default 8). */
  minPasswordLength?: number;
  /** zxcvbn score (0-4) a new master password needs; default 3 (MIN_MASTER_SCORE), 0 turns the check off. */
  minStrengthScore?: number;
  now?: () => number;
}

interface MetaRow {
  kdf_n: number;
  kdf_r: number;
  kdf_p: number;
  salt: Buffer;
  verifier: Buffer;
}

interface EntryRow {
  id: string;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
  created_at: number;
  updated_at: number;
}

const entryAad = (id: string) => `westfall.vault.entry.v1:${id}`;

const fieldLimits: Record<keyof VaultEntryData, number> = { title: 200, username: 500, password: 4096, url: 2048, notes: 20_000 };

function checkFields(data: Partial<VaultEntryData>): void {
  for (const [k, max] of Object.entries(fieldLimits) as [keyof VaultEntryData, number][]) {
    const v = data[k];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v.length > max) {
      throw new ToolError('invalid_params', `${k} must be a string of at most ${max} characters`, { details: { fields: [{ path: k, message: 'too long or not a string' }] } });
    }
  }
  if (data.title !== undefined && data.title.trim() === '') throw new ToolError('invalid_params', 'an entry needs a title', { details: { fields: [{ path: 'title', message: 'required' }] } });
}

export class VaultService extends EventEmitter<VaultEvents> {
  readonly idleMs: number;
  readonly copyRequests: CopyRequests;
  readonly #db: DB;
  readonly #kdf: { N: number; r: number; p: number };
  readonly #now: () => number;
  readonly #minPasswordLength: number;
  readonly #minStrengthScore: number;
  #key: Buffer | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #lockAt: number | null = null;
  // Serializes unlock / setup / change so two of them never interleave.
  #busy: Promise<unknown> = Promise.resolve();

  constructor(db: DB, options: VaultOptions = {}) {
    super();
    this.#db = db;
    this.idleMs = options.idleMs ?? 5 * 60_000;
    this.#kdf = options.kdf ?? DEFAULT_KDF;
    checkKdfParams(this.#kdf);
    this.#now = options.now ?? Date.now;
    this.#minPasswordLength = options.minPasswordLength ?? 8;
    this.#minStrengthScore = options.minStrengthScore ?? MIN_MASTER_SCORE;
    this.copyRequests = new CopyRequests(options.copyRequestTtlMs ?? 120_000, this.#now);
  }

  #meta(): MetaRow | undefined {
    return this.#db.prepare('SELECT kdf_n, kdf_r, kdf_p, salt, verifier FROM vault_meta WHERE id = 1').get() as MetaRow | undefined;
  }

  get unlocked(): boolean {
    return this.#key !== null;
  }

  status(): VaultStatus {
    const meta = this.#meta();
    const entries = (this.#db.prepare('SELECT count(*) AS n FROM vault_entries').get() as { n: number }).n;
    return {
      initialized: meta !== undefined,
      unlocked: this.unlocked,
      entries,
      idleMs: this.idleMs,
      lockAt: this.#lockAt === null ? null : new Date(this.#lockAt).toISOString(),
      kdf: meta ? { name: 'scrypt', N: meta.kdf_n, r: meta.kdf_r, p: meta.kdf_p } : null,
    };
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#busy.then(fn, fn);
    this.#busy = run.catch(() => {});
    return run;
  }

  #checkMaster(password: string, field: string): void {
    if (typeof password !== 'string' || [...password].length < this.#minPasswordLength) {
      throw new ToolError('invalid_params', `the master password must have at least ${this.#minPasswordLength} characters`, { details: { fields: [{ path: field, message: 'too short' }] } });
    }
  }

  /** A new master password must also be hard to guess (strength.ts); the details carry the meter's data. */
  #checkMasterStrength(password: string, field: string): void {
    if (this.#minStrengthScore <= 0) return;
    const v = masterPasswordVerdict(password, this.#minStrengthScore);
    if (!v.ok) {
      throw new ToolError('vault_weak_password', v.reason!, {
        details: { field, score: v.score, required: v.required, label: v.report.label, warning: v.report.warning, suggestions: v.report.suggestions },
      });
    }
  }

  /** Creates the vault with its master password, and unlocks it. */
  setup(masterPassword: string): Promise<VaultStatus> {
    this.#checkMaster(masterPassword, 'masterPassword');
    return this.#serial(async () => {
      if (this.#meta()) throw new ToolError('vault_already_initialized', 'the vault already has a master password; unlock it or change the password');
      this.#checkMasterStrength(masterPassword, 'masterPassword');
      const params: KdfParams = { ...this.#kdf, salt: newSalt() };
      const derived = await deriveKey(masterPassword, params);
      const now = this.#now();
      try {
        this.#db
          .prepare('INSERT INTO vault_meta (id, kdf, kdf_n, kdf_r, kdf_p, salt, verifier, created_at, changed_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run('scrypt', params.N, params.r, params.p, params.salt, derived.verifier, now, now);
      } catch (err) {
        derived.key.fill(0);
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new ToolError('vault_already_initialized');
        throw err;
      }
      this.#setKey(derived.key);
      return this.status();
    });
  }

  /** Unlocks with the master password; vault_wrong_password when it does not match. */
  unlock(masterPassword: string): Promise<VaultStatus> {
    if (typeof masterPassword !== 'string' || masterPassword === '') throw new ToolError('invalid_params', 'masterPassword is required');
    return this.#serial(async () => {
      const meta = this.#meta();
      if (!meta) throw new ToolError('vault_not_initialized', 'the vault has no master password yet; set one up first');
      const derived = await deriveKey(masterPassword, { N: meta.kdf_n, r: meta.kdf_r, p: meta.kdf_p, salt: meta.salt });
      if (!verifierMatches(derived, meta.verifier)) {
        derived.key.fill(0);
        throw new ToolError('vault_wrong_password', 'the master password is wrong');
      }
      this.#setKey(derived.key);
      return this.status();
    });
  }

  lock(reason: LockReason = 'manual'): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    this.#lockAt = null;
    this.copyRequests.clear();
    if (!this.#key) return;
    this.#key.fill(0);
    this.#key = null;
    this.emit('locked', reason);
  }

  /** Locks and forgets pending requests (the service is going away). */
  close(): void {
    this.lock('closed');
  }

  #setKey(key: Buffer): void {
    const was = this.#key;
    this.#key = key;
    if (was && was !== key) was.fill(0);
    this.#touch();
    if (!was) this.emit('unlocked');
  }

  /** Restarts the idle countdown. */
  #touch(): void {
    if (!this.#key) return;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#lockAt = this.#now() + this.idleMs;
    this.#idleTimer = setTimeout(() => this.lock('idle'), this.idleMs);
    this.#idleTimer.unref();
  }

  #requireKey(): Buffer {
    if (!this.#meta()) throw new ToolError('vault_not_initialized', 'the vault has no master password yet; set one up first');
    if (!this.#key) throw new ToolError('vault_locked', 'the vault is locked; unlock it in the app');
    this.#touch();
    return this.#key;
  }

  #decrypt(row: EntryRow, key: Buffer): VaultEntry {
    const plain = open(key, { nonce: row.nonce, ciphertext: row.ciphertext, tag: row.tag }, entryAad(row.id), `entry ${row.id}`);
    let data: VaultEntryData;
    try {
      data = JSON.parse(plain.toString('utf8')) as VaultEntryData;
    } catch {
      throw new ToolError('vault_tampered', `vault entry ${row.id} decrypted to something that is not an entry`, { details: { record: row.id } });
    } finally {
      plain.fill(0);
    }
    return {
      id: row.id,
      title: String(data.title ?? ''),
      username: String(data.username ?? ''),
      password: String(data.password ?? ''),
      url: String(data.url ?? ''),
      notes: String(data.notes ?? ''),
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }

  #encrypt(id: string, data: VaultEntryData, key: Buffer): Sealed {
    const plain = Buffer.from(JSON.stringify({ title: data.title, username: data.username, password: data.password, url: data.url, notes: data.notes }), 'utf8');
    try {
      return seal(key, plain, entryAad(id));
    } finally {
      plain.fill(0);
    }
  }

  #row(id: string): EntryRow {
    const row = this.#db.prepare('SELECT * FROM vault_entries WHERE id = ?').get(id) as EntryRow | undefined;
    if (!row) throw notFound('vault entry', id);
    return row;
  }

  /** The whole entry, password included: for the app only, never for the model. */
  get(id: string): VaultEntry {
    const key = this.#requireKey();
    return this.#decrypt(this.#row(id), key);
  }

  summary(id: string): VaultEntrySummary {
    return toSummary(this.get(id));
  }

  /**
   * Entries whose title, URL or username contain every word of `query` (all entries without one). A
   * record that fails its integrity check is left out and its id reported in `damaged`.
   */
  search(query = '', options: { limit?: number } = {}): VaultSearchResult {
    const key = this.#requireKey();
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = this.#db.prepare('SELECT * FROM vault_entries').all() as EntryRow[];
    const entries: VaultEntrySummary[] = [];
    const damaged: string[] = [];
    for (const row of rows) {
      let e: VaultEntry;
      try {
        e = this.#decrypt(row, key);
      } catch (err) {
        if (err instanceof ToolError && err.code === 'vault_tampered') {
          damaged.push(row.id);
          continue;
        }
        throw err;
      }
      const hay = `${e.title}\n${e.url}\n${e.username}`.toLowerCase();
      if (words.every((w) => hay.includes(w))) entries.push(toSummary(e));
    }
    entries.sort((a, b) => a.title.localeCompare(b.title, undefined, { sensitivity: 'base' }) || a.id.localeCompare(b.id));
    return { entries: entries.slice(0, options.limit ?? 500), damaged };
  }

  create(data: Partial<VaultEntryData> & { title: string }): VaultEntrySummary {
    const full: VaultEntryData = { title: data.title, username: data.username ?? '', password: data.password ?? '', url: data.url ?? '', notes: data.notes ?? '' };
    checkFields(full);
    const key = this.#requireKey();
    const id = randomUUID();
    const sealed = this.#encrypt(id, full, key);
    const now = this.#now();
    this.#db.prepare('INSERT INTO vault_entries (id, nonce, ciphertext, tag, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)').run(id, sealed.nonce, sealed.ciphertext, sealed.tag, now, now);
    return this.summary(id);
  }

  update(id: string, patch: Partial<VaultEntryData>): VaultEntrySummary {
    checkFields(patch);
    const key = this.#requireKey();
    const cur = this.#decrypt(this.#row(id), key);
    const next: VaultEntryData = {
      title: patch.title ?? cur.title,
      username: patch.username ?? cur.username,
      password: patch.password ?? cur.password,
      url: patch.url ?? cur.url,
      notes: patch.notes ?? cur.notes,
    };
    const sealed = this.#encrypt(id, next, key);
    this.#db.prepare('UPDATE vault_entries SET nonce = ?, ciphertext = ?, tag = ?, updated_at = ? WHERE id = ?').run(sealed.nonce, sealed.ciphertext, sealed.tag, this.#now(), id);
    return this.summary(id);
  }

  delete(id: string): void {
    this.#requireKey();
    if (this.#db.prepare('DELETE FROM vault_entries WHERE id = ?').run(id).changes === 0) throw notFound('vault entry', id);
  }

  /**
   * Changes the master password: verifies the current one, derives a new key (new salt, current cost
   * settings) and re-encrypts every entry in one transaction. A damaged entry stops it with
   * vault_tampered and nothing changes.
   */
  changeMasterPassword(current: string, next: string): Promise<VaultStatus> {
    this.#checkMaster(next, 'newPassword');
    this.#checkMasterStrength(next, 'newPassword');
    return this.#serial(async () => {
      const meta = this.#meta();
      if (!meta) throw new ToolError('vault_not_initialized');
      const old = await deriveKey(current, { N: meta.kdf_n, r: meta.kdf_r, p: meta.kdf_p, salt: meta.salt });
      if (!verifierMatches(old, meta.verifier)) {
        old.key.fill(0);
        throw new ToolError('vault_wrong_password', 'the current master password is wrong');
      }
      const params: KdfParams = { ...this.#kdf, salt: newSalt() };
      const fresh = await deriveKey(next, params);
      try {
        this.#db.transaction(() => {
          const rows = this.#db.prepare('SELECT * FROM vault_entries').all() as EntryRow[];
          const update = this.#db.prepare('UPDATE vault_entries SET nonce = ?, ciphertext = ?, tag = ? WHERE id = ?');
          for (const row of rows) {
            const entry = this.#decrypt(row, old.key);
            const sealed = this.#encrypt(row.id, entry, fresh.key);
            update.run(sealed.nonce, sealed.ciphertext, sealed.tag, row.id);
          }
          this.#db
            .prepare('UPDATE vault_meta SET kdf_n = ?, kdf_r = ?, kdf_p = ?, salt = ?, verifier = ?, changed_at = ? WHERE id = 1')
            .run(params.N, params.r, params.p, params.salt, fresh.verifier, this.#now());
        }).immediate();
      } catch (err) {
        fresh.key.fill(0);
        throw err;
      } finally {
        old.key.fill(0);
      }
      this.#setKey(fresh.key);
      return this.status();
    });
  }

  /** Asks the user (through the app) to approve copying an entry's password. */
  requestCopy(id: string): CopyRequest {
    const s = this.summary(id);
    const req = this.copyRequests.add(s.id, s.title);
    this.emit('copy_requested', req);
    return req;
  }

  /** The user approved: the password, for the app's clipboard. */
  approveCopy(requestId: string): { entryId: string; title: string; password: string } {
    this.#requireKey();
    const req = this.copyRequests.take(requestId);
    const e = this.get(req.entryId);
    return { entryId: e.id, title: e.title, password: e.password };
  }

  denyCopy(requestId: string): CopyRequest {
    return this.copyRequests.take(requestId);
  }
}

function toSummary(e: VaultEntry): VaultEntrySummary {
  return { id: e.id, title: e.title, username: e.username, url: e.url, createdAt: e.createdAt, updatedAt: e.updatedAt };
}
