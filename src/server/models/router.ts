// The model router: a request names a model, the router finds the engine that serves that name and hands
// the request to it. Engines are this process's local models (always first) and any registered remote
// providers (addEngine / removeEngine). A request without a model, or naming a model no engine has, goes to
// the default model when one is loaded (OpenAI clients often send a fixed name such as "gpt-4o";
// llama-server answers those with its one model too).
import { WestfallError } from '../../errors.js';
import type { ChatEngine, ChatJob, CompletionJob, EmbedJob, EmbedResult, ManagedGeneration, ModelEntry } from './engine.js';

export interface Route {
  engine: ChatEngine;
  /** The model's name in that engine. */
  model: string;
}

export interface ModelRouterOptions {
  /** The model for requests that name none (or an unknown one); null when there is none. */
  defaultModel: () => string | null;
}

export class ModelRouter {
  #engines: ChatEngine[] = [];
  readonly #o: ModelRouterOptions;
  #listeners = new Set<() => void>();

  constructor(options: ModelRouterOptions) {
    this.#o = options;
  }

  /**
   * Registers an engine; its models are routable at once. Ids are unique ('local' is this process's).
   * `first`: ahead of the others, so the names it lists go to it (models split over workers).
   */
  addEngine(engine: ChatEngine, options: { first?: boolean } = {}): void {
    if (this.#engines.some((e) => e.id === engine.id)) throw new WestfallError('invalid_params', `an engine with id "${engine.id}" is already registered`);
    if (options.first) this.#engines.unshift(engine);
    else this.#engines.push(engine);
    this.#changed();
  }

  /** Removes an engine and closes it (its running generations end); false when no such engine. */
  async removeEngine(id: string): Promise<boolean> {
    const i = this.#engines.findIndex((e) => e.id === id);
    if (i < 0) return false;
    const [engine] = this.#engines.splice(i, 1);
    this.#changed();
    await engine!.close?.();
    return true;
  }

  engines(): readonly ChatEngine[] {
    return this.#engines;
  }

  engine(id: string): ChatEngine | null {
    return this.#engines.find((e) => e.id === id) ?? null;
  }

  /** Called when engines come or go (the model list changes). */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  #changed(): void {
    for (const fn of this.#listeners) fn();
  }

  /** Every model of every engine; a name two engines list belongs to the first (local models win). */
  models(): ModelEntry[] {
    const seen = new Set<string>();
    const out: ModelEntry[] = [];
    const def = this.#o.defaultModel();
    for (const e of this.#engines) {
      let entries: ModelEntry[];
      try {
        entries = e.models();
      } catch {
        entries = [];
      }
      for (const m of entries) {
        if (seen.has(m.id)) continue;
        seen.add(m.id);
        out.push({ ...m, default: m.id === def });
      }
    }
    return out;
  }

  /** The first engine that lists `name`, or null. */
  #find(name: string): Route | null {
    for (const e of this.#engines) {
      let entries: ModelEntry[];
      try {
        entries = e.models();
      } catch {
        continue;
      }
      if (entries.some((m) => m.id === name)) return { engine: e, model: name };
    }
    return null;
  }

  /** The engine and model name a request for `name` goes to. */
  resolve(name: string | undefined | null): Route {
    if (name) {
      const r = this.#find(name);
      if (r) return r;
    }
    // No name, or one no engine has: the default model, through the engines like a named one (it may run
    // over workers), else this process's.
    const def = this.#o.defaultModel();
    if (def) {
      const r = this.#find(def);
      if (r) return r;
      const local = this.#engines.find((e) => e.id === 'local');
      if (local) return { engine: local, model: def };
    }
    // An unknown name with nothing loaded: what the user has to do is load a model (clients such as
    // OpenAI's always send some name).
    if (name) throw new WestfallError('model_not_loaded', `no model is loaded, and "${name}" is not an installed model or one of a provider`, { details: { model: name } });
    throw new WestfallError('model_not_loaded', 'no model is loaded; load one first or name one in the request');
  }

  async chat(job: ChatJob): Promise<ManagedGeneration> {
    const r = this.resolve(job.model);
    return r.engine.chat({ ...job, model: r.model });
  }

  async complete(job: CompletionJob): Promise<ManagedGeneration> {
    const r = this.resolve(job.model);
    if (!r.engine.complete) throw new WestfallError('invalid_request', `the model "${r.model}" (${r.engine.id}) does not do raw completions`);
    return r.engine.complete({ ...job, model: r.model });
  }

  async embed(job: EmbedJob): Promise<EmbedResult> {
    const r = this.resolve(job.model);
    if (!r.engine.embed) throw new WestfallError('invalid_request', `the model "${r.model}" (${r.engine.id}) does not make embeddings`);
    return r.engine.embed({ ...job, model: r.model });
  }
}
