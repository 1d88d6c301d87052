// /api/models/available: every model a chat can use (local installed ones with their load state, and
// remote ones), for the per-chat model picker; /api/models/:id/load and /api/models/:id/unload load and
// unload one local model beside the others (POST /api/models/load in routes/models.ts sets the default);
// PUT /api/models/:id/settings keeps a model's own context size and GPU layers.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { WestfallError } from '../../errors.js';
import type { AppContext } from '../context.js';
import { parseWith } from '../errors.js';
import { keepAliveSchema, modelNameSchema } from '../schemas.js';

const idParams = z.object({ id: modelNameSchema });
const loadBody = z
  .object({
    keepAlive: keepAliveSchema.optional(),
    contextSize: z.number().int().min(64).max(1 << 20).optional(),
    gpuLayers: z.union([z.literal('auto'), z.number().int().min(-1)]).optional(),
  })
  .strict();
const settingsBody = z
  .object({
    contextSize: z.number().int().min(64).max(1 << 20).optional(),
    gpuLayers: z.union([z.literal('auto'), z.number().int().min(-1)]).optional(),
  })
  .strict();

export const loadedModelsRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  const m = ctx.manager;
  const listing = () => {
    const remote = (ctx.remote?.service.models() ?? []).map((r) => ({ id: r.id, engine: r.id.split('/')[0] ?? 'remote', kind: 'remote' as const, location: r.host, state: 'ready' as const }));
    const local = m.models();
    const seen = new Set(local.map((x) => x.id));
    return {
      models: [...local, ...remote.filter((r) => !seen.has(r.id))],
      memory: { inUseBytes: m.local.memoryInUse(), limitBytes: m.options.memoryLimitBytes ?? null },
      keepAliveSeconds: m.options.keepAliveSeconds ?? 300,
    };
  };

  app.get('/api/models/available', async () => listing());

  app.post('/api/models/:id/load', async (request) => {
    const { id } = parseWith(idParams, request.params);
    const body = parseWith(loadBody, request.body ?? {});
    const settings = {
      ...(body.contextSize !== undefined ? { contextSize: body.contextSize } : {}),
      ...(body.gpuLayers !== undefined ? { gpuLayers: body.gpuLayers } : {}),
    };
    await m.loadModel(id, { ...(body.keepAlive !== undefined ? { keepAlive: body.keepAlive } : {}), settings });
    return listing();
  });

  // A model's own context size and GPU layers, kept across restarts; used from its next load.
  app.put('/api/models/:id/settings', async (request) => {
    const { id } = parseWith(idParams, request.params);
    const body = parseWith(settingsBody, request.body ?? {});
    if (!m.local.models().some((x) => x.id === id)) throw new WestfallError('model_not_found', `no model named "${id}" is installed`, { details: { model: id } });
    return { model: id, settings: m.local.setSettings(id, body) };
  });

  app.post('/api/models/:id/unload', async (request) => {
    const { id } = parseWith(idParams, request.params);
    await m.unload(id);
    return listing();
  });
};
