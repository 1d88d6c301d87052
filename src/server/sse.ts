// Server-sent events over a Fastify reply: `data: <json>\n\n` frames through a PassThrough that Fastify
// pipes to the socket (so hooks, metrics and logging still see the response). When the client goes away
// the stream is destroyed and `signal` aborts.
import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';

export interface SseStream {
  /** Aborted when the client disconnects before the stream ended. */
  readonly signal: AbortSignal;
  readonly closed: boolean;
  send(data: unknown): void;
  /** Sends text that is already JSON (hot paths build per-token frames from pre-serialized parts). */
  sendJson(json: string): void;
  /** Writes `data: [DONE]` and ends the response. */
  done(): void;
  end(): void;
}

export function openSse(reply: FastifyReply, clientGone: AbortController): SseStream {
  const stream = new PassThrough();
  let ended = false;
  const onGone = () => {
    if (!ended) clientGone.abort();
  };
  stream.on('close', onGone);
  reply.raw.on('close', onGone);
  reply
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache, no-transform')
    .header('x-accel-buffering', 'no');
  void reply.send(stream);
  const write = (s: string) => {
    if (!ended && !stream.destroyed) stream.write(s);
  };
  return {
    signal: clientGone.signal,
    get closed() {
      return ended || stream.destroyed;
    },
    send: (data) => write(`data: ${JSON.stringify(data)}\n\n`),
    sendJson: (json) => write(`data: ${json}\n\n`),
    done: () => {
      write('data: [DONE]\n\n');
      ended = true;
      stream.end();
    },
    end: () => {
      ended = true;
      stream.end();
    },
  };
}
