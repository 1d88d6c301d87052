// Liveness and readiness, without a token: GET /health and GET /health/ready.
import type { FastifyPluginAsync } from 'fastify';
import { WestfallError } from '../../errors.js';
import type { AppContext } from '../context.js';
import type { HealthResponse, ReadyResponse } from '../schemas.js';

export const healthRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get('/health', { config: { public: true } }, async (): Promise<HealthResponse> => ({
    status: 'ok',
    version: ctx.version,
    uptimeSeconds: Math.round((performance.now() - ctx.startedAt) / 10) / 100,
    model: { state: ctx.manager.status().state },
  }));

  app.get('/health/ready', { config: { public: true } }, async (): Promise<ReadyResponse> => {
    if (ctx.closing || ctx.manager.shuttingDown) throw new WestfallError('shutting_down', 'the service is shutting down');
    const s = ctx.manager.status();
    switch (s.state) {
      case 'ready':
        return { status: 'ready', model: s.model!, scheduler: ctx.manager.stats() };
      case 'loading':
        throw new WestfallError('model_loading', `the model is loading (${Math.round((s.progress ?? 0) * 100)}%)`, {
          details: { state: s.state, path: s.path, progress: s.progress },
        });
      case 'error':
        throw new WestfallError('model_load_failed', `the model failed to load: ${s.error?.message ?? 'unknown error'}`, {
          details: { state: s.state, path: s.path, error: s.error },
        });
      default:
        throw new WestfallError('model_not_loaded', 'no model is loaded: load one (POST /api/models/load) or start with --model', {
          details: { state: s.state },
        });
    }
  });
};
