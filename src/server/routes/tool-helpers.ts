// Shared pieces of the personal tools' route plugins: common zod schemas, named Server-Sent Events with
// keep-alives, and CSV downloads.
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

export const idParams = z.object({ id: z.coerce.number().int().min(1) });
export const uuidParams = z.object({ id: z.string().min(1).max(100) });
export const isoDate = z.iso.date();
export const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM');
export const boolQuery = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
export const limitQuery = z.coerce.number().int().min(1).max(1000);
export const offsetQuery = z.coerce.number().int().min(0);
/** An instant as ISO 8601 with offset, or epoch milliseconds. */
export const instant = z.union([z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)), z.number().int().min(0)]);

/** Drops keys whose value is undefined (for exactOptionalPropertyTypes-style option objects). */
export function defined<T extends Record<string, unknown>>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [K in keyof T]: Exclude<T[K], undefined> };
}

export interface EventStream {
  readonly signal: AbortSignal;
  readonly closed: boolean;
  send(event: string, data: unknown): void;
  end(): void;
}

/** Opens a Server-Sent Events response; `signal` aborts when the client goes away. */
export function openEventStream(_request: FastifyRequest, reply: FastifyReply, options: { heartbeatMs?: number } = {}): EventStream {
  const stream = new PassThrough();
  const gone = new AbortController();
  let ended = false;
  const heartbeat = setInterval(() => {
    if (!ended && !stream.destroyed) stream.write(': keep-alive\n\n');
  }, options.heartbeatMs ?? 15_000);
  heartbeat.unref();
  const close = () => {
    clearInterval(heartbeat);
    if (!ended) {
      ended = true;
      gone.abort();
    }
    if (!stream.destroyed) stream.destroy();
  };
  // The response closes when the client goes away (or when the stream ends).
  stream.on('close', close);
  reply.raw.on('close', close);
  reply
    .code(200)
    .header('content-type', 'text/event-stream; charset=utf-8')
    .header('cache-control', 'no-cache, no-transform')
    .header('x-accel-buffering', 'no');
  void reply.send(stream);
  return {
    signal: gone.signal,
    get closed() {
      return ended || stream.destroyed;
    },
    send(event, data) {
      if (!ended && !stream.destroyed) stream.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      stream.end();
    },
  };
}

export function sendCsv(reply: FastifyReply, fileName: string, csv: string): FastifyReply {
  return reply
    .header('content-type', 'text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${fileName.replace(/[^\w.-]/g, '_')}"`)
    .send(csv);
}

/**
 * Event streams of a plugin, ended when the server closes (before it waits for open connections). Call
 * once at registration; `open` replaces openEventStream inside handlers.
 */
export function eventStreams(app: FastifyInstance, options: { heartbeatMs?: number } = {}) {
  const open = new Set<EventStream>();
  app.addHook('preClose', async () => {
    for (const s of open) s.end();
    open.clear();
  });
  return {
    open(request: FastifyRequest, reply: FastifyReply, onClose: () => void): EventStream {
      const s = openEventStream(request, reply, options);
      open.add(s);
      const done = () => {
        open.delete(s);
        onClose();
      };
      s.signal.addEventListener('abort', done, { once: true });
      const end = s.end.bind(s);
      return Object.assign(s, {
        end: () => {
          end();
          done();
        },
      });
    },
  };
}
