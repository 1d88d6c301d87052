// Browser sessions and the last used model across backend restarts, on a real listening server: a login
// link becomes an httpOnly session cookie signed with the secret in the data directory; the backend is
// stopped and started again on the same data directory and port, and the cookie still works, the old
// one-time code does not, "sign out everywhere" ends every session, and the model loaded before is
// chosen again at start (src/server/session.ts, user-settings.ts, routes/renderer.ts, security.ts).
import { statSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelFileProblem } from '../../src/config/index.js';
import { createApp, ModelManager, type ServerPlugin } from '../../src/server/index.js';
import { LoginCodes, rendererRoutes } from '../../src/server/routes/renderer.js';
import { settingsRoutes } from '../../src/server/routes/settings.js';
import { SESSION_SECRET_FILE, SessionSecret } from '../../src/server/session.js';
import { UserSettings, chooseStartupModel, rememberLastModel } from '../../src/server/user-settings.js';
import { TINY_MODEL, tempDir, testConfig } from './helpers.js';

const T = 120_000;

interface Res {
  status: number;
  headers: { get(name: string): string | null };
  json(): Promise<unknown>;
}

/**
 * One request on its own connection: the backend is restarted within the test, and a pooled keep-alive
 * socket to the stopped one would fail the next request (fetch keeps such a pool).
 */
function fetch(url: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: { get: (n) => (Array.isArray(res.headers[n]) ? (res.headers[n] as string[]).join(', ') : ((res.headers[n] as string | undefined) ?? null)) },
          json: async () => JSON.parse(text) as unknown,
        }),
      );
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

interface Backend {
  url: string;
  port: number;
  logins: LoginCodes;
  manager: ModelManager;
  settings: UserSettings;
  app: FastifyInstance;
}

describe('browser sessions and the last used model across restarts', () => {
  const data = tempDir('westfall-session-');
  const root = join(data.dir, 'renderer');
  let backend: Backend;
  let port = 0;

  /** What `westfall serve` does at start, minus the process: same data directory, same port. */
  async function start(): Promise<Backend> {
    const config = testConfig({ WESTFALL_DATA_DIR: data.dir, WESTFALL_API_TOKEN: `token-of-launch-${Date.now()}-abcdef` });
    const sessions = SessionSecret.open(config.stateDir);
    const settings = UserSettings.open(config.stateDir);
    const manager = ModelManager.fromConfig(config);
    rememberLastModel(manager, settings);
    const logins = new LoginCodes({ secret: sessions });
    const app = createApp(config, { manager, sessions, extraPlugins: [settingsRoutes(settings) as ServerPlugin, rendererRoutes({ root, logins })] });
    await app.listen({ host: '127.0.0.1', port });
    const addr = app.server.address();
    port = typeof addr === 'object' && addr ? addr.port : 0;
    const startup = chooseStartupModel(config.model, settings.get(), modelFileProblem);
    if (startup.path !== null) void manager.load(startup.path).catch(() => {});
    return { url: `http://127.0.0.1:${port}`, port, logins, manager, settings, app };
  }

  async function restart(): Promise<void> {
    await backend.app.close();
    backend = await start();
  }

  const login = (code: string) =>
    fetch(`${backend.url}/api/session/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: backend.url }, body: JSON.stringify({ code }) });

  /** A request as a page of this origin makes it: the cookie, Origin on writes, Sec-Fetch-Site. */
  const asPage = (cookie: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
    fetch(`${backend.url}${path}`, {
      ...init,
      headers: { cookie, 'sec-fetch-site': 'same-origin', ...(init.method && init.method !== 'GET' ? { origin: backend.url, 'content-type': 'application/json' } : {}), ...init.headers },
    });

  let cookie = '';
  let unusedCode = '';

  beforeAll(async () => {
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    backend = await start();
  });
  afterAll(async () => {
    await backend.app.close();
    data.cleanup();
  });

  it('keeps the secret in the data directory, readable by its owner only', () => {
    const file = join(data.dir, 'state', SESSION_SECRET_FILE);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('turns a login code into an httpOnly SameSite=Strict cookie, once', async () => {
    const code = backend.logins.issue();
    unusedCode = backend.logins.issue();
    const res = await login(code);
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(new RegExp(`^westfall_session_${backend.port}=`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    cookie = setCookie.split(';')[0]!;

    const again = await login(code);
    expect(again.status).toBe(401);
    const body = (await again.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('unauthorized');
    expect(body.error.message).toMatch(/npm start.*npx westfall login-link/);
  });

  it('accepts the cookie like the token, but only from this origin', async () => {
    expect((await asPage(cookie, '/api/system')).status).toBe(200);
    expect(((await (await asPage(cookie, '/api/session')).json()) as { signedIn: boolean }).signedIn).toBe(true);
    // Another localhost port is the same "site", so SameSite would send the cookie: Sec-Fetch-Site stops it.
    expect((await asPage(cookie, '/api/system', { headers: { 'sec-fetch-site': 'same-site' } })).status).toBe(401);
    // A write without Origin (not something a page of ours sends) is refused.
    expect((await fetch(`${backend.url}/api/settings`, { method: 'PATCH', headers: { cookie, 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    expect((await asPage(cookie, '/api/settings', { method: 'PATCH', body: '{}' })).status).toBe(200);
    // Without a cookie: 401 that says how to get a link.
    const none = await fetch(`${backend.url}/api/system`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { message: string } }).error.message).toContain('npx westfall login-link');
  });

  it('opens the chat WebSocket with the cookie alone', async () => {
    const ws = new WebSocket(`${backend.url.replace('http', 'ws')}/api/llm/stream`, ['westfall.v1'], { headers: { cookie, origin: backend.url } });
    const opened = await new Promise<boolean>((resolve) => {
      ws.once('open', () => resolve(true));
      ws.once('error', () => resolve(false));
      ws.once('unexpected-response', () => resolve(false));
    });
    ws.close();
    expect(opened).toBe(true);
  });

  it('records the loaded model as the last used one', async () => {
    await backend.manager.load(TINY_MODEL);
    await expect.poll(() => backend.settings.get().lastModel, { timeout: T }).toBe(TINY_MODEL);
    expect(JSON.parse(readFileSync(join(data.dir, 'state', 'settings.json'), 'utf8')).lastModel).toBe(TINY_MODEL);
  }, T);

  it('after a restart: the cookie still works, a code from before does not, and the last model loads', async () => {
    await restart();
    expect((await asPage(cookie, '/api/system')).status).toBe(200);
    expect((await login(unusedCode)).status).toBe(401); // the previous run may have redeemed it
    const fresh = await login(backend.logins.issue());
    expect(fresh.status).toBe(200);
    // The model of the previous run, with its progress visible in the status the UI polls meanwhile.
    const seen = new Set<string>();
    await expect
      .poll(
        async () => {
          const sys = (await (await asPage(cookie, '/api/system')).json()) as { model: { state: string; path: string | null } };
          seen.add(sys.model.state);
          return sys.model.state === 'ready' ? sys.model.path : null;
        },
        { timeout: T, interval: 50 },
      )
      .toBe(TINY_MODEL);
    expect([...seen].every((s) => s === 'loading' || s === 'ready')).toBe(true);
  }, T);

  it('does not load the last model when the setting is off', async () => {
    const off = await asPage(cookie, '/api/settings', { method: 'PATCH', body: JSON.stringify({ loadLastModel: false }) });
    expect(((await off.json()) as { loadLastModel: boolean }).loadLastModel).toBe(false);
    const bad = await asPage(cookie, '/api/settings', { method: 'PATCH', body: JSON.stringify({ lastModel: '/etc/passwd' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
    await restart();
    expect(backend.manager.status().state).toBe('none');
    expect(chooseStartupModel(null, backend.settings.get(), modelFileProblem)).toMatchObject({ path: null, reason: expect.stringMatching(/turned off/) });
    await asPage(cookie, '/api/settings', { method: 'PATCH', body: JSON.stringify({ loadLastModel: true }) });
  }, T);

  it('skips a last used model that is no longer a GGUF file, with the reason', () => {
    const fake = join(data.dir, 'gone.gguf');
    writeFileSync(fake, 'not a model');
    const r = chooseStartupModel(null, { loadLastModel: true, lastModel: fake }, modelFileProblem);
    expect(r).toMatchObject({ path: null, reason: expect.stringContaining('is not a GGUF model') });
  });

  it('"sign out everywhere" rotates the secret: every cookie and unused link stops working, also after a restart', async () => {
    const before = readFileSync(join(data.dir, 'state', SESSION_SECRET_FILE), 'utf8');
    const other = (await login(backend.logins.issue())).headers.get('set-cookie')!.split(';')[0]!;
    const pending = backend.logins.issue();
    const out = await asPage(cookie, '/api/session/logout-all', { method: 'POST', body: '{}' });
    expect(out.status).toBe(200);
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect(readFileSync(join(data.dir, 'state', SESSION_SECRET_FILE), 'utf8')).not.toBe(before);
    expect((await asPage(cookie, '/api/system')).status).toBe(401);
    expect((await asPage(other, '/api/system')).status).toBe(401);
    expect((await login(pending)).status).toBe(401);
    await restart();
    expect((await asPage(other, '/api/system')).status).toBe(401);
    expect((await login(backend.logins.issue())).status).toBe(200);
  }, T);
});
