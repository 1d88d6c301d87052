// /api/conversations: saved conversations with their messages (tool calls and results included): list,
// search, create, read, rename, delete, append (under any message: a branch), choose the branch shown,
// the chat's own settings, export (JSON with every branch, or Markdown) and import of a JSON export.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ConversationStore } from '../../storage/index.js';
import { WestfallError } from '../../errors.js';
import { notFound } from '../../tools/errors.js';
import { exportFileName, exportJson, exportMarkdown } from '../conversation-export.js';
import { EXPORT_FORMAT, chatSettingsSchema, conversationExportSchema, newMessageSchema } from '../conversation-schemas.js';
import { parseWith } from '../errors.js';
import { limitQuery, offsetQuery, uuidParams } from './tool-helpers.js';

export interface ConversationRoutesOptions {
  conversations: ConversationStore;
  /** The server's model manager (given by createApp): a deleted conversation's saved KV state goes too. */
  manager?: unknown;
}

interface HasPromptCache {
  promptCache?: { removeTag(tag: string): Promise<number> } | null;
}

const messageSchema = newMessageSchema;
const messageId = z.number().int().min(1);

const conversationRoutes: FastifyPluginAsync<ConversationRoutesOptions> = async (app, { conversations, manager }) => {
  app.get('/api/conversations', async (req) => {
    const q = parseWith(z.object({ q: z.string().max(500).optional(), limit: limitQuery.default(50), offset: offsetQuery.default(0) }), req.query, 'query');
    if (q.q !== undefined && q.q.trim() !== '') {
      return { query: q.q, fullTextSearch: conversations.fullTextSearch, results: conversations.search(q.q, { limit: q.limit }) };
    }
    return conversations.list({ limit: q.limit, offset: q.offset });
  });

  app.post('/api/conversations', async (req, reply) => {
    const body = parseWith(z.object({ title: z.string().max(500).default(''), messages: z.array(messageSchema).max(10_000).default([]) }).strict(), req.body ?? {});
    const c = conversations.create({ title: body.title });
    if (body.messages.length > 0) conversations.append(c.id, body.messages);
    reply.code(201);
    return conversations.getWithMessages(c.id);
  });

  app.get('/api/conversations/:id', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    return conversations.getWithMessages(id);
  });

  app.patch('/api/conversations/:id', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    const body = parseWith(z.object({ title: z.string().max(500) }).strict(), req.body);
    return conversations.rename(id, body.title);
  });

  app.post('/api/conversations/:id/messages', async (req, reply) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    // parentId: where the messages go (absent: after the path shown; null: a new first message).
    const body = parseWith(z.object({ messages: z.array(messageSchema).min(1).max(10_000), parentId: messageId.nullable().optional() }).strict(), req.body);
    reply.code(201);
    return { messages: conversations.append(id, body.messages, body.parentId !== undefined ? { parentId: body.parentId } : {}) };
  });

  // The branch shown (and sent to the model): the one through messageId, down to its newest message
  // unless follow is false.
  app.put('/api/conversations/:id/branch', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    const body = parseWith(z.object({ messageId: messageId.nullable(), follow: z.boolean().default(true) }).strict(), req.body);
    return conversations.selectBranch(id, body.messageId, { follow: body.follow });
  });

  app.put('/api/conversations/:id/settings', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    const body = parseWith(z.object({ settings: chatSettingsSchema.nullable() }).strict(), req.body);
    return conversations.setSettings(id, body.settings);
  });

  app.get('/api/conversations/:id/export', async (req, reply) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    const { format } = parseWith(z.object({ format: z.enum(['json', 'markdown']).default('json') }), req.query, 'query');
    const tree = conversations.tree(id);
    const ext = format === 'json' ? 'json' : 'md';
    reply.header('content-disposition', `attachment; filename="${exportFileName(tree.title, ext)}"`);
    if (format === 'markdown') return reply.type('text/markdown; charset=utf-8').send(exportMarkdown(tree));
    return reply.type('application/json; charset=utf-8').send(JSON.stringify(exportJson(tree), null, 2));
  });

  // A JSON export becomes a new conversation (new ids); a file that is not one is refused whole.
  app.post('/api/conversations/import', { bodyLimit: 64 * 1024 * 1024 }, async (req, reply) => {
    // Another kind of file gets one plain sentence rather than every field it lacks.
    if ((req.body as { format?: unknown } | null)?.format !== EXPORT_FORMAT) {
      throw new WestfallError('invalid_request', `this file is not a Westfall conversation export (its "format" is not "${EXPORT_FORMAT}")`);
    }
    const e = parseWith(conversationExportSchema, req.body, 'conversation export');
    const c = conversations.importTree(e.conversation);
    reply.code(201);
    return conversations.getWithMessages(c.id);
  });

  app.delete('/api/conversations/:id', async (req) => {
    const { id } = parseWith(uuidParams, req.params, 'parameters');
    if (!conversations.delete(id)) throw notFound('conversation', id);
    await (manager as HasPromptCache | undefined)?.promptCache?.removeTag(id).catch((err: unknown) => req.log.warn({ err }, 'the conversation state could not be removed'));
    return { deleted: id };
  });
};

export default conversationRoutes;
export { conversationRoutes };
