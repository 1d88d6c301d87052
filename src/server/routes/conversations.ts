// /api/conversations: saved conversations with their messages (tool calls and results included): list,
// search, create, read, rename, delete, append.
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import type { ConversationStore } from '../../storage/index.js';
import { notFound } from '../../tools/errors.js';
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

const toolCallSchema = z.object({ id: z.string().min(1).max(200), name: z.string().min(1).max(200), arguments: z.unknown() }).strict();
const messageSchema = z
  .object({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string().max(4_000_000),
    reasoning: z.string().max(4_000_000).optional(),
    thinkingMs: z.number().int().min(0).max(86_400_000).optional(),
    toolCalls: z.array(toolCallSchema).max(100).optional(),
    toolCallId: z.string().max(200).optional(),
    name: z.string().max(200).optional(),
  })
  .strict();

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
    const body = parseWith(z.object({ messages: z.array(messageSchema).min(1).max(10_000) }).strict(), req.body);
    reply.code(201);
    return { messages: conversations.append(id, body.messages) };
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
