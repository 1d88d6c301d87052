// /api/models: installed models, the catalog, downloads (with a Server-Sent Events progress stream), delete,
// load and unload, importing a GGUF file from the user's disk (streamed body), and searching the model hub. Every body and parameter is validated with zod; failures are WestfallErrors that the
// server's error handler turns into `{ error: { type, code, message, details } }`.
//
// Register without a prefix (the routes carry their full paths):
//   await app.register(modelsRoutes, { config, manager });

import { PassThrough, type Readable } from 'node:stream';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { WestfallError } from '../../errors.js';
import { MODEL_CATALOG, MODEL_FILE_NAME_RE, SHA256_RE, type CatalogEntry } from '../../models/catalog.js';
import { detectMachineMemory, fitCatalog, type MachineMemory } from '../../models/fit.js';
import { TYPICAL_CONTEXT } from '../../models/footprint.js';
import { HubClient } from '../../models/hub.js';
import { importModel } from '../../models/import.js';
import type { CatalogListing, HubSearchResult } from '../../models/types.js';
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
  /** The model hub searched from the app (WESTFALL_HUB_URL); default https://huggingface.co. */
  hubUrl?: string;
}

/** What the routes need from the server's model manager (accepted structurally). */
export interface ModelManagerLike {
  load(path: string, opts: { contextSize?: number; gpuLayers?: number | 'auto' }): Promise<unknown>;
  /** No id: the loaded (default) model; an id: that one of several loaded models. */
  unload(id?: string): Promise<unknown> | unknown;
  status(): unknown;
  /** Every model with its state, when several can be loaded at once (the server's ModelManager). */
  models?(): { id: string; path?: string; state: string }[];
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
  /** The model hub's base URL; default config.hubUrl, else https://huggingface.co. */
  hubUrl?: string;
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
      /**
       * Without it: the hash the hub publishes for the file (its file list, or the download's X-Linked-ETag
       * header); when neither exists the file is downloaded unverified and its snapshot says hashSource 'none'.
       */
      sha256: sha256Schema.optional(),
      /** The size the hub lists, for the disk-space check before the server sends a length. */
      expectedSize: z.number().int().nonnegative().optional(),
    })
    .strict(),
]);
const idParamsSchema = z.object({ id: z.string().min(1).max(200) });
const fileParamsSchema = z.object({ fileName: fileNameSchema });
const importQuerySchema = z.object({
  fileName: fileNameSchema,
  overwrite: z.enum(['true', 'false', '1', '0']).optional(),
});
const hubSearchQuerySchema = z.object({
  q: z.string().trim().min(1, 'type part of a model name').max(200),
  limit: z.coerce.number().int().min(1).max(30).optional(),
});
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
  // The downloads' fetch is this plugin's network: a test or fuzzer that replaces it keeps the hub local too.
  const hub = new HubClient({
    baseUrl: opts.hubUrl ?? opts.config.hubUrl,
    ...(opts.download?.fetchImpl ? { fetchImpl: opts.download.fetchImpl } : {}),
  });
  // An imported model arrives as the raw request body, read as a stream (never buffered, so no body limit).
  app.addContentTypeParser('application/octet-stream', (_req, payload, done) => done(null, payload));
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
    let request: DownloadRequest;
    if ('catalogId' in body) {
      request = { catalogId: body.catalogId };
    } else {
      let sha256 = body.sha256;
      // An empty SHA-256 field means "the one the hub publishes": looked up in the hub's file list when the
      // URL is one of its downloads (a mirror may not send X-Linked-ETag); a hub that cannot answer leaves
      // it to the download's own headers.
      const onHub = sha256 === undefined ? hub.parseResolveUrl(body.url) : undefined;
      if (onHub) sha256 = await hub.sha256Of(onHub.repo, onHub.path).catch(() => undefined);
      request = {
        url: body.url,
        fileName: body.fileName ?? fileNameFromUrl(body.url),
        ...(sha256 !== undefined ? { sha256 } : { allowUnverified: true }),
        ...(body.expectedSize !== undefined ? { expectedSize: body.expectedSize } : {}),
      };
    }
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
    await stat(path).catch(() => {
      throw new WestfallError('model_not_found', `No installed model named ${fileName}`, { details: { fileName } });
    });
    // The loaded model is unloaded first (the UI has asked the user), so deleting never fails on it.
    const loaded = loadedModelPath(await currentStatus());
    const unloaded = loaded !== undefined && loaded === path;
    if (unloaded) await manager.unload();
    // Another of the loaded models (loaded by a chat that names it) goes too.
    const other = manager.models?.().find((x) => x.path === path && x.state !== 'none');
    if (other) await manager.unload(other.id);
    await store.delete(fileName);
    return { deleted: fileName, unloaded };
  });

  // The file's bytes as the body (application/octet-stream); its name and whether to replace an installed
  // model of that name in the query. The client asks the user before sending overwrite=true.
  app.post('/api/models/import', async (req, reply) => {
    const q = parse(importQuerySchema, req.query, 'query');
    const overwrite = q.overwrite === 'true' || q.overwrite === '1';
    const source = req.body;
    if (!(source && typeof source === 'object' && typeof (source as { pipe?: unknown }).pipe === 'function')) {
      throw new WestfallError('unsupported_media_type', 'Send the model file as the body with Content-Type: application/octet-stream', {
        details: { contentType: req.headers['content-type'] ?? null },
      });
    }
    const path = store.pathOf(q.fileName);
    if (overwrite && loadedModelPath(await currentStatus()) === path) {
      (source as NodeJS.ReadableStream).resume();
      throw new WestfallError('model_in_use', `${q.fileName} is the loaded model; unload it before replacing it`, {
        details: { fileName: q.fileName },
      });
    }
    const length = Number(req.headers['content-length']);
    const model = await importModel({
      modelsDir: store.modelsDir,
      fileName: q.fileName,
      source: source as Readable,
      overwrite,
      catalog,
      ...(Number.isSafeInteger(length) && length >= 0 ? { expectedSize: length } : {}),
      ...(opts.download?.statfsImpl ? { statfsImpl: opts.download.statfsImpl } : {}),
      ...(opts.download?.diskMarginBytes !== undefined ? { diskMarginBytes: opts.download.diskMarginBytes } : {}),
    });
    reply.code(201);
    return { model };
  });

  app.get('/api/models/hub/search', async (req): Promise<HubSearchResult> => {
    const q = parse(hubSearchQuerySchema, req.query, 'search');
    return hub.search(q.q, { machine: await machineMemory(), catalog, ...(q.limit !== undefined ? { limit: q.limit } : {}) });
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
