// The child process that holds a model split over workers (see worker-host.ts for why it is a child).
// It runs the same loader and scheduler as the backend's own models, for one model, and answers the
// backend over the IPC channel. When a worker is lost, ggml aborts this process; the backend sees the
// channel close and turns that into rpc_worker_lost for whatever was running.
import { initNative } from '../../engine/native.js';
import { isWestfallError } from '../../errors.js';
import type { ManagedGeneration } from './engine.js';
import { LocalEngine } from './local-engine.js';
import type { FromChild, HostConfig, ToChild, WireError } from './worker-host-protocol.js';

function send(msg: FromChild): void {
  process.send?.(msg);
}

function wire(err: unknown): WireError {
  if (isWestfallError(err)) return { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) };
  return { code: 'internal_error', message: (err as Error)?.message ?? String(err) };
}

async function main(): Promise<void> {
  const raw = process.env.WESTFALL_WORKER_HOST_CONFIG;
  if (!raw || !process.send) {
    process.stderr.write('worker-host-child: started without its configuration or IPC channel\n');
    process.exit(2);
  }
  const config = JSON.parse(raw) as HostConfig;
  // The backend going away (crash, kill -9) must not leave this process holding the workers.
  process.on('disconnect', () => process.exit(0));

  await initNative();
  const engine = new LocalEngine({
    ...config.defaults,
    workers: config.workers,
    ...(config.split ? { split: config.split } : {}),
    modelsDir: null,
    keepAliveSeconds: -1,
    // Most of the model lives on the workers: this machine's free memory is not the limit.
    memoryLimitBytes: Number.MAX_SAFE_INTEGER,
  });
  engine.on('progress', (p) => send({ type: 'progress', progress: p.progress }));
  engine.on('generation', (event) => send({ type: 'generation', event }));

  const running = new Map<number, AbortController>();
  const run = async (id: number, start: (signal: AbortSignal) => Promise<ManagedGeneration>) => {
    const ac = new AbortController();
    running.set(id, ac);
    try {
      const gen = await start(ac.signal);
      send({ type: 'started', id, genId: gen.id, modelId: gen.modelId, chatFormat: gen.chatFormat });
      for await (const chunk of gen) send({ type: 'chunk', id, chunk });
      send({ type: 'result', id, result: await gen.result });
    } catch (err) {
      send({ type: 'failed', id, error: wire(err) });
    } finally {
      running.delete(id);
    }
  };

  process.on('message', (m: ToChild) => {
    switch (m.type) {
      case 'chat':
        void run(m.id, (signal) => engine.chat({ ...m.job, model: config.modelId, signal }));
        break;
      case 'complete':
        void run(m.id, (signal) => engine.complete({ ...m.job, model: config.modelId, signal }));
        break;
      case 'embed':
        engine.embed({ model: config.modelId, texts: m.texts }).then(
          (result) => send({ type: 'embedded', id: m.id, result }),
          (err: unknown) => send({ type: 'failed', id: m.id, error: wire(err) }),
        );
        break;
      case 'abort':
        running.get(m.id)?.abort();
        break;
      case 'close':
        void engine.close().finally(() => process.exit(0));
        break;
    }
  });

  try {
    const m = await engine.load(config.modelPath, { settings: config.settings, keepAlive: -1 });
    send({
      type: 'ready',
      placement: m.model?.info.placement ?? null,
      status: m.status(),
      gpuLayers: m.plan?.gpuLayers ?? null,
      memoryBytes: m.plan?.memoryBytes ?? null,
    });
  } catch (err) {
    send({ type: 'load-failed', error: wire(err) });
    setImmediate(() => process.exit(1));
  }
}

void main();
