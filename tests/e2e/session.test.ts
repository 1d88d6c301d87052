// Signing in once per browser (issue "Daily use", item 1), in Chromium against a real `westfall serve`:
// after a login link, a new tab of the same browser is signed in without a link; the backend is stopped
// and started again on the same data directory and port, and the open tab and a new one are still signed
// in; a login link pasted into an open tab works without a reload; "sign out everywhere" ends it.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, buildRenderer, launchBrowser, openPage, screenshot, startServe, tempDir, type PageProbe, type ServeProcess } from './harness.js';

const T = 180_000;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

describe.skipIf(!HAVE_CHROMIUM)('browser session across tabs and backend restarts', () => {
  const data = tempDir();
  const env = { WESTFALL_DATA_DIR: data.dir, WESTFALL_MODELS_DIR: join(data.dir, 'models'), WESTFALL_API_TOKEN: '' };
  let port = 0;
  let serve: ServeProcess;
  let browser: Browser;
  let probe: PageProbe;

  beforeAll(async () => {
    buildRenderer();
    port = await freePort();
    serve = await startServe(['--port', String(port)], env);
    browser = await launchBrowser();
    probe = await openPage(browser);
  }, T);
  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await serve?.stop();
    data.cleanup();
  }, T);

  const nav = 'nav[aria-label="Main"]';

  it('a new tab is signed in; after a backend restart the open tab and new tabs still are', async () => {
    const { page, context } = probe;
    await page.goto(serve.loginUrl);
    await page.locator(nav).waitFor({ timeout: 30_000 });

    const tab = await context.newPage();
    await tab.goto(serve.url);
    await tab.locator(nav).waitFor({ timeout: 30_000 });
    await tab.close();

    await serve.stop();
    serve = await startServe(['--port', String(port)], env);
    expect(serve.url).toBe(`http://127.0.0.1:${port}`);

    // The open tab keeps working: its next request carries the same cookie.
    await page.locator('a[data-nav="settings"]').click();
    await page.getByRole('heading', { level: 1, name: 'Settings' }).waitFor();
    await page.getByText('Load the last used model when the assistant starts').waitFor();
    await page.reload();
    await page.locator(nav).waitFor({ timeout: 30_000 });
    const again = await context.newPage();
    await again.goto(`${serve.url}/#/chat`);
    await again.locator(nav).waitFor({ timeout: 30_000 });
    await screenshot(again, 'session-after-restart');
    await again.close();
    // Requests made while the backend was down failed (refused, 503 while stopping); none was refused as signed out.
    expect(probe.errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
    expect(probe.httpErrors.filter((e) => e.startsWith('401'))).toEqual([]);
  }, T);

  it('a login link pasted into an open, signed-out tab signs it in without a reload', async () => {
    const other = await openPage(browser); // another browser profile: no cookie
    await other.page.goto(serve.url);
    await other.page.getByTestId('sign-in-advice').waitFor();
    expect(await other.page.getByTestId('sign-in-advice').textContent()).toMatch(/npm start.*npx westfall login-link/s);
    const link = /(http:\/\/127\.0\.0\.1:\d+\/#login=[A-Za-z0-9_-]+)/.exec(serve.stdout())![1]!;
    await other.page.evaluate((hash) => (location.hash = hash), new URL(link).hash);
    await other.page.locator(nav).waitFor({ timeout: 30_000 });
    expect(other.page.url()).not.toContain('login=');

    // Sign out everywhere: this browser and the first one are both signed out.
    await other.page.locator('a[data-nav="settings"]').click();
    await other.page.getByTestId('sign-out-everywhere').click();
    await other.page.getByRole('dialog').getByRole('button', { name: 'Sign out everywhere' }).click();
    await other.page.getByTestId('sign-in-advice').waitFor();
    await probe.page.reload();
    await probe.page.getByTestId('sign-in-advice').waitFor();
    await other.close();
  }, T);
});
