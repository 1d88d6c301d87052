// Settings → Remote providers, in Chromium against `westfall serve` (no model) with a second backend (the
// tiny model, in-process) as the OpenAI-compatible upstream: with none, Settings says every chat stays on
// this computer; a provider is added with a key and tested ("connected, 1 model"), shown with its health,
// edited, and removed after confirming. The key never comes back to the page.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, TOKEN, buildRenderer, goTo, launchBrowser, login, openPage, screenshot, startInProcess, startServe, tempDir, type InProcessServer, type PageProbe, type ServeProcess } from './harness.js';

const T = 180_000;

describe.skipIf(!HAVE_CHROMIUM)('Settings: remote providers', () => {
  const data = tempDir();
  let upstream: InProcessServer;
  let router: ServeProcess;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;

  beforeAll(async () => {
    buildRenderer();
    upstream = await startInProcess({ load: true });
    router = await startServe(['--data-dir', data.dir], {});
    browser = await launchBrowser();
    probe = await openPage(browser);
    page = probe.page;
    await login(page, router.loginUrl);
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await router?.stop();
    await upstream?.close();
    data.cleanup();
  }, T);

  it('adds, tests, edits and removes a provider; the key is never shown', async () => {
    await goTo(page, 'settings', 'Settings');
    const section = page.locator('wf-providers-settings');
    await expect.poll(() => section.getByTestId('providers-privacy').textContent()).toContain('every chat stays on this computer');

    await section.getByRole('button', { name: 'Add provider' }).click();
    const form = section.locator('wf-provider-form');
    await form.getByLabel('Name').fill('home');
    await form.getByLabel('Server URL').fill(upstream.url);
    await form.getByLabel('API key').fill(TOKEN);
    await form.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => form.getByTestId('provider-test').textContent(), { timeout: 30_000 }).toBe('connected, 1 model');
    await screenshot(page, 'settings-provider-form');
    await form.getByRole('button', { name: 'Add provider' }).click();

    const item = section.locator('[data-testid="provider"][data-name="home"]');
    await expect.poll(() => item.getByTestId('provider-health').textContent(), { timeout: 30_000 }).toMatch(/^connected, 1 model \(\d+ ms\)$/);
    expect(await item.textContent()).toContain(`${upstream.url}/v1`);
    expect(await item.textContent()).toContain('key saved');
    await expect.poll(() => section.getByTestId('providers-privacy').textContent()).toContain('sent to its server');
    await screenshot(page, 'settings-providers');
    expect(await page.content()).not.toContain(TOKEN);

    // Edit: the key field is empty (write-only); a wrong key replaces it and the health says so.
    await item.getByRole('button', { name: 'Edit' }).click();
    const edit = section.locator('wf-provider-form');
    expect(await edit.getByLabel('API key').inputValue()).toBe('');
    await edit.getByLabel('API key').fill('wrong-key');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => item.getByTestId('provider-health').textContent(), { timeout: 30_000 }).toContain('refused the API key');

    // Remove asks first.
    await item.getByRole('button', { name: 'Remove' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove home' });
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await item.waitFor({ state: 'detached' });
    await expect.poll(() => section.getByTestId('providers-privacy').textContent()).toContain('every chat stays on this computer');
    expect(probe.errors).toEqual([]);
  }, T);
});
