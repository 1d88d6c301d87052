// POST /v1/chat/completions for a remote model: the client's request goes to the provider as it came
// (only `model` is replaced by the provider's own id), and the answer comes back as it came, event by
// event, so reasoning_content, tool_calls deltas, usage and any field a server adds reach the client
// unchanged. Where it went is in the headers (x-westfall-provider, x-westfall-upstream-host,
// x-westfall-fallback) and, without streaming, in a `westfall` field of the answer. Nothing is sent to
// the client before the upstream's first token, so failures until then can still be retried or fall back.
import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { WestfallError, isWestfallError } from '../errors.js';
import { openAIErrorBody, toErrorInfo } from '../server/errors.js';
import type { LocalFallback, RemoteChat } from './remote-chat.js';
import type { RemoteModel } from './service.js';
import type { RemoteReplyInfo } from './types.js';

export function infoHeaders(info: RemoteReplyInfo): Record<string, string> {
  const h: Record<string, string> = { 'x-westfall-provider': info.provider, 'x-westfall-upstream-host': info.host, 'x-westfall-attempts': String(info.attempts) };
  if (info.fallback) h['x-westfall-fallback'] = `from=${info.fallback.from}; to=${info.fallback.to}; reason=${info.fallback.reason}`;
  return h;
}

const isDone = (s: string) => s.includes('data: [DONE]') || s.includes('data:[DONE]');

export interface StreamTracker {
  track(p: Promise<unknown>): void;
}

/**
 * Answers the request from the provider, or returns the local fallback (the caller then answers it with
 * the local model, adding `info` to its reply).
 */
export async function proxyChatCompletion(
  remote: RemoteChat,
  model: RemoteModel,
  body: Record<string, unknown>,
  reply: FastifyReply,
  streams?: StreamTracker,
): Promise<'handled' | LocalFallback> {
  const started = performance.now();
  const clientGone = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) clientGone.abort(new WestfallError('aborted', 'the client disconnected'));
  };
  reply.raw.on('close', onClose);
  if (body.stream !== true) {
    try {
      const r = await remote.json(model, body, clientGone.signal);
      if (r.kind === 'local') return r;
      reply.headers(infoHeaders(r.info));
      await reply.send({ ...r.body, westfall: r.info });
      return 'handled';
    } finally {
      reply.raw.off('close', onClose);
    }
  }
  let opened;
  try {
    opened = await remote.openStream(model, body, clientGone.signal);
  } catch (err) {
    reply.raw.off('close', onClose);
    throw err;
  }
  if (opened.kind === 'local') {
    reply.raw.off('close', onClose);
    return opened;
  }
  const out = new PassThrough();
  const stop = () => opened.cancel();
  clientGone.signal.addEventListener('abort', stop, { once: true });
  out.on('close', () => {
    if (!clientGone.signal.aborted && !finished) clientGone.abort(new WestfallError('aborted', 'the client disconnected'));
  });
  let finished = false;
  // What the router itself took before the first token (everything but waiting for the upstream,
  // retries included), in the standard Server-Timing header: bench:router reads it.
  const routerMs = performance.now() - started - opened.upstreamMs;
  reply.headers({ ...infoHeaders(opened.info), 'server-timing': `router;dur=${routerMs.toFixed(2)}, upstream;dur=${opened.upstreamMs.toFixed(1)}`, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' });
  void reply.send(out);
  const write = (s: string) => {
    if (!out.destroyed && !out.writableEnded) out.write(s);
  };
  let done = false;
  let stoppedBy: WestfallError | null = null;
  const untrack = remote.trackStream((reason) => {
    stoppedBy = reason;
    opened.cancel();
  });
  const run = (async () => {
    try {
      for (const ev of opened.head) {
        if (ev.startsWith('data: [DONE]') || ev === 'data:[DONE]') done = true;
        write(`${ev}\n\n`);
      }
      if (!opened.ended) {
        // After the first token the body is passed on as it arrives, chunk by chunk, unparsed: the
        // router's cost per token is one write. Only the end is looked at ([DONE], or a cut).
        let tail = '';
        for await (const chunk of opened.raw()) {
          if (!out.destroyed && !out.writableEnded) out.write(chunk);
          if (!done) {
            // The end marker in this chunk, or split between the last one and this one.
            const head = typeof chunk === 'string' ? chunk.slice(0, 12) : chunk.toString('latin1', 0, Math.min(12, chunk.length));
            done = isDone(tail + head) || (typeof chunk === 'string' ? isDone(chunk) : chunk.includes('data: [DONE]') || chunk.includes('data:[DONE]'));
          }
          tail = typeof chunk === 'string' ? chunk.slice(-12) : chunk.toString('latin1', Math.max(0, chunk.length - 12));
        }
      }
      if (!done) throw new WestfallError('upstream_error', `the stream from ${opened.info.provider} (${opened.info.host}) ended without [DONE]: it was cut off`);
    } catch (err) {
      if (clientGone.signal.aborted || out.destroyed) return;
      // The stream has begun: the error travels as a final event, in OpenAI's shape (clients raise it).
      const e = stoppedBy ?? (isWestfallError(err) ? err : new WestfallError('upstream_error', `the stream from ${opened.info.provider} failed: ${(err as Error)?.message ?? err}`));
      if (!stoppedBy) remote.service.report(opened.provider, e);
      write(`data: ${JSON.stringify(openAIErrorBody(toErrorInfo(e)))}\n\n`);
      write('data: [DONE]\n\n');
    } finally {
      finished = true;
      untrack();
      clientGone.signal.removeEventListener('abort', stop);
      reply.raw.off('close', onClose);
      opened.cancel();
      if (!out.writableEnded) out.end();
    }
  })();
  streams?.track(run);
  return 'handled';
}
