// /api/prompt-cache: the conversation states kept on disk so chats resume without re-reading their
// history (engine/prompt-cache.ts). Settings shows the space they take, changes the cap and clears them.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { PromptCache } from '../../engine/index.js';
import { WestfallError } from '../../errors.js';
import type { AppContext } from '../context.js';
import { parseWith } from '../errors.js';

const MB = 1024 * 1024;
const patchSchema = z.object({ maxBytes: z.number().int().min(0).max(4096 * 1024 * MB) }).strict();

function cacheOf(ctx: AppContext): PromptCache {
  const cache = ctx.manager.promptCache;
  if (!cache) throw new WestfallError('not_found', 'this backend keeps no conversation states');
  return cache;
}

function describe(cache: PromptCache) {
  return { dir: cache.dir, ...cache.stats() };
}

export const promptCacheRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get('/api/prompt-cache', async () => {
    const cache = cacheOf(ctx);
    await cache.open();
    return describe(cache);
  });

  app.patch('/api/prompt-cache', async (req) => {
    const body = parseWith(patchSchema, req.body);
    const cache = cacheOf(ctx);
    await cache.setMaxBytes(body.maxBytes, { persist: true });
    return describe(cache);
  });

  app.delete('/api/prompt-cache', async () => {
    const cache = cacheOf(ctx);
    await cache.clear();
    return describe(cache);
  });
};
