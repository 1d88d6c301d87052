// createApp(config, deps): the Fastify service. Each area is a plugin: security (Host, Origin/CORS,
// bearer token), errors (one catalog-driven handler), metrics, health, system, chat, stream (WebSocket)
// and the OpenAI-compatible routes; deps.extraPlugins (e.g. the models routes) are registered the same way
// and receive { config, manager }.
import type { ServerResponse } from 'node:http';
import websocket from '@fastify/websocket';
import Fastify, { LogController, type FastifyInstance, type FastifyPluginAsync, type FastifyPluginCallback, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Config } from '../config/index.js';
import type { RemoteChat } from '../providers/remote-chat.js';
import { linkProvidersToRouter } from '../providers/router-link.js';
import { providerRoutes } from '../providers/routes.js';
import { WestfallError } from '../errors.js';
import { REQUEST_ID_HEADER, genRequestId, type Logger } from '../logging/index.js';
import { VERSION } from '../version.js';
import type { AppContext, ServerPluginOptions } from './context.js';
import { errorsPlugin, sendError } from './errors.js';
import { createMetrics, metricsPlugin } from './metrics.js';
import { ModelManager } from './model-manager.js';
import { loadedModelsRoutes } from './routes/loaded-models.js';
import { chatRoutes } from './routes/chat.js';
import { healthRoutes } from './routes/health.js';
import { openAIRoutes } from './routes/openai.js';
import { promptCacheRoutes } from './routes/prompt-cache.js';
import { WS_CLOSE_GOING_AWAY, streamRoutes } from './routes/stream.js';
import { systemRoutes } from './routes/system.js';
import { workersRoutes } from './routes/workers.js';
import type { Workers } from './workers/index.js';
import { securityPlugin, selectSubprotocol } from './security.js';
import type { SessionSecret } from './session.js';
import { ActiveStreams } from './streams.js';

export type { ServerPluginOptions } from './context.js';

/** A plugin of another area, registered by createApp with { config, manager }. */
export type ServerPlugin = FastifyPluginAsync<ServerPluginOptions> | FastifyPluginCallback<ServerPluginOptions>;

export interface AppDeps {
  /** The model manager; default: a new one from config (no model loaded). */
  manager?: ModelManager;
  /** pino logger for requests and the service; default: none. */
  logger?: Logger;
  /** More route plugins (e.g. the models routes); they get { config, manager }. */
  extraPlugins?: ServerPlugin[];
  /** The secret browser sessions are signed with (session.ts); default: the login routes' one, if any. */
  sessions?: SessionSecret;
  /** Close the manager (abort generations, free the model) when the app closes; default true. */
  closeManager?: boolean;
  /** Remote OpenAI-compatible providers (src/providers: createProviders); default none. */
  remote?: RemoteChat;
  /** Workers to split models over (createWorkers(manager, ...)); default none. */
  workers?: Workers;
}

declare module 'fastify' {
  interface FastifyInstance {
    westfall: AppContext;
  }
}

/**
 * Fastify logs two info lines per request; the UI polls /api/system every few seconds, which buried the
 * login link under hundreds of lines in a terminal. Routine requests are logged at debug, failed ones
 * (5xx) at warn.
 */
class QuietRequestLogs extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null, _request: FastifyRequest, reply: FastifyReply): void {
    const line = { res: reply, responseTime: reply.elapsedTime };
    if (error || reply.statusCode >= 500) reply.log.warn({ ...line, ...(error ? { err: error } : {}) }, 'request completed');
    else reply.log.debug(line, 'request completed');
  }
}

export function createApp(config: Config, deps: AppDeps = {}): FastifyInstance {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    genReqId: genRequestId,
    bodyLimit: config.bodyLimit,
    // Our own 503 (shutting_down, in our error shape) instead of Fastify's.
    return503OnClosing: false,
    // After preClose has let every response finish, remaining keep-alive sockets are cut.
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true },
    // A URL the router cannot decode (a stray '%') or a path parameter over its length limit is answered
    // before any route or hook, by default in Fastify's shape; this sends it through ours.
    frameworkErrors: (err, request, reply) => void sendError(request, reply, err),
    logController: new QuietRequestLogs(),
  }) as unknown as FastifyInstance;

  const manager = deps.manager ?? ModelManager.fromConfig(config, deps.logger);
  const ctx: AppContext = {
    config,
    manager,
    metrics: createMetrics(manager),
    streams: new ActiveStreams(),
    version: VERSION,
    startedAt: performance.now(),
    sessions: deps.sessions ?? null,
    closing: false,
    remote: deps.remote ?? null,
    workers: deps.workers ?? null,
  };
  app.decorate('westfall', ctx);
  // Remote providers' models join the router next to the local ones (src/providers).
  const unlinkProviders = deps.remote ? linkProvidersToRouter(manager.router, deps.remote) : null;

  // HTTP responses in progress (not WebSocket upgrades), so shutdown can let them finish.
  const responses = new Set<ServerResponse>();
  app.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (request.headers.upgrade === undefined) {
      const res = reply.raw;
      responses.add(res);
      res.once('close', () => responses.delete(res));
    }
    if (ctx.closing && request.routeOptions.config?.public !== true) throw new WestfallError('shutting_down');
  });

  // Shutdown, first step (before the WebSocket plugin closes its sockets): refuse new work, end every
  // generation with shutting_down and give each stream the time to send its final message.
  app.addHook('preClose', async () => {
    ctx.closing = true;
    app.log.info({ streams: ctx.streams.size, ...manager.stats() }, 'closing: ending streams and generations');
    manager.beginShutdown();
    ctx.remote?.closeStreams();
    const deadline = Date.now() + Math.max(100, config.shutdownTimeoutMs - 1000);
    const drained = await ctx.streams.drain(deadline - Date.now());
    if (!drained) app.log.warn({ streams: ctx.streams.size }, 'some streams did not end in time');
    while (responses.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    if (responses.size > 0) app.log.warn({ responses: responses.size }, 'some responses did not finish in time');
  });
  app.addHook('onClose', async () => {
    unlinkProviders?.();
    app.log.info('closed: freeing the model');
    if (deps.closeManager !== false) await manager.close(1000);
  });

  void app.register(errorsPlugin);
  // Before security: its onRequest hook marks upgrade requests, so a refused upgrade's socket is closed.
  void app.register(websocket, {
    options: { maxPayload: config.bodyLimit, handleProtocols: selectSubprotocol },
    preClose(done) {
      const wss = this.websocketServer;
      for (const client of wss.clients) client.close(WS_CLOSE_GOING_AWAY, 'server shutting down');
      // A client that does not answer the closing handshake is cut off after a second.
      const timer = setTimeout(() => {
        for (const client of wss.clients) client.terminate();
      }, 1000);
      timer.unref();
      wss.close(() => {
        clearTimeout(timer);
        done();
      });
    },
  });
  void app.register(securityPlugin, { config, sessions: () => ctx.sessions });
  void app.register(metricsPlugin, { metrics: ctx.metrics, manager });
  void app.register(healthRoutes, { ctx });
  void app.register(systemRoutes, { ctx });
  void app.register(promptCacheRoutes, { ctx });
  void app.register(chatRoutes, { ctx });
  void app.register(streamRoutes, { ctx });
  void app.register(openAIRoutes, { ctx });
  // /api/providers, when this app can use remote providers at all.
  if (deps.remote) void app.register(providerRoutes(deps.remote.service));
  if (deps.workers) void app.register(workersRoutes(deps.workers));
  void app.register(loadedModelsRoutes, { ctx });
  for (const plugin of deps.extraPlugins ?? []) void app.register(plugin as FastifyPluginAsync<ServerPluginOptions>, { config, manager });
  return app;
}
