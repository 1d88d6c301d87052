// The one error handler and serializer. Every error, thrown anywhere (routes, hooks, body parsing,
// plugins of other areas), becomes `{ error: { type, code, message, details? } }` with a status from the
// catalog below, or OpenAI's `{ error: { message, type, param, code } }` on /v1. Never a stack trace.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { z } from 'zod';
import { ERROR_CODES, ERROR_HTTP, WestfallError, isWestfallError, type HttpMapping } from '../errors.js';

export { ERROR_HTTP, type HttpMapping };
import type { ErrorBody, OpenAIErrorBody } from './schemas.js';


export interface ErrorInfo {
  status: number;
  type: string;
  code: string;
  message: string;
  details?: unknown;
  /** The first offending field, for OpenAI's `param`. */
  param: string | null;
  headers: Record<string, string>;
  /** Unexpected: logged with its stack. */
  internal: boolean;
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_request',
  FST_ERR_CTP_INVALID_TYPE: 'unsupported_media_type',
  FST_ERR_VALIDATION: 'invalid_request',
};

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' && s >= 400 && s <= 599 ? s : undefined;
}

/** Classifies any thrown value. */
export function toErrorInfo(err: unknown): ErrorInfo {
  const headers: Record<string, string> = {};
  if (isWestfallError(err)) {
    const mapping = ERROR_HTTP[err.code] ?? { status: statusOf(err) ?? 500, type: (statusOf(err) ?? 500) < 500 ? 'invalid_request_error' : 'server_error' };
    const fields = fieldsOf(err.details);
    if (err.code === 'queue_full' || err.code === 'upstream_rate_limited') {
      const retry = (err.details as { retryAfter?: number } | undefined)?.retryAfter;
      headers['retry-after'] = String(retry ?? 1);
    }
    if (err.code === 'unauthorized') headers['www-authenticate'] = 'Bearer realm="westfall"';
    const internal = mapping.status >= 500 && !['unavailable_error'].includes(mapping.type);
    return {
      status: mapping.status,
      type: mapping.type,
      code: err.code,
      message: err.message,
      ...(err.details !== undefined ? { details: err.details } : {}),
      param: fields?.[0]?.path ?? null,
      headers,
      internal,
    };
  }
  const fe = err as Partial<FastifyError> | undefined;
  const mapped = fe?.code ? FASTIFY_CODES[fe.code] : undefined;
  const status = statusOf(err);
  if (mapped || (status !== undefined && status < 500)) {
    const code = mapped ?? (status === 404 ? 'not_found' : 'invalid_request');
    const m = ERROR_HTTP[code]!;
    return {
      status: status ?? m.status,
      type: m.type,
      code,
      message: ERROR_CODES[code as keyof typeof ERROR_CODES] ?? 'invalid request',
      param: null,
      headers,
      internal: false,
    };
  }
  return { status: 500, type: 'server_error', code: 'internal_error', message: ERROR_CODES.internal_error, param: null, headers, internal: true };
}

function fieldsOf(details: unknown): { path: string; message: string }[] | undefined {
  const f = (details as { fields?: unknown } | undefined)?.fields;
  return Array.isArray(f) ? (f as { path: string; message: string }[]) : undefined;
}

export function isOpenAIRoute(url: string): boolean {
  return url === '/v1' || url.startsWith('/v1/') || url.startsWith('/v1?');
}

export function errorBody(info: ErrorInfo): ErrorBody {
  return {
    error: { type: info.type, code: info.code, message: info.message, ...(info.details !== undefined ? { details: info.details } : {}) },
  };
}

export function openAIErrorBody(info: ErrorInfo): OpenAIErrorBody {
  return { error: { message: info.message, type: info.type, param: info.param, code: info.code } };
}

/** Sends `err` in the shape the route calls for. */
export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const info = toErrorInfo(err);
  if (info.internal) request.log.error({ err }, 'request failed');
  else if (info.status >= 500) request.log.warn({ code: info.code, reason: info.message }, 'request refused');
  else request.log.info({ code: info.code, status: info.status }, 'request rejected');
  reply.code(info.status);
  for (const [k, v] of Object.entries(info.headers)) reply.header(k, v);
  return reply.send(isOpenAIRoute(request.url) ? openAIErrorBody(info) : errorBody(info));
}

/** Validates `value` with a zod schema; on failure throws invalid_request listing every bad field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const fields = r.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
  const list = fields.map((f) => `${f.path}: ${f.message}`).join('; ');
  throw new WestfallError('invalid_request', `invalid ${what}: ${list}`, { details: { fields } });
}

/**
 * What Node's HTTP parser refuses never reaches a route: a request line or headers over the size limit
 * (431), a malformed request (400), a request too slow to arrive (408). Fastify answers those with a shape
 * of its own; this answers them in ours. The URL is not known here, so the body carries `param` too and
 * fits OpenAI's shape as well as the native one.
 */
export function clientErrorResponse(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message =
    status === 431 ? 'the request line or headers are too large' : status === 408 ? 'the request did not arrive in time' : 'the request is not valid HTTP';
  const body = JSON.stringify({ error: { type: 'invalid_request_error', code: 'invalid_request', message, param: null } });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

export const errorsPlugin = fp(
  async function errors(app: FastifyInstance) {
    // Fastify's own clientError listener (set up in its constructor) answers in its shape; ours replaces it.
    if (app.server) {
      app.server.removeAllListeners('clientError');
      app.server.on('clientError', clientErrorResponse);
    }
    app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0];
      sendError(request, reply, new WestfallError('not_found', `no route ${request.method} ${path}`));
    });
  },
  { name: 'westfall-errors' },
);
