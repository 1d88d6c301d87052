// GET /api/system: the engine build (backend, devices), memory, CPU, platform, model and scheduler state.
import { cpus, freemem, totalmem } from 'node:os';
import type { FastifyPluginAsync } from 'fastify';
import { systemInfo } from '../../engine/index.js';
import type { AppContext } from '../context.js';
import type { SystemResponse } from '../schemas.js';

export const systemRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get('/api/system', async (): Promise<SystemResponse> => {
    const mem = process.memoryUsage();
    const cpuList = cpus();
    return {
      version: ctx.version,
      engine: systemInfo(),
      memory: {
        totalBytes: totalmem(),
        freeBytes: freemem(),
        process: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed, externalBytes: mem.external },
      },
      cpu: { model: cpuList[0]?.model.trim() ?? 'unknown', cores: cpuList.length },
      platform: { os: process.platform, arch: process.arch, node: process.version },
      model: ctx.manager.status(),
      scheduler: ctx.manager.stats(),
      // Last known, not probed here: the UI polls this route (GET /api/workers probes).
      workers: ctx.workers?.snapshot() ?? [],
    };
  });
};
