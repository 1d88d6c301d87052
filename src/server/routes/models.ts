// /api/models: installed models, the catalog, downloads (with a Server-Sent Events progress stream), delete,
// load and unload. Every body and parameter is validated with zod; failures are WestfallErrors that the
// server's error handler turns into `{ error: { type, code, message, details } }`.
//
// Register without a prefix (the routes carry their full paths):
//   await app.register(modelsRoutes, { config, manager });

import { PassThrough } from 'node:stream';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { WestfallError } from '../../errors.js';
import { MODEL_CATALOG, MODEL_FILE_NAME_RE, SHA256_RE, type CatalogEntry } from '../../models/catalog.js';
import { detectMachineMemory, fitCatalog, type MachineMemory } from '../../models/fit.js';
import { TYPICAL_CONTEXT } from '../../models/footprint.js';
import type { CatalogListing } from '../../models/types.js';
import {
  ModelStore,
  firstRunStatus,
  isTerminal,
  type DownloadDefaults,
  type DownloadEvent,
  type DownloadRequest,
} from '../../models/store.js';

export { firstRunStatus, type FirstRunStatus } from '../../models/store.js';

/** What the routes need from the server's configuration (the full Config satisfies it). */
export interface ModelsRoutesConfig {
  modelsDir: string;
}

/** What the routes need from the server's model manager (accepted structurally). */
export interface ModelManagerLike {
  load(path: string, opts: { contextSize?: number; gpuLayers?: number | 'auto' }): Promise<unknown>;
  unload(): Promise<unknown> | unknown;
  status(): unknown;
}

export interface ModelsRoutesOptions {
  config: ModelsRoutesConfig;
  manager: ModelManagerLike;
  /** A store to use (shared with other parts of the server); created from config.modelsDir when absent. */
  store?: ModelStore;
  catalog?: readonly CatalogEntry[];
  /** Download settings for a store this plugin creates (tests inject fetch/statfs here). */
  download?: DownloadDefaults;
  /** Interval of SSE keep-alive comments. Default 15 s. */
  sseHeartbeatMs?: number;
  /** The memory the catalog's recommendation is for; default: this machine's (tests pass fake sizes). */
  machineMemory?: () => MachineMemory | Promise<MachineMemory>;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const fields = r.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  const list = fields.map((f) => `${f.path}: ${f.message}`).join('; ');
  throw new WestfallError('invalid_params', `invalid ${what}: ${list}`, { details: { fields } });
}

const fileNameSchema = z
  .string()
  .regex(MODEL_FILE_NAME_RE, 'must be a bare file name ending in .gguf (letters, digits, dot, dash, underscore)');
const sha256Schema = z
  .string()
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.string().regex(SHA256_RE, 'must be 64 hex digits'));

const downloadBodySchema = z.union([
  z.object({ catalogId: z.string().min(1).max(200) }).strict(),
  z
    .object({
      url: z.url({ protocol: /^https?$/ }),
      /** Defaults to the last path segment of the URL. */
      fileName: fileNameSchema.optional(),
      /** Without it the server must announce the hash (X-Linked-ETag) or the download fails with checksum_unavailable. */
      sha256: sha256Schema.optional(),
    })
    .strict(),
]);
const idParamsSchema = z.object({ id: z.string().min(1).max(200) });
const fileParamsSchema = z.object({ fileName: fileNameSchema });
const cancelQuerySchema = z.object({ discard: z.enum(['true', 'false', '1', '0']).optional() });
const loadBodySchema = z
  .object({
    fileName: fileNameSchema,
    contextSize: z.number().int().min(64).max(1 << 20).optional(),
    gpuLayers: z.union([z.literal('auto'), z.number().int().min(-1)]).optional(),
  })
  .strict();

/** The path of the loaded model according to the manager's status, whatever its exact shape. */
export function loadedModelPath(status: unknown): string | undefined {
  if (status === null || typeof status !== 'object') return undefined;
  const s = status as Record<string, unknown>;
  for (const key of ['path', 'modelPath']) if (typeof s[key] === 'string') return s[key];
  for (const key of ['model', 'loaded', 'info']) {
    const inner = s[key];
    if (inner && typeof inner === 'object') {
      const p = (inner as Record<string, unknown>).path ?? (inner as Record<string, unknown>).modelPath;
      if (typeof p === 'string') return p;
    }
  }
  return undefined;
}

function fileNameFromUrl(url: string): string {
  let last = '';
  try {
    last = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  } catch {
    last = '';
  }
  return parse(z.object({ fileName: fileNameSchema }), { fileName: last }, 'download (fileName from url)').fileName;
}

const modelsRoutes: FastifyPluginAsync<ModelsRoutesOptions> = async (app: FastifyInstance, opts) => {
  const catalog = opts.catalog ?? opts.store?.catalog ?? MODEL_CATALOG;
  const store =
    opts.store ??
    new ModelStore({ modelsDir: opts.config.modelsDir, catalog, ...(opts.download ? { download: opts.download } : {}) });
  const manager = opts.manager;
  const heartbeatMs = opts.sseHeartbeatMs ?? 15_000;
  const machineMemory = opts.machineMemory ?? detectMachineMemory;
  const openStreams = new Set<PassThrough>();
  // Downloads that an earlier process left: running ones start again, cancelled or failed ones are listed.
  await store.recover();

  // preClose, not onClose: the server waits for open connections before onClose, and an SSE stream stays open
  // until its download ends. Cancelling the downloads ends their streams with a final `error` (aborted).
  app.addHook('preClose', async () => {
    await store.close();
    for (const s of openStreams) s.end();
  });

  const currentStatus = async (): Promise<unknown> => await manager.status();

  app.get('/api/models', async () => {
    const [installed, partial, status, first] = await Promise.all([
      store.list(),
      store.listPartial(),
      currentStatus(),
      store.firstRunStatus(),
    ]);
    const loadedPath = loadedModelPath(status);
    return {
      modelsDir: store.modelsDir,
      models: installed.map((m) => ({ ...m, loaded: loadedPath !== undefined && loadedPath === m.path })),
      partial,
      loaded: status ?? null,
      firstRun: first.firstRun,
      defaultModel: first.firstRun ? first.defaultModel.id : undefined,
    };
  });

  app.get('/api/models/catalog', async (): Promise<CatalogListing> => {
    const [list, machine] = await Promise.all([store.list(), machineMemory()]);
    const installed = new Set(list.map((m) => m.fileName));
    const def = catalog.find((c) => c.default === true);
    const fit = fitCatalog(catalog, machine);
    return {
      default: def?.id ?? null,
      recommended: fit.recommended,
      memoryContext: TYPICAL_CONTEXT,
      machine: { totalMemoryBytes: machine.totalBytes, gpuMemoryBytes: machine.gpuBytes ?? null, budgetBytes: fit.budgetBytes },
      models: catalog.map((c) => ({
        ...c,
        installed: installed.has(c.fileName),
        fits: fit.fits.get(c.id) === true,
        recommended: c.id === fit.recommended,
      })),
    };
  });

  app.post('/api/models/downloads', async (req, reply) => {
    const body = parse(downloadBodySchema, req.body, 'download request');
    const request: DownloadRequest =
      'catalogId' in body
        ? { catalogId: body.catalogId }
        : {
            url: body.url,
            fileName: body.fileName ?? fileNameFromUrl(body.url),
            ...(body.sha256 !== undefined ? { sha256: body.sha256 } : {}),
          };
    const snap = await store.startDownload(request);
    reply.code(202).header('location', `/api/models/downloads/${snap.id}`);
    return { id: snap.id, download: snap };
  });

  app.get('/api/models/downloads', async () => ({ downloads: store.listDownloads() }));

  app.get('/api/models/downloads/:id', async (req) => {
    const { id } = parse(idParamsSchema, req.params, 'parameters');
    return store.getDownload(id);
  });

  app.get('/api/models/downloads/:id/events', async (req, reply) => {
    const { id } = parse(idParamsSchema, req.params, 'parameters');
    const first = store.getDownload(id); // unknown id → 404 before the stream starts

    const stream = new PassThrough();
    openStreams.add(stream);
    const send = (event: string, data: unknown): void => {
      if (!stream.writableEnded) stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let unsubscribe: (() => void) | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    const finish = (): void => {
      unsubscribe?.();
      unsubscribe = undefined;
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
      openStreams.delete(stream);
      if (!stream.writableEnded) stream.end();
    };

    if (isTerminal(first.state)) {
      send(first.state === 'verified' ? 'verified' : 'error', first);
      finish();
    } else {
      unsubscribe = store.subscribe(id, (e: DownloadEvent) => {
        send(e.type, e.download);
        if (e.type !== 'progress') finish();
      });
      send('progress', first);
      heartbeat = setInterval(() => {
        if (!stream.writableEnded) stream.write(': keep-alive\n\n');
      }, heartbeatMs);
      heartbeat.unref();
      reply.raw.on('close', finish); // client went away
    }

    reply
      .code(200)
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache, no-transform')
      .header('x-accel-buffering', 'no');
    return reply.send(stream);
  });

  app.post('/api/models/downloads/:id/resume', async (req, reply) => {
    const { id } = parse(idParamsSchema, req.params, 'parameters');
    const snap = await store.resumeDownload(id);
    reply.code(202).header('location', `/api/models/downloads/${snap.id}`);
    return { id: snap.id, download: snap };
  });

  app.delete('/api/models/downloads/:id', async (req) => {
    const { id } = parse(idParamsSchema, req.params, 'parameters');
    const { discard } = parse(cancelQuerySchema, req.query, 'query');
    return store.cancelDownload(id, { discardPartial: discard === 'true' || discard === '1' });
  });

  app.delete('/api/models/:fileName', async (req) => {
    const { fileName } = parse(fileParamsSchema, req.params, 'parameters');
    const path = store.pathOf(fileName);
    const loaded = loadedModelPath(await currentStatus());
    if (loaded !== undefined && loaded === path) {
      throw new WestfallError('model_in_use', `${fileName} is loaded; unload it before deleting`, {
        details: { fileName },
      });
    }
    await store.delete(fileName);
    return { deleted: fileName };
  });

  app.post('/api/models/load', async (req) => {
    const body = parse(loadBodySchema, req.body, 'load request');
    const path = store.pathOf(body.fileName);
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new Error('not a file');
    } catch {
      throw new WestfallError('model_not_found', `No installed model named ${body.fileName}`, {
        details: { fileName: body.fileName },
      });
    }
    const loadOpts: { contextSize?: number; gpuLayers?: number | 'auto' } = {};
    if (body.contextSize !== undefined) loadOpts.contextSize = body.contextSize;
    if (body.gpuLayers !== undefined) loadOpts.gpuLayers = body.gpuLayers;
    await manager.load(path, loadOpts);
    return { loaded: (await currentStatus()) ?? null };
  });

  app.post('/api/models/unload', async () => {
    await manager.unload();
    return { loaded: (await currentStatus()) ?? null };
  });
};

export default modelsRoutes;
