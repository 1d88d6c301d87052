// The providers table (migration 11): CRUD with the API key sealed by SecretBox. The clear key leaves
// this file only through apiKey(), which the HTTP client calls for the provider's own requests.
import { randomBytes } from 'node:crypto';
import type { DB } from '../storage/index.js';
import { WestfallError } from '../errors.js';
import { mapSqliteError } from '../tools/errors.js';
import type { SecretBox } from './secret-box.js';
import { providerInputSchema, type ProviderInput, type ProviderPatch, type ProviderRecord } from './types.js';
import { normalizeBaseUrl } from './url.js';

interface Row {
  id: string;
  name: string;
  base_url: string;
  api_key_sealed: Buffer | null;
  timeout_ms: number;
  model_filter: string;
  fallback: string | null;
  enabled: number;
  created_at: string;
  updated_at: string;
}

const toRecord = (r: Row): ProviderRecord => ({
  id: r.id,
  name: r.name,
  baseUrl: r.base_url,
  hasApiKey: r.api_key_sealed !== null,
  timeoutMs: r.timeout_ms,
  modelFilter: JSON.parse(r.model_filter) as string[],
  fallback: r.fallback,
  enabled: r.enabled === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class ProviderStore {
  readonly #db: DB;
  readonly #box: SecretBox;
  readonly #now: () => number;

  constructor(db: DB, box: SecretBox, options: { now?: () => number } = {}) {
    this.#db = db;
    this.#box = box;
    this.#now = options.now ?? Date.now;
  }

  list(): ProviderRecord[] {
    return (this.#db.prepare('SELECT * FROM providers ORDER BY created_at, name').all() as Row[]).map(toRecord);
  }

  get(id: string): ProviderRecord {
    const row = this.#db.prepare('SELECT * FROM providers WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new WestfallError('provider_not_found', `no provider with id ${id}`, { details: { provider: id } });
    return toRecord(row);
  }

  findByName(name: string): ProviderRecord | null {
    const row = this.#db.prepare('SELECT * FROM providers WHERE name = ?').get(name) as Row | undefined;
    return row ? toRecord(row) : null;
  }

  /** The clear API key, for this provider's own requests only. */
  apiKey(id: string): string | null {
    const row = this.#db.prepare('SELECT api_key_sealed FROM providers WHERE id = ?').get(id) as Pick<Row, 'api_key_sealed'> | undefined;
    if (!row) throw new WestfallError('provider_not_found', `no provider with id ${id}`, { details: { provider: id } });
    return row.api_key_sealed ? this.#box.open(id, row.api_key_sealed) : null;
  }

  create(input: ProviderInput): ProviderRecord {
    const p = providerInputSchema.parse(input);
    const id = `prv_${randomBytes(8).toString('hex')}`;
    const now = new Date(this.#now()).toISOString();
    this.#checkFallback(id, p.fallback);
    const key = p.apiKey ? this.#box.seal(id, p.apiKey) : null;
    try {
      this.#db
        .prepare(
          `INSERT INTO providers (id, name, base_url, api_key_sealed, timeout_ms, model_filter, fallback, enabled, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(id, p.name, normalizeBaseUrl(p.baseUrl), key, p.timeoutMs, JSON.stringify(p.modelFilter), p.fallback, p.enabled ? 1 : 0, now, now);
    } catch (err) {
      throw mapSqliteError(err, `a provider named "${p.name}"`);
    }
    return this.get(id);
  }

  update(id: string, patch: ProviderPatch): ProviderRecord {
    const cur = this.get(id);
    if (patch.fallback !== undefined) this.#checkFallback(id, patch.fallback);
    const sets: string[] = [];
    const values: unknown[] = [];
    const set = (col: string, v: unknown) => {
      sets.push(`${col} = ?`);
      values.push(v);
    };
    if (patch.name !== undefined) set('name', patch.name);
    if (patch.baseUrl !== undefined) set('base_url', normalizeBaseUrl(patch.baseUrl));
    if (patch.apiKey !== undefined) set('api_key_sealed', patch.apiKey ? this.#box.seal(id, patch.apiKey) : null);
    if (patch.timeoutMs !== undefined) set('timeout_ms', patch.timeoutMs);
    if (patch.modelFilter !== undefined) set('model_filter', JSON.stringify(patch.modelFilter));
    if (patch.fallback !== undefined) set('fallback', patch.fallback);
    if (patch.enabled !== undefined) set('enabled', patch.enabled ? 1 : 0);
    if (sets.length === 0) return cur;
    set('updated_at', new Date(this.#now()).toISOString());
    try {
      this.#db.prepare(`UPDATE providers SET ${sets.join(', ')} WHERE id = ?`).run(...values, id);
    } catch (err) {
      throw mapSqliteError(err, `a provider named "${patch.name ?? cur.name}"`);
    }
    return this.get(id);
  }

  remove(id: string): void {
    this.get(id);
    this.#db.transaction(() => {
      // A provider that fell back to this one now has no fallback (rather than a dangling id).
      this.#db.prepare('UPDATE providers SET fallback = NULL WHERE fallback = ?').run(id);
      this.#db.prepare('DELETE FROM providers WHERE id = ?').run(id);
    })();
  }

  #checkFallback(id: string, fallback: string | null): void {
    if (fallback === null || fallback === 'local') return;
    if (fallback === id) throw new WestfallError('invalid_request', 'a provider cannot fall back to itself', { details: { fields: [{ path: 'fallback', message: 'is this provider' }] } });
    this.get(fallback);
  }
}
