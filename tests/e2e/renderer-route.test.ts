// The renderer's serving and login (src/server/routes/renderer.ts), without a browser: security headers,
// public assets next to a protected API, path checks, the not-built page, and single-use login codes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFrom } from '../../src/config/index.js';
import { createApp, ModelManager } from '../../src/server/index.js';
import { LoginCodes, contentSecurityPolicy, rendererRoutes } from '../../src/server/routes/renderer.js';
import { TOKEN, tempDir } from './harness.js';

describe('renderer routes', () => {
  const dir = tempDir();
  const root = join(dir.dir, 'renderer');
  let now = 1_000_000;
  const logins = new LoginCodes({ ttlMs: 60_000, now: () => now });
  const config = configFrom({ WESTFALL_API_TOKEN: TOKEN, WESTFALL_LOG_FILE: false, WESTFALL_DATA_DIR: dir.dir });
  const app = createApp(config, { manager: ModelManager.fromConfig(config), extraPlugins: [rendererRoutes({ root, logins })] });
  const missing = createApp(config, { manager: ModelManager.fromConfig(config), extraPlugins: [rendererRoutes({ root: join(dir.dir, 'nothing') })] });
  const host = { host: '127.0.0.1:8756' };

  beforeAll(async () => {
    mkdirSync(join(root, 'assets', 'sub'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title><script type="module" src="assets/app.js"></script>');
    writeFileSync(join(root, 'assets', 'app.js'), 'export {};');
    writeFileSync(join(root, 'assets', 'sub', 'x.css'), 'a{}');
    writeFileSync(join(root, 'sw.js'), 'self.x = 1;');
    await app.ready();
    await missing.ready();
  });
  afterAll(async () => {
    await app.close();
    await missing.close();
    dir.cleanup();
  });

  it('serves the page and assets without a token, with a strict CSP and security headers', async () => {
    const res = await app.inject({ url: '/', headers: host });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-security-policy']).toBe(contentSecurityPolicy('127.0.0.1:8756'));
    expect(res.headers['content-security-policy']).toContain("connect-src 'self' ws://127.0.0.1:8756");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    const js = await app.inject({ url: '/assets/app.js', headers: host });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect((await app.inject({ url: '/assets/sub/x.css', headers: host })).statusCode).toBe(200);
    const sw = await app.inject({ url: '/sw.js', headers: host });
    expect(sw.statusCode).toBe(200);
    expect(sw.headers['content-type']).toMatch(/javascript/);
    // The API is still protected, and unknown paths are not the page.
    expect((await app.inject({ url: '/api/system', headers: host })).statusCode).toBe(401);
    expect((await app.inject({ url: '/chat', headers: host })).statusCode).toBe(404);
  });

  it('refuses paths that leave the assets folder or name hidden files', async () => {
    writeFileSync(join(root, 'assets', '.hidden'), 'HIDDEN-CONTENT-7');
    writeFileSync(join(dir.dir, 'outside.txt'), 'OUTSIDE-CONTENT-42');
    for (const url of ['/assets/../../outside.txt', '/assets/%2e%2e/%2e%2e/outside.txt', '/assets/..%2f..%2foutside.txt', '/assets/.hidden', '/assets/nope.js']) {
      const res = await app.inject({ url, headers: host });
      expect(res.statusCode, url).toBe(404);
      expect(res.body).not.toMatch(/OUTSIDE-CONTENT|HIDDEN-CONTENT|<!doctype html>/);
    }
  });

  it('still checks the Host header (DNS rebinding)', async () => {
    expect((await app.inject({ url: '/', headers: { host: 'evil.example' } })).statusCode).toBe(403);
  });

  it('answers 503 with instructions when the renderer is not built', async () => {
    const res = await missing.inject({ url: '/', headers: host });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:renderer');
    expect((await missing.inject({ url: '/sw.js', headers: host })).statusCode).toBe(404);
  });

  it('exchanges a login code for a session cookie once, and not after it expired', async () => {
    const code = logins.issue();
    expect(code).toMatch(/^[A-Za-z0-9_-]{40,80}$/);
    const first = await app.inject({ method: 'POST', url: '/api/session/login', headers: host, payload: { code } });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ signedIn: true });
    expect(first.body).not.toContain(TOKEN); // the page never gets the token
    expect(String(first.headers['set-cookie'])).toMatch(/^westfall_session_8756=[A-Za-z0-9_-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const again = await app.inject({ method: 'POST', url: '/api/session/login', headers: host, payload: { code } });
    expect(again.statusCode).toBe(401);
    expect(again.json().error.code).toBe('unauthorized');
    expect(again.json().error.message).toContain('npx westfall login-link');

    const late = logins.issue();
    now += 60_001;
    expect((await app.inject({ method: 'POST', url: '/api/session/login', headers: host, payload: { code: late } })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: '/api/session/login', headers: host, payload: {} })).statusCode).toBe(401);
    // A foreign page cannot use a code (Origin check).
    const foreign = await app.inject({ method: 'POST', url: '/api/session/login', headers: { ...host, origin: 'http://evil.example' }, payload: { code: logins.issue() } });
    expect(foreign.statusCode).toBe(403);
  });

  it('refuses a forged code and one signed with another secret', () => {
    const code = logins.issue();
    const flipped = `${code.slice(0, -2)}${code.endsWith('AA') ? 'BB' : 'AA'}`;
    expect(logins.redeem(flipped)).toBe(false);
    expect(logins.redeem(new LoginCodes({ now: () => now }).issue())).toBe(false);
    expect(logins.redeem(code)).toBe(true);
  });
});
