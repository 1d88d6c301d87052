// Workers: settings, the child-process engine that splits models over them, and what the UI shows about
// each (reachable, free memory, layers given). Created by the CLI's `serve` and handed to createApp.
import { probeWorker, type WorkerProbe } from '../../engine/rpc.js';
import { isWestfallError } from '../../errors.js';
import type { Logger } from '../../logging/index.js';
import type { ModelManager } from '../model-manager.js';
import { WorkerHostEngine } from '../models/worker-host.js';
import { WorkerSettings } from './settings.js';

export { WorkerSettings, workerSettingsSchema, WORKERS_FILE, type WorkerSettingsData } from './settings.js';

export interface WorkerStatus {
  endpoint: string;
  /** Answered the last probe, or holds a part of the loaded model. */
  reachable: boolean;
  /** Holds layers of the loaded model (it serves one client at a time: ours). */
  inUse: boolean;
  version: string | null;
  memoryFree: number | null;
  memoryTotal: number | null;
  /** Layers of the loaded model on it; null when no model is split over it. */
  layers: number | null;
  error: { code: string; message: string } | null;
  checkedAt: string | null;
}

export interface Workers {
  settings: WorkerSettings;
  host: WorkerHostEngine;
  /** Each configured worker's status; probes those not in use, at most every `maxAgeMs`. */
  status(options?: { maxAgeMs?: number }): Promise<WorkerStatus[]>;
  /** The last known statuses, without probing (for /api/system, which the UI polls). */
  snapshot(): WorkerStatus[];
  /** Probes one address (Settings → "Test"). */
  probe(endpoint: string): Promise<WorkerProbe>;
}

export function createWorkers(manager: ModelManager, options: { stateDir: string | null; logger?: Logger; settings?: WorkerSettings }): Workers {
  const settings = options.settings ?? (options.stateDir ? WorkerSettings.open(options.stateDir, options.logger) : WorkerSettings.inMemory());
  const o = manager.options;
  const host = new WorkerHostEngine({
    workers: () => settings.get().workers,
    enabled: () => settings.get().enabled,
    split: () => settings.get().split ?? undefined,
    modelsDir: o.modelsDir ?? null,
    defaults: o,
    settingsOf: (id) => manager.local.settingsOf(id),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  manager.attachWorkerHost(host);

  const probes = new Map<string, { at: number; status: WorkerStatus }>();
  const fromPlacement = (endpoint: string): WorkerStatus | null => {
    const cur = host.current();
    const w = cur.placement?.workers.filter((x) => x.endpoint === endpoint) ?? [];
    if (w.length === 0 || (cur.state !== 'ready' && cur.state !== 'loading')) return null;
    return {
      endpoint,
      reachable: true,
      inUse: true,
      version: null,
      memoryFree: w.reduce((n, x) => n + x.memoryFree, 0),
      memoryTotal: w.reduce((n, x) => n + x.memoryTotal, 0),
      layers: w.reduce((n, x) => n + x.layers, 0),
      error: null,
      checkedAt: new Date().toISOString(),
    };
  };
  const probeStatus = async (endpoint: string): Promise<WorkerStatus> => {
    try {
      const p = await probeWorker(endpoint, { timeoutMs: 3000 });
      return {
        endpoint,
        reachable: true,
        inUse: false,
        version: p.version,
        memoryFree: p.devices.reduce((n, d) => n + d.memoryFree, 0),
        memoryTotal: p.devices.reduce((n, d) => n + d.memoryTotal, 0),
        layers: null,
        error: null,
        checkedAt: new Date().toISOString(),
      };
    } catch (err) {
      const e = isWestfallError(err) ? { code: err.code, message: err.message } : { code: 'internal_error', message: String(err) };
      return { endpoint, reachable: false, inUse: false, version: null, memoryFree: null, memoryTotal: null, layers: null, error: e, checkedAt: new Date().toISOString() };
    }
  };
  const snapshot = (): WorkerStatus[] =>
    settings.get().workers.map(
      (ep) =>
        fromPlacement(ep) ??
        probes.get(ep)?.status ?? { endpoint: ep, reachable: false, inUse: false, version: null, memoryFree: null, memoryTotal: null, layers: null, error: null, checkedAt: null },
    );
  return {
    settings,
    host,
    snapshot,
    probe: (endpoint) => probeWorker(endpoint, { timeoutMs: 5000 }),
    async status({ maxAgeMs = 5000 } = {}) {
      const list = settings.get().workers;
      await Promise.all(
        list.map(async (ep) => {
          if (fromPlacement(ep)) return;
          const c = probes.get(ep);
          if (c && Date.now() - c.at < maxAgeMs) return;
          probes.set(ep, { at: Date.now(), status: await probeStatus(ep) });
        }),
      );
      for (const k of probes.keys()) if (!list.includes(k)) probes.delete(k);
      return snapshot();
    },
  };
}
