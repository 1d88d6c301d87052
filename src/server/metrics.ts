// Prometheus metrics at GET /metrics (text format), on a registry of this app's own (several apps in
// one process, as in tests, do not share counters): requests by route and status, tokens, time to first
// token and tokens/s histograms, queue depth, model load state, process memory and the Node defaults.
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GenerationEvent, ModelManager } from './model-manager.js';

export interface Metrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  generations: Counter<'kind' | 'stop_reason'>;
  generatedTokens: Counter<'kind'>;
  promptTokens: Counter<'kind'>;
  reusedPromptTokens: Counter<'kind'>;
  /** Generations that reused a cached prefix, by where it came from (sequence, shared, disk). */
  promptCacheHits: Counter<'source'>;
  promptCacheTokens: Counter<'source'>;
  timeToFirstToken: Histogram<'kind'>;
  tokensPerSecond: Histogram<'kind'>;
  queueWait: Histogram<'kind'>;
  wsConnections: Gauge;
  /** Local model loads by model and result (ok, or the error code). */
  modelLoads: Counter<'model' | 'result'>;
  /** Local model unloads by model and reason (request, idle, lru, replaced, shutdown). */
  modelUnloads: Counter<'model' | 'reason'>;
  modelLoadSeconds: Histogram<'model'>;
}

export function createMetrics(manager: ModelManager): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'westfall_' });
  const m: Metrics = {
    registry,
    httpRequests: new Counter({
      name: 'westfall_http_requests_total',
      help: 'HTTP requests by method, route pattern and status code',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'westfall_http_request_duration_seconds',
      help: 'Time to answer an HTTP request (streams: until the stream ends)',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    }),
    generations: new Counter({
      name: 'westfall_generations_total',
      help: 'Finished generations by kind (chat, completion) and stop reason',
      labelNames: ['kind', 'stop_reason'],
      registers: [registry],
    }),
    generatedTokens: new Counter({
      name: 'westfall_generated_tokens_total',
      help: 'Tokens generated',
      labelNames: ['kind'],
      registers: [registry],
    }),
    promptTokens: new Counter({
      name: 'westfall_prompt_tokens_total',
      help: 'Prompt tokens (evaluated plus reused from the cache)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    reusedPromptTokens: new Counter({
      name: 'westfall_prompt_tokens_reused_total',
      help: 'Prompt tokens reused from a sequence cache instead of evaluated',
      labelNames: ['kind'],
      registers: [registry],
    }),
    promptCacheHits: new Counter({
      name: 'westfall_prompt_cache_hits_total',
      help: 'Generations that reused cached prompt tokens, by source: sequence (its own cache), shared (copied from another sequence), disk (a saved conversation state)',
      labelNames: ['source'],
      registers: [registry],
    }),
    promptCacheTokens: new Counter({
      name: 'westfall_prompt_cache_reused_tokens_total',
      help: 'Prompt tokens reused instead of evaluated, by source (sequence, shared, disk)',
      labelNames: ['source'],
      registers: [registry],
    }),
    timeToFirstToken: new Histogram({
      name: 'westfall_time_to_first_token_seconds',
      help: 'From the start of prompt processing to the first generated token',
      labelNames: ['kind'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    tokensPerSecond: new Histogram({
      name: 'westfall_generation_tokens_per_second',
      help: 'Generation speed of each finished generation',
      labelNames: ['kind'],
      buckets: [1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200, 500, 1000, 5000],
      registers: [registry],
    }),
    queueWait: new Histogram({
      name: 'westfall_queue_wait_seconds',
      help: 'Time a generation waited for a free sequence',
      labelNames: ['kind'],
      buckets: [0, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60],
      registers: [registry],
    }),
    wsConnections: new Gauge({ name: 'westfall_websocket_connections', help: 'Open WebSocket connections', registers: [registry] }),
    modelLoads: new Counter({
      name: 'westfall_model_loads_total',
      help: 'Local model loads by model and result (ok, or the error code: model_too_large, invalid_model, ...)',
      labelNames: ['model', 'result'],
      registers: [registry],
    }),
    modelUnloads: new Counter({
      name: 'westfall_model_unloads_total',
      help: 'Local model unloads by model and reason: request, idle (keep-alive ran out), lru (made room for another), replaced, shutdown',
      labelNames: ['model', 'reason'],
      registers: [registry],
    }),
    modelLoadSeconds: new Histogram({
      name: 'westfall_model_load_seconds',
      help: 'Time to load a local model (file, context, conversation-state cache)',
      labelNames: ['model'],
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
  };

  // Per local model that has an object (loading, loaded or failed): its state, memory and work.
  const perModel = (read: (m: ReturnType<ModelManager['local']['loaded']>[number]) => number) =>
    function collect(this: Gauge<'model'>) {
      this.reset();
      for (const x of manager.local.loaded()) this.set({ model: x.id }, read(x));
    };
  new Gauge({
    name: 'westfall_local_model_loaded',
    help: '1 for each local model that is loaded and ready',
    labelNames: ['model'],
    registers: [registry],
    collect: perModel((x) => (x.state === 'ready' ? 1 : 0)),
  });
  new Gauge({
    name: 'westfall_local_model_loading',
    help: '1 for each local model being loaded',
    labelNames: ['model'],
    registers: [registry],
    collect: perModel((x) => (x.state === 'loading' ? 1 : 0)),
  });
  new Gauge({
    name: 'westfall_local_model_memory_bytes',
    help: "Each local model's memory by the planner's estimate (weights, KV cache, compute buffers)",
    labelNames: ['model'],
    registers: [registry],
    collect: perModel((x) => (x.state === 'ready' || x.state === 'loading' ? (x.plan?.memoryBytes ?? 0) : 0)),
  });
  new Gauge({
    name: 'westfall_local_model_generations_running',
    help: 'Generations running on each local model',
    labelNames: ['model'],
    registers: [registry],
    collect: perModel((x) => x.scheduler.stats().running),
  });
  new Gauge({
    name: 'westfall_local_model_queue_depth',
    help: 'Generations waiting for a sequence of each local model',
    labelNames: ['model'],
    registers: [registry],
    collect: perModel((x) => x.scheduler.stats().queued),
  });
  new Gauge({
    name: 'westfall_local_models_loaded',
    help: 'Local models loaded and ready',
    registers: [registry],
    collect() {
      this.set(manager.local.loaded().filter((x) => x.state === 'ready').length);
    },
  });
  new Gauge({
    name: 'westfall_model_memory_limit_bytes',
    help: 'Memory all local models may take together (WESTFALL_MODEL_MEMORY_MB); 0: the free memory decides',
    registers: [registry],
    collect() {
      this.set(manager.options.memoryLimitBytes ?? 0);
    },
  });

  new Gauge({
    name: 'westfall_queue_depth',
    help: 'Generations waiting for a free sequence',
    registers: [registry],
    collect() {
      this.set(manager.stats().queued);
    },
  });
  new Gauge({
    name: 'westfall_generations_running',
    help: 'Generations running now',
    registers: [registry],
    collect() {
      this.set(manager.stats().running);
    },
  });
  new Gauge({
    name: 'westfall_sequences',
    help: 'Generations the context runs at once',
    registers: [registry],
    collect() {
      this.set(manager.stats().capacity);
    },
  });
  new Gauge({
    name: 'westfall_model_state',
    help: 'Model load state (1 for the current state)',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const s = manager.status().state;
      for (const state of ['none', 'loading', 'ready', 'error']) this.set({ state }, state === s ? 1 : 0);
    },
  });
  new Gauge({
    name: 'westfall_model_loaded',
    help: '1 when a model is loaded and ready',
    registers: [registry],
    collect() {
      this.set(manager.status().state === 'ready' ? 1 : 0);
    },
  });
  // Conversation states on disk (engine/prompt-cache.ts).
  const diskStat = <K extends keyof import('../engine/index.js').PromptCacheStats>(key: K) => () => Number(manager.promptCache?.stats()[key] ?? 0);
  const diskGauges: [string, string, () => number][] = [
    ['westfall_prompt_cache_disk_bytes', 'Bytes of saved conversation states on disk', diskStat('bytes')],
    ['westfall_prompt_cache_disk_limit_bytes', 'Cap for the saved conversation states', diskStat('maxBytes')],
    ['westfall_prompt_cache_disk_entries', 'Saved conversation states on disk', diskStat('entries')],
    ['westfall_prompt_cache_disk_saves', 'States saved since start', diskStat('saves')],
    ['westfall_prompt_cache_disk_save_failures', 'States that could not be written since start (full disk, say)', diskStat('saveFailures')],
    ['westfall_prompt_cache_disk_loads', 'Saved states loaded and used since start', diskStat('hits')],
    ['westfall_prompt_cache_disk_load_misses', 'Saved states read but not used since start (damaged, or another layout)', diskStat('misses')],
    ['westfall_prompt_cache_disk_removed_bad', 'Damaged or unreadable state files removed since start', diskStat('removedBad')],
    ['westfall_prompt_cache_disk_evictions', 'States removed to stay under the cap since start', diskStat('evictions')],
    ['westfall_prompt_cache_disk_load_seconds', 'Time spent reading and checking loaded states since start', () => diskStat('loadMs')() / 1000],
  ];
  for (const [name, help, read] of diskGauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  }
  new Gauge({
    name: 'westfall_process_memory_bytes',
    help: 'Process memory by kind (rss includes the model weights mapped in memory)',
    labelNames: ['kind'],
    registers: [registry],
    collect() {
      const u = process.memoryUsage();
      this.set({ kind: 'rss' }, u.rss);
      this.set({ kind: 'heap_used' }, u.heapUsed);
      this.set({ kind: 'heap_total' }, u.heapTotal);
      this.set({ kind: 'external' }, u.external);
      this.set({ kind: 'array_buffers' }, u.arrayBuffers);
    },
  });
  return m;
}

export function recordGeneration(m: Metrics, e: GenerationEvent): void {
  m.generations.inc({ kind: e.kind, stop_reason: e.stopReason });
  if (e.usage) {
    m.generatedTokens.inc({ kind: e.kind }, e.usage.completionTokens);
    m.promptTokens.inc({ kind: e.kind }, e.usage.promptTokens);
    m.reusedPromptTokens.inc({ kind: e.kind }, e.usage.reusedPromptTokens);
    const own = e.usage.reusedPromptTokens - e.usage.restoredPromptTokens - e.usage.copiedPromptTokens;
    for (const [source, n] of [
      ['sequence', own],
      ['shared', e.usage.copiedPromptTokens],
      ['disk', e.usage.restoredPromptTokens],
    ] as const) {
      if (n <= 0) continue;
      m.promptCacheHits.inc({ source });
      m.promptCacheTokens.inc({ source }, n);
    }
  }
  if (e.timings) {
    m.queueWait.observe({ kind: e.kind }, e.timings.queueMs / 1000);
    if (e.timings.timeToFirstTokenMs >= 0 && (e.usage?.completionTokens ?? 0) > 0) {
      m.timeToFirstToken.observe({ kind: e.kind }, e.timings.timeToFirstTokenMs / 1000);
    }
    if (e.timings.generationTokensPerSecond > 0) m.tokensPerSecond.observe({ kind: e.kind }, e.timings.generationTokensPerSecond);
  }
}

export interface MetricsPluginOptions {
  metrics: Metrics;
  manager: ModelManager;
}

export const metricsPlugin = fp<MetricsPluginOptions>(
  async function metricsPlugin(app: FastifyInstance, { metrics, manager }) {
    const onGeneration = (e: GenerationEvent) => recordGeneration(metrics, e);
    const onLoad = (e: { id: string; ok: boolean; code?: string; ms: number }) => {
      metrics.modelLoads.inc({ model: e.id, result: e.ok ? 'ok' : (e.code ?? 'error') });
      if (e.ok) metrics.modelLoadSeconds.observe({ model: e.id }, e.ms / 1000);
    };
    const onUnload = (e: { id: string; reason: string }) => metrics.modelUnloads.inc({ model: e.id, reason: e.reason });
    manager.on('generation', onGeneration);
    manager.on('load', onLoad);
    manager.on('unload', onUnload);
    app.addHook('onClose', async () => {
      manager.off('generation', onGeneration);
      manager.off('load', onLoad);
      manager.off('unload', onUnload);
    });

    app.addHook('onResponse', async (request, reply) => {
      // Unmatched URLs share one label so scanners cannot blow up the series count.
      const route = request.is404 ? 'unmatched' : (request.routeOptions.url ?? 'unmatched');
      metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
      metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    });

    app.get('/metrics', { config: { public: true } }, async (_request, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    });
  },
  { name: 'westfall-metrics' },
);
