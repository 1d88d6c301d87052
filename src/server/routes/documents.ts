// /api/documents: collections (create, rename, watch on/off, delete with all their data), their folders and
// files, index jobs (start, stop, progress), hybrid search, the passages for a chat turn (with numbered
// citations), a passage with its neighbours for the viewer, and each chat's choice of collections.
// Embeddings come from the server's model manager (the same engine as /v1/embeddings); this plugin attaches
// it to the documents service and resumes the index jobs a previous run left unfinished.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { DocumentService, Embedder } from '../../documents/index.js';
import { parseWith } from '../errors.js';
import { idParams, uuidParams } from './tool-helpers.js';

export interface DocumentRoutesOptions {
  documents: DocumentService;
  /** The server's model manager (given by createApp): its embed() makes the vectors. */
  manager?: unknown;
}

interface CanEmbed {
  embed(texts: string[], opts: { model?: string | undefined }): Promise<{ embeddings: Float32Array[]; modelId: string }>;
}

function embedderOf(manager: unknown): Embedder | null {
  const m = manager as CanEmbed | undefined;
  if (!m || typeof m.embed !== 'function') return null;
  return async (texts, model) => {
    const r = await m.embed(texts, { model });
    return { embeddings: r.embeddings, modelId: r.modelId };
  };
}

const name = z.string().trim().min(1).max(100);
const collectionIds = z.array(z.number().int().min(1)).max(100);

const documentRoutes: FastifyPluginAsync<DocumentRoutesOptions> = async (app, { documents, manager }) => {
  documents.setEmbedder(embedderOf(manager));
  documents.start();
  // Jobs in flight stay 'running' in the database: the next start resumes them.
  app.addHook('onClose', async () => documents.close());

  app.get('/api/documents/collections', async () => ({ collections: documents.list() }));
  app.post('/api/documents/collections', async (req, reply) => {
    const body = parseWith(
      z
        .object({
          name,
          watch: z.boolean().default(false),
          embedModel: z.string().min(1).max(500).optional(),
          paths: z.array(z.string().min(1).max(4096)).max(100).default([]),
          index: z.boolean().default(true),
        })
        .strict(),
      req.body,
    );
    const created = documents.create(body.name, { watch: body.watch, ...(body.embedModel ? { embedModel: body.embedModel } : {}) });
    try {
      for (const p of body.paths) await documents.addPath(created.id, p);
    } catch (err) {
      // Nothing half-made: a collection whose path was refused is not kept.
      await documents.delete(created.id);
      throw err;
    }
    const job = body.index && body.paths.length > 0 ? documents.index(created.id) : null;
    reply.code(201);
    return { collection: documents.get(created.id), job };
  });
  app.get('/api/documents/collections/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    return { collection: documents.get(id), files: documents.files(id) };
  });
  app.patch('/api/documents/collections/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    const body = parseWith(z.object({ name: name.optional(), watch: z.boolean().optional() }).strict(), req.body);
    return { collection: documents.update(id, body) };
  });
  app.delete('/api/documents/collections/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    await documents.delete(id);
    return { deleted: id };
  });

  app.post('/api/documents/collections/:id/sources', async (req, reply) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    const body = parseWith(z.object({ path: z.string().min(1).max(4096), index: z.boolean().default(true) }).strict(), req.body);
    const source = await documents.addPath(id, body.path);
    const job = body.index ? documents.index(id) : null;
    reply.code(201);
    return { source, job };
  });
  app.delete('/api/documents/collections/:id/sources/:sourceId', async (req) => {
    const { id, sourceId } = parseWith(z.object({ id: z.coerce.number().int().min(1), sourceId: z.coerce.number().int().min(1) }), req.params, 'parameters');
    documents.removeSource(id, sourceId);
    return { deleted: sourceId };
  });

  app.post('/api/documents/collections/:id/index', async (req, reply) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    reply.code(202);
    return { job: documents.index(id) };
  });
  app.post('/api/documents/collections/:id/stop', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    return { job: await documents.stop(id) };
  });
  app.get('/api/documents/jobs/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    return { job: documents.job(id) };
  });

  const allIds = () => documents.store.collections().map((c) => c.id);
  app.post('/api/documents/search', async (req) => {
    const body = parseWith(z.object({ query: z.string().trim().min(1).max(2000), collections: collectionIds.optional(), limit: z.number().int().min(1).max(50).default(8) }).strict(), req.body);
    return documents.search(body.query, { collections: body.collections ?? allIds(), limit: body.limit });
  });
  app.post('/api/documents/context', async (req) => {
    const body = parseWith(
      z.object({ query: z.string().trim().min(1).max(8000), collections: collectionIds.min(1), budgetTokens: z.number().int().min(50).max(32_000).default(1500) }).strict(),
      req.body,
    );
    return documents.chatContext(body.query, body.collections, body.budgetTokens);
  });
  app.get('/api/documents/passages/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    return documents.passage(id);
  });

  app.get('/api/documents/chats/:id/collections', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    return { collections: documents.store.chatCollections(id) };
  });
  app.put('/api/documents/chats/:id/collections', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    const body = parseWith(z.object({ collections: collectionIds }).strict(), req.body);
    return { collections: documents.store.setChatCollections(id, body.collections) };
  });
};

export default documentRoutes;
