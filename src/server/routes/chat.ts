// POST /api/llm/chat: one chat turn, answered when the whole reply is ready. A client that disconnects
// stops its generation. POST /api/llm/tokens: how much of the window a conversation takes (the model's
// template and tokenizer), and what 'drop_oldest' would leave out.
import type { FastifyPluginAsync } from 'fastify';
import { WestfallError } from '../../errors.js';
import type { AppContext } from '../context.js';
import { fitMessages } from '../context-fit.js';
import { ReplyReader } from '../../tools/reply-reader.js';
import { parseWith } from '../errors.js';
import { chatFormatOf, fitRequest, nativeChatJob } from '../native-chat.js';
import { chatRequestSchema, tokenCountRequestSchema, type ChatResponse, type TokenCountResponse } from '../schemas.js';

export const chatRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.post('/api/llm/chat', async (request, reply): Promise<ChatResponse | undefined> => {
    const body = parseWith(chatRequestSchema, request.body);
    const clientGone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) clientGone.abort();
    };
    reply.raw.on('close', onClose);
    try {
      const fit = fitRequest(body.model ? await ctx.manager.target(body.model, body.keepAlive) : ctx.manager, body, ctx.config.sampling.maxTokens);
      const gen = await ctx.manager.chat({ ...nativeChatJob({ ...body, messages: fit.messages }), signal: clientGone.signal });
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
        ...(body.contextOverflow === 'drop_oldest' ? { droppedMessages: fit.droppedMessages } : {}),
      };
    } finally {
      reply.raw.off('close', onClose);
    }
  });

  app.post('/api/llm/tokens', async (request): Promise<TokenCountResponse> => {
    const body = parseWith(tokenCountRequestSchema, request.body);
    // The chat's own model when it is loaded; counting never loads one (the default stands in until then).
    const named = body.model ? ctx.manager.local.get(body.model) : null;
    const model = named?.model ?? ctx.manager.model;
    const context = named?.context ?? ctx.manager.context;
    if (!model || !context) throw new WestfallError('model_not_loaded', 'no model is loaded; load one first');
    const fit = fitMessages(model, body.messages, chatFormatOf(body), {
      windowTokens: context.info.contextSizePerSequence,
      contextTokens: body.contextTokens,
      maxTokens: body.maxTokens ?? ctx.config.sampling.maxTokens,
    });
    return { promptTokens: fit.promptTokens, contextTokens: fit.contextTokens, reserveTokens: fit.reserveTokens, droppedMessages: fit.droppedMessages, keptTokens: fit.keptTokens };
  });
};
