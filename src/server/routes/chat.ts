// POST /api/llm/chat: one chat turn, answered when the whole reply is ready. A client that disconnects
// stops its generation.
import type { FastifyPluginAsync } from 'fastify';
import type { AppContext } from '../context.js';
import { ReplyReader } from '../../tools/reply-reader.js';
import { parseWith } from '../errors.js';
import { nativeChatJob } from '../native-chat.js';
import { chatRequestSchema, type ChatResponse } from '../schemas.js';

export const chatRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post('/api/llm/chat', async (request, reply): Promise<ChatResponse | undefined> => {
    const body = parseWith(chatRequestSchema, request.body);
    const clientGone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) clientGone.abort();
    };
    reply.raw.on('close', onClose);
    try {
      const gen = await ctx.manager.chat({ ...nativeChatJob(body), signal: clientGone.signal });
      const reader = new ReplyReader('native', gen.chatFormat);
      for await (const chunk of gen) reader.push(chunk.text);
      const r = await gen.result;
      if (gen.serverAbortReason) throw gen.serverAbortReason;
      const { reply: out } = reader.finish();
      return {
        id: gen.id,
        model: gen.modelId,
        message: { role: 'assistant', content: out.content, ...(out.reasoning ? { reasoning: out.reasoning } : {}) },
        ...(out.warning ? { warning: out.warning } : {}),
        stopReason: r.stopReason,
        usage: r.usage,
        timings: r.timings,
      };
    } finally {
      reply.raw.off('close', onClose);
    }
  });
};
