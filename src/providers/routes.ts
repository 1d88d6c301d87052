// /api/providers: add, list (with each one's health), change, remove and test remote providers. The API
// key is write-only: requests may set or clear it, no answer ever contains it (only hasApiKey).
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { parseWith } from '../server/errors.js';
import type { ProviderService } from './service.js';
import { providerInputSchema, providerPatchSchema, providerTestSchema } from './types.js';

const idParams = z.object({ id: z.string().min(1).max(64) });
const listQuery = z.object({ check: z.enum(['0', '1', 'true', 'false']).optional() }).passthrough();

export function providerRoutes(service: ProviderService): FastifyPluginAsync {
  return async (app) => {
    app.get('/api/providers', async (request) => {
      const q = parseWith(listQuery, request.query ?? {}, 'query');
      const wait = q.check === '1' || q.check === 'true';
      // Stale health is refreshed; the list answers at once unless the caller asks to wait for the checks.
      const refresh = service.refresh(wait);
      if (wait) await refresh;
      else refresh.catch(() => {});
      return { providers: service.list(), remoteEnabled: service.active };
    });

    app.post('/api/providers', async (request, reply) => {
      const input = parseWith(providerInputSchema, request.body);
      const p = service.create(input);
      await service.check(p.id);
      return reply.code(201).send(service.get(p.id));
    });

    // Connection details not saved yet: "connected, 3 models" before the user commits to them.
    app.post('/api/providers/test', async (request) => {
      const body = parseWith(providerTestSchema, request.body);
      return service.testDetails(body);
    });

    app.get('/api/providers/:id', async (request) => service.get(parseWith(idParams, request.params, 'path').id));

    app.patch('/api/providers/:id', async (request) => {
      const { id } = parseWith(idParams, request.params, 'path');
      const patch = parseWith(providerPatchSchema, request.body);
      service.update(id, patch);
      if (service.get(id).enabled) await service.check(id);
      return service.get(id);
    });

    app.delete('/api/providers/:id', async (request, reply) => {
      service.remove(parseWith(idParams, request.params, 'path').id);
      return reply.code(204).send();
    });

    app.post('/api/providers/:id/test', async (request) => {
      const { id } = parseWith(idParams, request.params, 'path');
      const health = await service.check(id);
      const n = health.models.length;
      return {
        ok: health.state === 'ok',
        summary: health.state === 'ok' ? `connected, ${n} model${n === 1 ? '' : 's'}` : (health.error?.message ?? 'failed'),
        provider: service.get(id),
      };
    });
  };
}
