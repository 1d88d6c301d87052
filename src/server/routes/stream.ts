// WebSocket /api/llm/stream: the chat streaming protocol of schemas.ts (chat/cancel in; token, done,
// error out). Several requests per socket, told apart by their id. Closing the socket cancels them all.
import type {} from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { WestfallError } from '../../errors.js';
import type { AppContext } from '../context.js';
import { ReplyReader } from '../../tools/reply-reader.js';
import { toErrorInfo } from '../errors.js';
import { fitRequest, nativeChatJob } from '../native-chat.js';
import { wsClientMessageSchema, type WsChatMessage, type WsServerMessage } from '../schemas.js';

const OPEN = 1;
/** Close code sent when the service shuts down ("going away"). */
export const WS_CLOSE_GOING_AWAY = 1001;

export const streamRoutes: FastifyPluginAsync<{ ctx: AppContext }> = async (app, { ctx }) => {
  app.get('/api/llm/stream', { websocket: true }, (socket: WebSocket, request) => {
    const inFlight = new Map<string, AbortController>();
    const log = request.log;
    ctx.metrics.wsConnections.inc();

    const send = (msg: WsServerMessage) => {
      if (socket.readyState === OPEN) socket.send(JSON.stringify(msg));
    };
    const sendError = (id: string | undefined, err: unknown) => {
      const info = toErrorInfo(err);
      if (info.internal) log.error({ err, id }, 'websocket request failed');
      send({
        type: 'error',
        ...(id !== undefined ? { id } : {}),
        error: { code: info.code, message: info.message, ...(info.details !== undefined ? { details: info.details } : {}) },
      });
    };

    const run = async (msg: WsChatMessage, controller: AbortController) => {
      try {
        const fit = fitRequest(msg.model ? await ctx.manager.target(msg.model, msg.keepAlive) : ctx.manager, msg, ctx.config.sampling.maxTokens);
        const gen = await ctx.manager.chat({ ...nativeChatJob({ ...msg, messages: fit.messages }), signal: controller.signal });
        const reader = new ReplyReader('native', gen.chatFormat);
        const forward = (deltas: ReturnType<ReplyReader['push']>) => {
          for (const d of deltas) {
            if (d.type === 'content') send({ type: 'token', id: msg.id, text: d.text });
            else if (d.type === 'reasoning') send({ type: 'reasoning', id: msg.id, text: d.text });
          }
        };
        for await (const chunk of gen) {
          if (chunk.text) forward(reader.push(chunk.text));
        }
        const r = await gen.result;
        if (gen.serverAbortReason) return sendError(msg.id, gen.serverAbortReason);
        const { reply: out, deltas } = reader.finish();
        forward(deltas);
        send({
          type: 'done',
          id: msg.id,
          usage: r.usage,
          timings: r.timings,
          stopReason: r.stopReason,
          ...(out.warning ? { warning: out.warning } : {}),
          ...(msg.contextOverflow === 'drop_oldest' ? { droppedMessages: fit.droppedMessages } : {}),
        });
      } catch (err) {
        // Cancelled while still queued: the request ends like a cancelled generation.
        if (controller.signal.aborted && (err as WestfallError)?.code === 'aborted') {
          send({
            type: 'done',
            id: msg.id,
            stopReason: 'aborted',
            usage: { promptTokens: 0, reusedPromptTokens: 0, evaluatedPromptTokens: 0, restoredPromptTokens: 0, copiedPromptTokens: 0, completionTokens: 0, totalTokens: 0 },
            timings: { queueMs: 0, promptMs: 0, generationMs: 0, timeToFirstTokenMs: -1, promptTokensPerSecond: 0, generationTokensPerSecond: 0 },
          });
          return;
        }
        sendError(msg.id, err);
      }
    };

    socket.on('message', (data, isBinary) => {
      if (isBinary) return sendError(undefined, new WestfallError('invalid_request', 'messages must be JSON text frames'));
      let raw: unknown;
      try {
        raw = JSON.parse(String(data));
      } catch {
        return sendError(undefined, new WestfallError('invalid_json', 'the message is not valid JSON'));
      }
      const parsed = wsClientMessageSchema.safeParse(raw);
      if (!parsed.success) {
        const rawId = (raw as { id?: unknown } | null)?.id;
        const fields = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
        return sendError(
          typeof rawId === 'string' && rawId.length > 0 && rawId.length <= 128 ? rawId : undefined,
          new WestfallError('invalid_request', `invalid message: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, { details: { fields } }),
        );
      }
      const msg = parsed.data;
      if (msg.type === 'cancel') {
        // Unknown ids are ignored: the request may have just finished.
        inFlight.get(msg.id)?.abort(new WestfallError('aborted', 'cancelled by the client'));
        return;
      }
      if (inFlight.has(msg.id)) {
        return sendError(msg.id, new WestfallError('invalid_request', `a request with id "${msg.id}" is already in flight on this socket`));
      }
      if (ctx.closing) return sendError(msg.id, new WestfallError('shutting_down'));
      const controller = new AbortController();
      inFlight.set(msg.id, controller);
      ctx.streams.track(run(msg, controller).finally(() => inFlight.delete(msg.id)));
    });

    socket.on('close', () => {
      ctx.metrics.wsConnections.dec();
      for (const c of inFlight.values()) c.abort(new WestfallError('aborted', 'the client disconnected'));
    });
  });
};
