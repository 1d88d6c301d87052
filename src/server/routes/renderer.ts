// The web UI (renderer/, built into dist/renderer by scripts/build-renderer.mjs) served to a browser at `/`,
// and the sign-in of a browser: one-time login links that become a session cookie.
//
// Pages and assets are public (they hold no data; everything they show comes from the token-protected API)
// and carry a strict Content-Security-Policy: scripts and styles only from this origin (no inline script, no
// eval), connections only to this backend (HTTP and WebSocket on the host the page was loaded from), no
// frames, no plugins, no foreign forms.
//
// Sign-in: `westfall serve` (and `npm start`) print `http://127.0.0.1:PORT/#login=CODE`, and
// `westfall login-link` prints a fresh one for the running backend. The code is signed, single-use and
// short-lived (session.ts); the page POSTs it to /api/session/login and gets an httpOnly, SameSite=Strict
// session cookie signed with the secret in the data directory. Every tab of that browser is then signed in,
// and stays so across backend restarts, until the cookie expires (30 days, renewed on use) or "sign out
// everywhere" rotates the secret. The fragment is removed from the address bar, and a fragment is never sent
// to the server, so no usable code is left in the history or in any request log.
//
//   const logins = new LoginCodes({ secret: SessionSecret.open(config.stateDir) });
//   createApp(config, { extraPlugins: [rendererRoutes({ logins })] });
//   const code = logins.issue();  // print `${url}/#login=${code}`
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { WestfallError } from '../../errors.js';
import type { ServerPluginOptions } from '../context.js';
import { hasValidSession, parseHostHeader, tokenMatches } from '../security.js';
import {
  LoginCodes,
  SESSION_MAX_AGE_S,
  SESSION_RENEW_AFTER_MS,
  SIGN_IN_HINT,
  clearSessionCookie,
  issueSessionCookie,
  readCookie,
  sessionCookieName,
  sessionSetCookie,
  verifySessionCookie,
} from '../session.js';

/** Where the login code travels in the printed link: `/#login=CODE`. */
export const LOGIN_FRAGMENT_KEY = 'login';
export const LOGIN_ROUTE = '/api/session/login';

export { LoginCodes, type LoginCodesOptions } from '../session.js';

/** The directory of the built renderer: `<package root>/dist/renderer` (from src/ under tsx and from dist/). */
export function defaultRendererDir(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'dist', 'renderer');
    dir = dirname(dir);
  }
  return resolve('dist', 'renderer');
}

/** The Content-Security-Policy of every page and asset; `host` is the validated Host header. */
export function contentSecurityPolicy(host: string | null): string {
  const ws = host ? ` ws://${host}` : '';
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "font-src 'self'",
    `connect-src 'self'${ws}`,
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "object-src 'none'",
  ].join('; ');
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

export interface RendererRoutesOptions {
  /** The built renderer (index.html, assets/). Default: defaultRendererDir(). */
  root?: string;
  /** Login codes for the handover; without it POST /api/session/login always answers 401. */
  logins?: LoginCodes;
}

const loginBodySchema = z.union([z.object({ code: z.string().min(16).max(256) }).strict(), z.object({ token: z.string().min(1).max(512) }).strict()]);

const NOT_BUILT_HTML = `<!doctype html><meta charset="utf-8"><title>Westfall Assistant</title>
<p>The web interface has not been built. Run <code>npm run build:renderer</code> and reload.</p>`;

/** The plugin factory: `createApp(config, { extraPlugins: [rendererRoutes({ logins })] })`. */
export function rendererRoutes(options: RendererRoutesOptions = {}): FastifyPluginAsync<ServerPluginOptions> {
  const plugin: FastifyPluginAsync<ServerPluginOptions> = async (app, { config }) => {
    const root = options.root ?? defaultRendererDir();
    const index = join(root, 'index.html');
    const built = () => existsSync(index) && statSync(index).isFile();

    // Security headers on everything this plugin answers (it is encapsulated: other routes are untouched).
    app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload) => {
      const host = parseHostHeader(request.headers.host);
      const hostValue = host ? `${host.name}${host.port ? `:${host.port}` : ''}` : null;
      reply.header('content-security-policy', contentSecurityPolicy(hostValue));
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
      return payload;
    });

    await app.register(fastifyStatic, { root, serve: false, decorateReply: true, index: false });

    const sendIndex = async (_req: FastifyRequest, reply: FastifyReply) => {
      if (!built()) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT_HTML);
      // index.html is small and must never be cached (it names the current asset files).
      return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(readFileSync(index));
    };
    app.get('/', { config: { public: true } }, sendIndex);
    app.get('/index.html', { config: { public: true } }, sendIndex);
    app.get('/assets/*', { config: { public: true } }, async (req, reply) => {
      const rel = (req.params as { '*': string })['*'];
      if (!/^[A-Za-z0-9._/-]+$/.test(rel) || rel.split('/').some((s) => s === '..' || s.startsWith('.'))) {
        throw new WestfallError('not_found', `Route GET ${req.url} not found`);
      }
      return reply.header('cache-control', 'no-cache').sendFile(`assets/${rel}`, root);
    });

    // The service worker that adds the token to <audio> streaming requests (renderer/src/sw.ts); at the root
    // so its scope covers /api/music/.
    app.get('/sw.js', { config: { public: true } }, async (_req, reply) => {
      if (!existsSync(join(root, 'sw.js'))) throw new WestfallError('not_found', 'no route GET /sw.js');
      return reply.header('cache-control', 'no-cache').type('text/javascript; charset=utf-8').sendFile('sw.js', root);
    });

    // The login routes and the security hook's cookie check must use one secret: the one these codes are
    // signed with, unless createApp was given one (then the codes must be signed with it too).
    const ctx = app.westfall;
    if (options.logins) {
      if (ctx.sessions === null) ctx.sessions = options.logins.secret;
      else if (ctx.sessions !== options.logins.secret) throw new Error('rendererRoutes: the login codes are signed with another secret than createApp deps.sessions');
    }
    const cookieName = (req: FastifyRequest) => sessionCookieName(parseHostHeader(req.headers.host)?.port ?? null);
    const startSession = (req: FastifyRequest, reply: FastifyReply) => {
      const secret = ctx.sessions;
      if (!secret) throw new WestfallError('unauthorized', 'this backend has no browser sessions; use the token');
      const now = Date.now();
      reply.header('set-cookie', sessionSetCookie(cookieName(req), issueSessionCookie(secret, now))).header('cache-control', 'no-store');
      return { signedIn: true, expiresAt: new Date(now + SESSION_MAX_AGE_S * 1000).toISOString() };
    };

    // A code from a login link, or the token itself (typed into the sign-in form, or `/?token=`), becomes a
    // session cookie; the token is never handed to the page.
    app.post(LOGIN_ROUTE, { config: { public: true } }, async (req, reply) => {
      const parsed = loginBodySchema.safeParse(req.body ?? {});
      const ok =
        parsed.success &&
        ('code' in parsed.data ? (options.logins?.redeem(parsed.data.code) ?? false) : tokenMatches(parsed.data.token, config.apiToken));
      if (!ok) {
        const what = parsed.success && 'token' in parsed.data ? 'the access token is not valid' : 'the login link is not valid, has expired or was already used';
        throw new WestfallError('unauthorized', `${what}; ${SIGN_IN_HINT}`);
      }
      return startSession(req, reply);
    });

    // Whether this browser is signed in (the page asks at start, so it needs no token); renews a session
    // that is more than a day old, so one used daily never expires.
    app.get('/api/session', { config: { public: true } }, async (req, reply) => {
      reply.header('cache-control', 'no-store');
      const port = parseHostHeader(req.headers.host)?.port ?? null;
      if (ctx.sessions && hasValidSession(req, ctx.sessions, port)) {
        const cookie = verifySessionCookie(ctx.sessions, readCookie(req.headers.cookie, cookieName(req)));
        if (cookie && Date.now() - cookie.issuedAt > SESSION_RENEW_AFTER_MS) return startSession(req, reply);
        return { signedIn: true, expiresAt: new Date((cookie?.issuedAt ?? Date.now()) + SESSION_MAX_AGE_S * 1000).toISOString() };
      }
      return { signedIn: false, expiresAt: null, hint: `Not signed in: ${SIGN_IN_HINT}.` };
    });

    // Signing out of this browser needs no valid session (an expired one may still want its cookie gone).
    app.post('/api/session/logout', { config: { public: true } }, async (req, reply) => {
      reply.header('set-cookie', clearSessionCookie(cookieName(req)));
      return { signedIn: false };
    });

    // Every browser, every unused login link: a new secret. Needs a valid session or the token.
    app.post('/api/session/logout-all', async (req, reply) => {
      if (!ctx.sessions) throw new WestfallError('unauthorized', 'this backend has no browser sessions');
      ctx.sessions.rotate();
      req.log.info('session secret rotated: every browser is signed out');
      reply.header('set-cookie', clearSessionCookie(cookieName(req)));
      return { signedIn: false };
    });
  };
  return plugin;
}

