// The web UI (renderer/, built into dist/renderer by scripts/build-renderer.mjs) served to a browser at `/`,
// and the one-time login that hands the bearer token to it.
//
// Pages and assets are public (they hold no data; everything they show comes from the token-protected API)
// and carry a strict Content-Security-Policy: scripts and styles only from this origin (no inline script, no
// eval), connections only to this backend (HTTP and WebSocket on the host the page was loaded from), no
// frames, no plugins, no foreign forms.
//
// Token handover: `westfall serve` prints `http://127.0.0.1:PORT/#login=CODE`. The code is random, single-use
// and short-lived; the page POSTs it to /api/session/login, receives the token, keeps it in sessionStorage
// and removes the fragment from the address bar, so neither the token nor a usable code is left in the
// history (a fragment is never sent to the server, so the code is not in any request log either).
//
//   const logins = new LoginCodes();
//   createApp(config, { extraPlugins: [rendererRoutes({ logins })] });
//   const code = logins.issue();  // print `${url}/#login=${code}`
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { WestfallError } from '../../errors.js';
import type { ServerPluginOptions } from '../context.js';
import { parseHostHeader } from '../security.js';

/** Where the login code travels in the printed link: `/#login=CODE`. */
export const LOGIN_FRAGMENT_KEY = 'login';
export const LOGIN_ROUTE = '/api/session/login';

export interface LoginCodesOptions {
  /** How long an issued code stays valid. Default: 15 minutes. */
  ttlMs?: number;
  /** Codes valid at once (older ones are dropped). Default 16. */
  maxCodes?: number;
  now?: () => number;
}

/** Single-use login codes, each exchanged once for the bearer token. */
export class LoginCodes {
  readonly ttlMs: number;
  readonly #maxCodes: number;
  readonly #now: () => number;
  readonly #codes = new Map<string, number>(); // code → expiry

  constructor(opts: LoginCodesOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 15 * 60_000;
    this.#maxCodes = opts.maxCodes ?? 16;
    this.#now = opts.now ?? Date.now;
  }

  /** A new code (256 random bits, base64url). */
  issue(): string {
    this.#prune();
    while (this.#codes.size >= this.#maxCodes) this.#codes.delete(this.#codes.keys().next().value!);
    const code = randomBytes(32).toString('base64url');
    this.#codes.set(code, this.#now() + this.ttlMs);
    return code;
  }

  /** True once for a valid code; the code is gone afterwards. */
  redeem(code: string): boolean {
    this.#prune();
    const expiry = this.#codes.get(code);
    if (expiry === undefined) return false;
    this.#codes.delete(code);
    return true;
  }

  get size(): number {
    this.#prune();
    return this.#codes.size;
  }

  #prune(): void {
    const now = this.#now();
    for (const [code, expiry] of this.#codes) if (expiry <= now) this.#codes.delete(code);
  }
}

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

const loginBodySchema = z.object({ code: z.string().min(16).max(256) }).strict();

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

    app.post(LOGIN_ROUTE, { config: { public: true } }, async (req) => {
      const parsed = loginBodySchema.safeParse(req.body ?? {});
      if (!parsed.success || !options.logins?.redeem(parsed.data.code)) {
        throw new WestfallError('unauthorized', 'the login link is not valid, has expired or was already used; start a new session with `westfall serve` or use the token');
      }
      return { token: config.apiToken };
    });
  };
  return plugin;
}

