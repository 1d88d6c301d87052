// What a request, a response and an error look like in the log: no headers except harmless ones,
// query secrets redacted, stacks only for unexpected errors.
import pino from 'pino';
import { redactUrl } from './redact.js';

interface RequestLike {
  id?: string;
  method?: string;
  url?: string;
  headers?: Record<string, string | string[] | undefined>;
  ip?: string;
  socket?: { remoteAddress?: string; remotePort?: number };
  raw?: { url?: string };
}

export const serializers = {
  req(req: RequestLike) {
    return {
      id: req.id,
      method: req.method,
      url: redactUrl(String(req.url ?? req.raw?.url ?? '')),
      host: req.headers?.host,
      origin: req.headers?.origin,
      userAgent: req.headers?.['user-agent'],
      remoteAddress: req.ip ?? req.socket?.remoteAddress,
    };
  },
  res(res: { statusCode?: number }) {
    return { statusCode: res.statusCode };
  },
  err: pino.stdSerializers.err,
};
