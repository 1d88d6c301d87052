// The providers the user configured, as the backend uses them: CRUD over the store, a client per
// request (the key opened only then), each provider's health (last check: reachable, models offered,
// latency, error) and the model ids they add to /v1 ("<provider name>/<upstream model id>").
import { WestfallError, isWestfallError } from '../errors.js';
import type { Logger } from '../logging/index.js';
import { UpstreamClient } from './client.js';
import type { ProviderStore } from './store.js';
import { providerInputSchema, type ProviderHealth, type ProviderInput, type ProviderPatch, type ProviderRecord, type ProviderView } from './types.js';
import { hostOf, matchesFilter, normalizeBaseUrl } from './url.js';

export interface RemoteModel {
  /** The id clients use: "<provider name>/<upstream id>". */
  id: string;
  upstreamModel: string;
  provider: ProviderRecord;
  host: string;
}

export interface ProviderTestResult {
  ok: boolean;
  host: string;
  latencyMs: number;
  models: string[];
  /** "connected, 3 models" or what went wrong, for people. */
  summary: string;
  error: { code: string; message: string } | null;
}

export interface ProviderServiceOptions {
  logger?: Logger;
  /** How long a health check (and its model list) counts as fresh (default 60 s). */
  healthTtlMs?: number;
}

const UNKNOWN: ProviderHealth = { state: 'unknown', checkedAt: null, latencyMs: null, models: [], error: null };

export class ProviderService {
  readonly store: ProviderStore;
  readonly #log: Logger | undefined;
  readonly #ttl: number;
  readonly #health = new Map<string, ProviderHealth>();
  readonly #checking = new Map<string, Promise<ProviderHealth>>();
  readonly #listeners = new Set<() => void>();

  constructor(store: ProviderStore, options: ProviderServiceOptions = {}) {
    this.store = store;
    this.#log = options.logger;
    this.#ttl = options.healthTtlMs ?? 60_000;
  }

  /** Called when providers or their models change (the router refreshes its engines). */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) l();
  }

  /** Whether any provider is enabled: with none, no request leaves the machine. */
  get active(): boolean {
    return this.store.list().some((p) => p.enabled);
  }

  view(p: ProviderRecord): ProviderView {
    return { ...p, host: hostOf(p.baseUrl), health: this.#health.get(p.id) ?? UNKNOWN };
  }

  list(): ProviderView[] {
    return this.store.list().map((p) => this.view(p));
  }

  get(id: string): ProviderView {
    return this.view(this.store.get(id));
  }

  create(input: ProviderInput): ProviderView {
    const p = this.store.create(input);
    this.#log?.info({ provider: p.name, host: hostOf(p.baseUrl), hasApiKey: p.hasApiKey }, 'remote provider added');
    this.#changed();
    return this.view(p);
  }

  update(id: string, patch: ProviderPatch): ProviderView {
    const p = this.store.update(id, patch);
    // New details: the old check says nothing about them.
    this.#health.delete(id);
    this.#log?.info({ provider: p.name, host: hostOf(p.baseUrl), fields: Object.keys(patch) }, 'remote provider changed');
    this.#changed();
    return this.view(p);
  }

  remove(id: string): void {
    const p = this.store.get(id);
    this.store.remove(id);
    this.#health.delete(id);
    this.#log?.info({ provider: p.name }, 'remote provider removed');
    this.#changed();
  }

  /** A client for one request; the key is opened here and lives only in it. */
  client(p: ProviderRecord): UpstreamClient {
    return new UpstreamClient({ name: p.name, baseUrl: p.baseUrl, apiKey: this.store.apiKey(p.id), timeoutMs: p.timeoutMs });
  }

  /** Tests connection details (unsaved, or a saved provider's): lists the models. */
  async testDetails(details: { baseUrl: string; apiKey?: string | null; timeoutMs?: number; modelFilter?: string[] }, name = 'provider'): Promise<ProviderTestResult> {
    const baseUrl = normalizeBaseUrl(details.baseUrl);
    const client = new UpstreamClient({ name, baseUrl, apiKey: details.apiKey || null, timeoutMs: details.timeoutMs ?? 15_000 });
    return this.#test(client, details.modelFilter ?? []);
  }

  async #test(client: UpstreamClient, filter: string[]): Promise<ProviderTestResult> {
    const started = performance.now();
    const host = client.ctx.host;
    try {
      const all = await client.listModels();
      const models = all.filter((m) => matchesFilter(m, filter));
      const latencyMs = Math.round(performance.now() - started);
      const hidden = all.length - models.length;
      const summary = `connected, ${models.length} model${models.length === 1 ? '' : 's'}${hidden > 0 ? ` (${hidden} hidden by the filter)` : ''}`;
      return { ok: true, host, latencyMs, models, summary, error: null };
    } catch (err) {
      const e = isWestfallError(err) ? err : new WestfallError('upstream_error', String((err as Error)?.message ?? err));
      return { ok: false, host, latencyMs: Math.round(performance.now() - started), models: [], summary: e.message, error: { code: e.code, message: e.message } };
    }
  }

  /** Checks a saved provider now (one check at a time per provider) and records its health. */
  async check(id: string): Promise<ProviderHealth> {
    const running = this.#checking.get(id);
    if (running) return running;
    const p = this.store.get(id);
    const run = (async () => {
      const r = await this.#test(this.client(p), p.modelFilter);
      const health: ProviderHealth = { state: r.ok ? 'ok' : 'error', checkedAt: new Date().toISOString(), latencyMs: r.latencyMs, models: r.models, error: r.error };
      const before = this.#health.get(id);
      // Only if the provider was not changed or removed meanwhile.
      if (this.store.findByName(p.name)?.updatedAt === p.updatedAt) this.#health.set(id, health);
      if (!r.ok) this.#log?.warn({ provider: p.name, host: r.host, code: r.error?.code }, 'remote provider check failed');
      if (JSON.stringify(before?.models) !== JSON.stringify(health.models) || before?.state !== health.state) this.#changed();
      return health;
    })().finally(() => this.#checking.delete(id));
    this.#checking.set(id, run);
    return run;
  }

  /** Checks every enabled provider whose last check is older than the TTL (all of them with force). */
  async refresh(force = false): Promise<void> {
    const now = Date.now();
    await Promise.all(
      this.store
        .list()
        .filter((p) => p.enabled)
        .filter((p) => {
          const h = this.#health.get(p.id);
          return force || !h?.checkedAt || now - Date.parse(h.checkedAt) > this.#ttl;
        })
        .map((p) => this.check(p.id)),
    );
  }

  /** Records a chat's outcome as the provider's health (a failing provider shows so without a check). */
  report(p: ProviderRecord, err: unknown | null): void {
    const h = this.#health.get(p.id) ?? UNKNOWN;
    const state = err ? 'error' : 'ok';
    const error = err ? (isWestfallError(err) ? { code: err.code, message: err.message } : { code: 'upstream_error', message: String(err) }) : null;
    if (h.state === state && !err) return;
    this.#health.set(p.id, { ...h, state, error, checkedAt: new Date().toISOString() });
  }

  /** Models of the enabled providers, as last checked. */
  models(): RemoteModel[] {
    return this.store
      .list()
      .filter((p) => p.enabled)
      .flatMap((p) => (this.#health.get(p.id)?.models ?? []).map((m) => ({ id: `${p.name}/${m}`, upstreamModel: m, provider: p, host: hostOf(p.baseUrl) })));
  }

  /**
   * The provider a model id names ("<provider>/<model>"), or null when it names none (a local model).
   * A model the provider's filter leaves out is refused here, before anything leaves the machine.
   */
  resolve(model: string): RemoteModel | null {
    const slash = model.indexOf('/');
    if (slash <= 0) return null;
    const p = this.store.findByName(model.slice(0, slash));
    if (!p || !p.enabled) return null;
    const upstreamModel = model.slice(slash + 1);
    if (!upstreamModel || !matchesFilter(upstreamModel, p.modelFilter)) {
      throw new WestfallError('upstream_model_not_found', `the provider ${p.name} offers no model "${upstreamModel}" (its model filter leaves it out)`, { details: { provider: p.name, model: upstreamModel } });
    }
    return { id: model, upstreamModel, provider: p, host: hostOf(p.baseUrl) };
  }

  /** A fallback provider's model for a request: the same upstream id if it serves it, else its first. */
  async fallbackModel(p: ProviderRecord, upstreamModel: string): Promise<string> {
    let models = this.#health.get(p.id)?.models;
    if (!models || models.length === 0) models = (await this.check(p.id)).models;
    if (models.includes(upstreamModel)) return upstreamModel;
    const first = models[0];
    if (!first) throw new WestfallError('upstream_model_not_found', `the fallback provider ${p.name} offers no model`);
    return first;
  }
}

export { providerInputSchema };
