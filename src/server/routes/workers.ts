// /api/workers: the workers models are split over (docs/rpc.md). Settings lists them with what each
// offers and holds; a change of the list or of the split reloads the model over the new set on its next
// request (the old child process ends, freeing the workers).
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { WestfallError } from '../../errors.js';
import { parseWith } from '../errors.js';
import type { Workers } from '../workers/index.js';

const putSchema = z
  .object({
    enabled: z.boolean(),
    workers: z.array(z.string().min(1).max(300)).max(16),
    split: z.array(z.number().min(0)).max(17).nullable(),
  })
  .partial()
  .strict();

const probeSchema = z.object({ endpoint: z.string().min(1).max(300) }).strict();

export function workersRoutes(workers: Workers): FastifyPluginAsync {
  const describe = async (probe: boolean) => {
    const s = workers.settings.get();
    return {
      enabled: s.enabled,
      split: s.split,
      workers: probe ? await workers.status() : workers.snapshot(),
      model: workers.host.current(),
    };
  };
  return async (app) => {
    app.get('/api/workers', async () => describe(true));

    app.put('/api/workers', async (req) => {
      const body = parseWith(putSchema, req.body);
      const before = workers.settings.get();
      const after = workers.settings.update(body);
      const changed = before.enabled !== after.enabled || before.workers.join() !== after.workers.join() || (before.split ?? []).join() !== (after.split ?? []).join();
      // The model over the old set goes; the next request loads it over the new one (or here, if none).
      if (changed && workers.host.current().model) await workers.host.unload();
      return describe(true);
    });

    app.post('/api/workers/probe', async (req) => {
      const { endpoint } = parseWith(probeSchema, req.body);
      try {
        const p = await workers.probe(endpoint);
        return { ...p, memoryFree: p.devices.reduce((n, d) => n + d.memoryFree, 0), memoryTotal: p.devices.reduce((n, d) => n + d.memoryTotal, 0) };
      } catch (err) {
        if (err instanceof WestfallError) throw err;
        throw new WestfallError('rpc_worker_unreachable', String(err));
      }
    });
  };
}
