// Request security, in order, for every request (WebSocket upgrades included):
// 1. Host must name this machine's loopback (127.0.0.1, localhost, [::1], optional port) or a configured
//    host: a DNS-rebinding page at evil.example that resolves to 127.0.0.1 sends Host: evil.example.
// 2. Origin, when present (browsers), must be the service's own (any loopback name with the same port)
//    or a configured one; allowed origins get CORS headers and preflights are answered here.
// 3. Every route needs `Authorization: Bearer <token>` unless it is marked public (config.public), like
//    /health. WebSocket upgrades may pass the token as `?token=` or as a `bearer.<token>` subprotocol.
//    A browser signed in through a login link sends its session cookie instead (session.ts). Because a
//    cookie goes along with requests the page did not make, it counts only when the browser says the
//    request is from this origin (Sec-Fetch-Site) and, for anything but GET/HEAD and for WebSocket
//    upgrades, when an Origin was sent (and passed step 2): a form on another localhost port, which
//    SameSite does not stop (ports are the same site), is refused.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config/index.js';
import { WestfallError } from '../errors.js';
import { WS_SUBPROTOCOL, WS_TOKEN_PROTOCOL_PREFIX } from './schemas.js';
import { SIGN_IN_HINT, readCookie, sessionCookieName, verifySessionCookie, type SessionSecret } from './session.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route needs no bearer token (Host and Origin checks still apply). */
    public?: boolean;
    /**
     * The route also takes the token as `?token=`: for media elements (`<audio src>`), which cannot send
     * an Authorization header.
     */
    queryToken?: boolean;
  }
}

export interface SecurityOptions {
  config: Config;
  /** The secret browser sessions are signed with, once the login routes set one up; null: cookies are ignored. */
  sessions?: () => SessionSecret | null;
}

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const HOST_RE = /^(\[[0-9a-f:.]+\]|[^:[\]\s]+)(?::(\d{1,5}))?$/i;

export function parseHostHeader(host: string | undefined): { name: string; port: string | null } | null {
  if (!host) return null;
  const m = HOST_RE.exec(host.trim());
  if (!m) return null;
  return { name: m[1]!.toLowerCase(), port: m[2] ?? null };
}

export function allowedHostNames(config: Config): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  for (const h of config.allowedHosts) names.add(h.includes(':') && !h.startsWith('[') ? `[${h}]` : h);
  const bind = config.host.toLowerCase();
  if (!['0.0.0.0', '::', '[::]'].includes(bind)) names.add(bind.includes(':') && !bind.startsWith('[') ? `[${bind}]` : bind);
  return names;
}

/** Whether `origin` may call the service reached through `host` (already validated). */
export function isAllowedOrigin(origin: string, host: { name: string; port: string | null }, config: Config): boolean {
  if (config.allowedOrigins.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  // paths, queries, credentials are not part of an origin
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password || origin.endsWith('/')) return false;
  const defaultPort = url.protocol === 'https:' ? '443' : '80';
  const originPort = url.port || defaultPort;
  const hostPort = host.port ?? '80';
  return LOOPBACK_NAMES.includes(url.hostname.toLowerCase()) && originPort === hostPort;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export function tokenMatches(given: string | null, expected: string): boolean {
  if (!given) return false;
  return timingSafeEqual(digest(given), digest(expected));
}

/** The bearer token of a request: Authorization header; for WebSocket upgrades and queryToken routes also ?token=; a subprotocol. */
export function extractToken(request: FastifyRequest): string | null {
  const auth = request.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1]!;
  }
  if (request.headers.upgrade?.toLowerCase() === 'websocket' || request.routeOptions.config?.queryToken === true) {
    const q = request.url.indexOf('?');
    if (q >= 0) {
      const t = new URLSearchParams(request.url.slice(q + 1)).get('token');
      if (t) return t;
    }
    const protocols = request.headers['sec-websocket-protocol'];
    if (typeof protocols === 'string') {
      for (const p of protocols.split(',').map((s) => s.trim())) {
        if (p.startsWith(WS_TOKEN_PROTOCOL_PREFIX) && p.length > WS_TOKEN_PROTOCOL_PREFIX.length) return p.slice(WS_TOKEN_PROTOCOL_PREFIX.length);
      }
    }
  }
  return null;
}

/** Whether the request carries a valid session cookie that may stand for the bearer token (see the top). */
export function hasValidSession(request: FastifyRequest, secret: SessionSecret | null, port: string | null): boolean {
  if (!secret) return false;
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const unsafe = !(request.method === 'GET' || request.method === 'HEAD') || request.headers.upgrade !== undefined;
  if (unsafe && typeof request.headers.origin !== 'string') return false;
  return verifySessionCookie(secret, readCookie(request.headers.cookie, sessionCookieName(port))) !== null;
}

/** ws's handleProtocols: pick our protocol, never echo a token back. */
export function selectSubprotocol(protocols: Set<string>): string | false {
  if (protocols.has(WS_SUBPROTOCOL)) return WS_SUBPROTOCOL;
  for (const p of protocols) if (!p.startsWith(WS_TOKEN_PROTOCOL_PREFIX)) return p;
  return false;
}

const CORS_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';
const CORS_HEADERS = 'authorization, content-type, x-request-id';

export const securityPlugin = fp<SecurityOptions>(
  async function security(app: FastifyInstance, { config, sessions }) {
    const hosts = allowedHostNames(config);
    app.addHook('onRequest', async (request, reply) => {
      const host = parseHostHeader(request.headers.host);
      if (!host || !hosts.has(host.name)) {
        throw new WestfallError('forbidden_host', `Host "${String(request.headers.host ?? '')}" is not allowed; use http://127.0.0.1:PORT`);
      }

      const origin = request.headers.origin;
      if (typeof origin === 'string') {
        if (!isAllowedOrigin(origin, host, config)) {
          throw new WestfallError('forbidden_origin', `Origin "${origin}" is not allowed`, { details: { origin } });
        }
        reply.header('access-control-allow-origin', origin);
        reply.header('vary', 'Origin');
        reply.header('access-control-expose-headers', 'retry-after, x-request-id');
        if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
          const asked = request.headers['access-control-request-headers'];
          reply
            .code(204)
            .header('access-control-allow-methods', CORS_METHODS)
            .header('access-control-allow-headers', typeof asked === 'string' && asked.length < 1024 ? asked : CORS_HEADERS)
            .header('access-control-max-age', '600');
          return reply.send();
        }
      }

      if (request.is404 || request.routeOptions.config?.public === true) return;
      const token = extractToken(request);
      if (token !== null ? tokenMatches(token, config.apiToken) : hasValidSession(request, sessions?.() ?? null, host.port)) return;
      const given = request.headers.authorization !== undefined || token !== null;
      if (given) throw new WestfallError('unauthorized', 'the bearer token is not valid');
      // Most often a browser tab whose session ended (or never began): say how to get in.
      throw new WestfallError('unauthorized', `not signed in: ${SIGN_IN_HINT}; API clients send Authorization: Bearer <token>`);
    });
  },
  { name: 'westfall-security' },
);
