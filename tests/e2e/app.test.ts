// The web UI end to end against a real `westfall serve` (the tiny synthetic model, one thread), driven in
// Chromium: the one-time login link, streaming chat with stop/regenerate/copy, the model manager's download
// with progress and verification from a local HTTP server, loading the downloaded model, keyboard navigation
// and themes. Screenshots of each view go to test-results/screenshots/.
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HAVE_CHROMIUM,
  TINY_MODEL,
  buildRenderer,
  eventually,
  goTo,
  launchBrowser,
  login,
  openPage,
  screenshot,
  sleep,
  startServe,
  tempDir,
  type PageProbe,
  type ServeProcess,
} from './harness.js';

const T = 180_000;

/** Serves one file slowly (256 KiB every 40 ms, about 6 MB/s) so the progress bar has something to show. */
function slowFileServer(file: string): Promise<{ server: Server; url: string; requests: () => number }> {
  let requests = 0;
  const size = statSync(file).size;
  const server = createServer((req, res) => {
    requests++;
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' }).end();
      return;
    }
    res.writeHead(200, { 'content-length': size, 'content-type': 'application/octet-stream' });
    const stream = createReadStream(file, { highWaterMark: 256 * 1024 });
    stream.on('data', (chunk) => {
      res.write(chunk);
      stream.pause();
      setTimeout(() => stream.resume(), 40);
    });
    stream.on('end', () => res.end());
    res.on('close', () => stream.destroy());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests })),
  );
}

/** Length of the last assistant message's text. */
async function lastReplyLength(page: Page): Promise<number> {
  const el = page.locator('wf-chat-message[sender="assistant"]').last().locator('[data-testid="assistant-text"]');
  return ((await el.textContent()) ?? '').length;
}

describe.skipIf(!HAVE_CHROMIUM)('web UI against westfall serve', () => {
  let serve: ServeProcess;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  const dirs: { cleanup: () => void }[] = [];
  const allCsp: string[] = [];
  const allErrors: string[] = [];

  beforeAll(async () => {
    buildRenderer();
    const data = tempDir();
    dirs.push(data);
    serve = await startServe(['--model', TINY_MODEL, '--context-size', '8192', '--parallel', '1'], {
      WESTFALL_DATA_DIR: data.dir,
      WESTFALL_MODELS_DIR: join(data.dir, 'models'),
      WESTFALL_API_TOKEN: '',
    });
    browser = await launchBrowser();
    probe = await openPage(browser, { origin: serve.url });
    // Chat over the plain WebSocket stream even once `westfall serve` registers the tools' routes (the
    // synthetic model cannot drive the tool-using agent; tools.test.ts covers that path).
    await probe.context.addInitScript(() => {
      if (!localStorage.getItem('westfall.chat')) localStorage.setItem('westfall.chat', JSON.stringify({ useTools: false }));
    });
    page = probe.page;
  }, T);

  afterAll(async () => {
    allCsp.push(...(probe?.cspViolations ?? []));
    allErrors.push(...(probe?.errors ?? []));
    await probe?.close();
    await browser?.close();
    await serve?.stop();
    for (const d of dirs) d.cleanup();
  }, T);

  it('serves the UI with a strict CSP; the login link works once and leaves no secret in the address bar', async () => {
    const res = await fetch(`${serve.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\d+/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect((await fetch(`${serve.url}/assets/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    // The API stays protected.
    expect((await fetch(`${serve.url}/api/system`)).status).toBe(401);

    await login(page, serve.loginUrl);
    expect(page.url()).not.toContain('login=');
    expect(page.url()).not.toContain('token');
    // The session is an httpOnly cookie: the page itself holds no token.
    expect(await page.evaluate(() => sessionStorage.getItem('westfall.token'))).toBeNull();
    const cookie = (await page.context().cookies()).find((c) => c.name.startsWith('westfall_session_'));
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const stored = /API token: (\S+) \(generated/.exec(serve.stdout())?.[1]; // the generated token printed in the banner
    expect(stored).toBeTruthy();

    // The same link a second time (another tab): refused, the login screen explains.
    const other = await openPage(browser);
    await other.page.goto(serve.loginUrl);
    await other.page.getByRole('heading', { name: 'Westfall Assistant' }).waitFor();
    await expect.poll(() => other.page.getByRole('alert').first().textContent()).toMatch(/login link is not valid, has expired or was already used/i);
    expect(other.page.url()).not.toContain('login=');
    await screenshot(other.page, 'login');
    // Pasting the token signs in.
    await other.page.getByLabel('Access token').fill(stored!);
    await other.page.getByRole('button', { name: 'Sign in' }).click();
    await other.page.locator('nav[aria-label="Main"]').waitFor();
    allCsp.push(...other.cspViolations);
    allErrors.push(...other.errors);
    await other.close();

    // `/?token=` (for scripts): accepted, then gone from the address bar.
    const third = await openPage(browser);
    await third.page.goto(`${serve.url}/?token=${encodeURIComponent(stored!)}#/settings`);
    await third.page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    expect(third.page.url()).not.toContain('token');
    expect(third.page.url()).toMatch(/#\/settings$/);
    // Signing out ends this browser's session: a reload shows the login screen.
    await third.page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await third.page.getByLabel('Access token').waitFor();
    await third.page.reload();
    await third.page.getByLabel('Access token').waitFor();
    allCsp.push(...third.cspViolations);
    allErrors.push(...third.errors);
    await third.close();
  }, T);

  it('streams a reply token by token and renders it', async () => {
    await eventually(async () => (await fetch(`${serve.url}/health/ready`)).status === 200, 60_000, 100, 'model ready');
    // Replies of up to 1500 tokens (set in the settings view), so there is time to watch them grow.
    await goTo(page, 'settings', 'Settings');
    const max = page.getByRole('spinbutton', { name: 'Longest reply (tokens)' });
    await max.fill('1500');
    await max.press('Tab');
    await page.locator('[data-nav="chat"]').click();
    // The plain WebSocket stream (a backend with the tools' routes would otherwise run the agent).
    await page.getByRole('textbox', { name: 'Message' }).waitFor();
    const tools = page.getByRole('checkbox', { name: 'Use tools' });
    if ((await tools.count()) > 0) await tools.uncheck();
    await page.getByRole('textbox', { name: 'Message' }).fill('Tell me a story about the sea.');
    await page.getByRole('button', { name: 'Send message' }).click();
    await expect.poll(() => page.locator('wf-chat-message[sender="user"]').count()).toBe(1);

    // While streaming: the reply grows in several steps.
    const lengths: number[] = [];
    const streaming = page.locator('wf-chat-message[sender="assistant"][streaming]');
    await streaming.waitFor({ timeout: 30_000 });
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await streaming.count()) > 0) {
      lengths.push(await lastReplyLength(page));
      await sleep(25);
    }
    const distinct = [...new Set(lengths.filter((n) => n > 0))];
    expect(distinct.length, `lengths seen while streaming: ${lengths.join(',')}`).toBeGreaterThanOrEqual(3);
    expect(distinct).toEqual([...distinct].sort((a, b) => a - b)); // only ever grows

    const reply = page.locator('wf-chat-message[sender="assistant"]').last();
    await expect.poll(() => reply.getByText(/tokens · [\d.]+ tok\/s/).count(), { timeout: 30_000 }).toBe(1);
    expect(await lastReplyLength(page)).toBeGreaterThan(0);
    expect(await reply.getAttribute('streaming')).toBeNull();
    // The conversation appears in the list.
    await expect.poll(() => page.getByRole('button', { name: /Open conversation Tell me a story/ }).count()).toBe(1);
    await screenshot(page, 'chat');
  }, T);

  it('copies a reply to the clipboard and regenerates it', async () => {
    const reply = page.locator('wf-chat-message[sender="assistant"]').last();
    const text = (await reply.locator('[data-testid="assistant-text"]').innerText()).trim();
    await reply.getByRole('button', { name: 'Copy message' }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).not.toBe('');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    // The raw markdown of the reply: about as long as its rendered text.
    expect(text.length).toBeGreaterThan(0);
    expect(copied.length).toBeGreaterThan(text.length * 0.5);
    await page.getByText('Copied to the clipboard').waitFor();

    const before = await reply.elementHandle();
    await reply.getByRole('button', { name: 'Regenerate response' }).click();
    await before!.waitForElementState('hidden'); // the old reply is gone
    await expect.poll(() => page.locator('wf-chat-message[sender="assistant"]:not([streaming])').getByText(/tok\/s/).count(), { timeout: 60_000 }).toBe(1);
    expect(await page.locator('wf-chat-message[sender="assistant"]').count()).toBe(1); // replaced, not added
  }, T);

  it('stops a long reply mid-stream', async () => {
    // A long reply: raise the limit in the settings (8000 tokens in an 8192 context).
    await goTo(page, 'settings', 'Settings');
    const max = page.getByRole('spinbutton', { name: 'Longest reply (tokens)' });
    await max.fill('8000');
    await max.press('Tab');
    await screenshot(page, 'settings');
    await goTo(page, 'chat', /.+/);
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Write a very long essay.');
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
    await page.locator('wf-chat-message[sender="assistant"][streaming]').waitFor({ timeout: 30_000 });
    await eventually(async () => (await lastReplyLength(page)) > 200, 30_000, 25, 'some text');
    await screenshot(page, 'chat-streaming');
    await page.getByRole('button', { name: 'Stop generating' }).click();
    const reply = page.locator('wf-chat-message[sender="assistant"]').last();
    await expect.poll(() => reply.getAttribute('stop-reason'), { timeout: 15_000 }).toBe('aborted');
    await reply.getByText('Stopped').waitFor();
    const after = await lastReplyLength(page);
    await sleep(500);
    expect(await lastReplyLength(page)).toBe(after);
    // Far from the 8000-token limit: it really stopped early.
    const tokens = Number(/(\d+) tokens/.exec((await reply.locator('footer').textContent()) ?? '')?.[1]);
    expect(tokens).toBeGreaterThan(0);
    expect(tokens).toBeLessThan(7000);
    await expect.poll(() => page.getByRole('button', { name: 'Send message' }).count()).toBe(1);
  }, T);

  it('downloads a model from a local server with live progress until verified, then loads it', async () => {
    const file = TINY_MODEL;
    const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
    const { server, url, requests } = await slowFileServer(file);
    try {
      await goTo(page, 'models', 'Models');
      // The first-run offer: nothing is installed in the (empty) models folder.
      await page.locator('[data-testid="first-run"]').waitFor();
      // The catalog marks one model as recommended for this computer and badges what each does and needs.
      await page.locator('[data-testid="recommended-mark"]').waitFor();
      expect(await page.locator('[data-testid="recommended-mark"]').count()).toBe(1);
      expect(await page.locator('[data-badge="thinks"]').count()).toBeGreaterThan(0);
      expect(await page.locator('[data-badge="tools"]').count()).toBeGreaterThan(0);
      expect(await page.locator('[data-badge="memory"]').count()).toBe(await page.locator('wf-catalog-card').count());
      expect(await page.locator('[data-testid="first-run"]').textContent()).toMatch(/recommended start for this computer/);
      await screenshot(page, 'models-first-run', true);

      await page.getByRole('textbox', { name: 'URL' }).fill(`${url}/e2e-tiny.gguf`);
      await page.getByRole('textbox', { name: 'SHA-256 (optional)' }).fill(sha256);
      await page.locator('form.url').getByRole('button', { name: 'Download' }).click();

      const bar = page.locator('[data-testid="download-bar"]');
      await bar.waitFor({ timeout: 15_000 });
      const seen = new Set<number>();
      let sawSpeed = false;
      let sawEta = false;
      let shot = false;
      const state = page.locator('[data-testid="download-state"]');
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        // Short timeouts: speed and ETA vanish when the download finishes (a locator would wait for them).
        const quick = { timeout: 500 };
        const phase = await state.getAttribute('data-phase', quick).catch(() => null);
        const now = await bar.getAttribute('aria-valuenow', quick).catch(() => null);
        if (now !== null) seen.add(Number(now));
        if (phase === 'downloading') {
          const speed = (await page.locator('[data-testid="download-speed"]').textContent(quick).catch(() => null)) ?? '';
          const eta = (await page.locator('[data-testid="download-eta"]').textContent(quick).catch(() => null)) ?? '';
          if (/[\d.]+ [KMG]?B\/s/.test(speed) && !/^0 B/.test(speed)) sawSpeed = true;
          if (/ETA \d/.test(eta)) sawEta = true;
          if (!shot && Number(now) > 20) {
            shot = true;
            await screenshot(page, 'models-downloading');
          }
        }
        if (phase === 'verified' || phase === 'error') break;
        await sleep(40);
      }
      expect(await state.getAttribute('data-phase')).toBe('verified');
      expect(await bar.getAttribute('aria-valuenow')).toBe('100');
      const partial = [...seen].filter((v) => v > 0 && v < 100);
      expect(partial.length).toBeGreaterThanOrEqual(2); // the bar moved through intermediate values
      expect(sawSpeed).toBe(true);
      expect(sawEta).toBe(true);
      expect(requests()).toBeGreaterThanOrEqual(1);
      await page.getByText(`SHA-256 ${sha256}`).waitFor();

      // Installed now; load it with a smaller context.
      const row = page.locator('tr[data-file="e2e-tiny.gguf"]');
      await row.waitFor({ timeout: 15_000 });
      await page.getByRole('spinbutton', { name: 'Context size (tokens)' }).fill('1024');
      await page.getByRole('spinbutton', { name: 'Context size (tokens)' }).press('Tab');
      await row.getByRole('button', { name: 'Load e2e-tiny.gguf' }).click();
      await expect.poll(() => row.getByText('loaded').count(), { timeout: 60_000 }).toBe(1);
      await expect.poll(() => page.locator('[data-testid="loaded-model"]').textContent(), { timeout: 15_000 }).toMatch(/context 1024 tokens/);
      await expect.poll(() => page.locator('[data-testid="first-run"]').count()).toBe(0);
      await screenshot(page, 'models', true);
    } finally {
      server.close();
    }
  }, T);

  it('is usable from the keyboard and switches themes', async () => {
    await page.keyboard.press('Alt+1');
    await page.getByRole('heading', { level: 1, name: /.+/ }).first().waitFor();
    expect(await page.locator('a[data-nav="chat"]').getAttribute('aria-current')).toBe('page');
    await page.keyboard.press('Alt+7');
    await expect.poll(() => page.locator('a[data-nav="settings"]').getAttribute('aria-current')).toBe('page');
    // Focus moved to the new view's heading.
    await expect.poll(() => page.evaluate(() => document.activeElement?.shadowRoot?.activeElement?.shadowRoot?.activeElement?.tagName ?? '')).toBe('H1');
    // Arrow keys move along the navigation.
    await page.locator('a[data-nav="chat"]').focus();
    await page.keyboard.press('ArrowDown');
    expect(await page.evaluate(() => (document.querySelector('wf-app')?.shadowRoot?.activeElement as HTMLElement | null)?.dataset.nav)).toBe('models');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('a[data-nav="models"]').getAttribute('aria-current')).toBe('page');

    // Theme: follows the system (light here), the toggle switches to dark and back.
    await page.keyboard.press('Alt+1');
    expect(await page.evaluate(() => document.documentElement.dataset.effectiveTheme)).toBe('light');
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(bg).toBe('rgb(20, 24, 29)');
    await screenshot(page, 'chat-dark');
    await page.keyboard.press('Alt+2');
    await screenshot(page, 'models-dark');
    await page.getByTestId('theme-toggle').click();
    expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('light');
  }, T);

  it('takes the session from the desktop preload and answers a quick ask in the compact window', async () => {
    // What electron/preload exposes as window.westfall (electron/shared/contract.ts), faked in the page.
    const token = /Bearer (\S+)/.exec(serve.stdout())![1]!;
    const desk = await openPage(browser);
    await desk.context.addInitScript(
      ({ baseUrl, token }) => {
        const w = window as unknown as Record<string, unknown>;
        // The plain stream, also once `westfall serve` registers the tools (the real tiny model cannot drive the agent).
        localStorage.setItem('westfall.chat', JSON.stringify({ useTools: false }));
        w.westfall = Object.freeze({
          appVersion: '0.1.0',
          getBackend: async () => ({ baseUrl, wsUrl: baseUrl.replace('http', 'ws'), token }),
          onQuickAsk: (cb: (e: { text: string }) => void) => {
            w.__quickAsk = cb;
            return () => undefined;
          },
          notify: async () => undefined,
        });
      },
      { baseUrl: serve.url, token },
    );
    await desk.page.goto(`${serve.url}/#/quick`);
    await desk.page.getByRole('heading', { level: 1, name: 'Quick ask' }).waitFor();
    expect(await desk.page.locator('nav[aria-label="Main"]').count()).toBe(0); // compact: the chat alone
    expect(await desk.page.getByRole('button', { name: 'Sign out' }).count()).toBe(0);
    await desk.page.evaluate(() => ((window as unknown as { __quickAsk: (e: { text: string }) => void }).__quickAsk)({ text: 'What is on my calendar?' }));
    await desk.page.locator('wf-chat-message[sender="user"]').getByText('What is on my calendar?').waitFor();
    const reply = desk.page.locator('wf-chat-message[sender="assistant"]').last();
    await expect.poll(() => reply.getAttribute('streaming'), { timeout: 60_000 }).toBeNull();
    expect(((await reply.locator('[data-testid="assistant-text"]').textContent()) ?? '').length).toBeGreaterThan(0);
    expect(desk.page.url()).toMatch(/#\/quick$/);
    await screenshot(desk.page, 'quick-ask');
    allCsp.push(...desk.cspViolations);
    allErrors.push(...desk.errors);
    await desk.close();
  }, T);

  it('raised no Content-Security-Policy violation and no script error', async () => {
    const csp = [...allCsp, ...probe.cspViolations];
    const errors = [...allErrors, ...probe.errors];
    expect(csp).toEqual([]);
    expect(errors, `HTTP errors: ${probe.httpErrors.join('; ')}`).toEqual([]);
  });
});
