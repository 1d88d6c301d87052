// Settings → Conversation memory, in Chromium against the in-process backend with the tiny model: a long
// /v1 chat leaves one saved state on disk; Settings shows its size and count and the cap, a new cap is kept
// by the backend, and Clear (after its confirmation; Cancel keeps everything) empties it.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_CHROMIUM, TOKEN, buildRenderer, goTo, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 180_000;
const MB = 1024 * 1024;
const AUTH = { authorization: `Bearer ${TOKEN}` };

// Long enough to be worth saving (the cache keeps states of 128 tokens or more).
const LONG =
  'Here is my budget for the month. Rent is 900, groceries about 320, the bus pass 49, phone 25, internet 30, ' +
  'gym 35, streaming 12, insurance 80, savings 200, and some money for gifts because December is expensive. ';

describe.skipIf(!HAVE_CHROMIUM)('Settings: conversation memory on disk', () => {
  const data = tempDir();
  let server: InProcessServer;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;

  const stats = async () => (await (await fetch(`${server.url}/api/prompt-cache`, { headers: AUTH })).json()) as { entries: number; bytes: number; maxBytes: number };

  beforeAll(async () => {
    buildRenderer();
    server = await startInProcess({ load: true, settings: { WESTFALL_DATA_DIR: data.dir, WESTFALL_PROMPT_CACHE_MB: 64 } });
    browser = await launchBrowser();
    probe = await openPage(browser);
    page = probe.page;
    await login(page, server.loginUrl());
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await server?.close();
    data.cleanup();
  }, T);

  it('shows the space and count, changes the cap, and clears after confirming', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: LONG.repeat(3) }], max_tokens: 8, temperature: 0 }),
    });
    expect(res.status).toBe(200);
    // The state is written in the background after the reply.
    await expect.poll(() => server.manager.promptCache!.stats().saves).toBeGreaterThanOrEqual(1);
    await server.manager.promptCache!.flush();
    const before = await stats();
    expect(before.entries).toBe(1);
    expect(before.bytes).toBeGreaterThan(0);

    await goTo(page, 'settings', 'Settings');
    const summary = page.getByTestId('prompt-cache-summary');
    await expect.poll(() => summary.textContent()).toMatch(/Conversation memory on disk:\s*[\d.<\s]+ MB in\s*1 saved chat, up to/);
    const cap = page.getByRole('spinbutton', { name: 'Most space for conversation memory (MB)' });
    expect(await cap.inputValue()).toBe('64');
    await page.getByText('Lets long chats continue instantly after a restart.').waitFor();
    await screenshot(page, 'settings-prompt-cache');

    // A new cap is the backend's (and stays when Settings is opened again).
    await cap.fill('32');
    await cap.press('Enter');
    await cap.blur();
    await expect.poll(async () => (await stats()).maxBytes).toBe(32 * MB);
    await goTo(page, 'chat', /.+/);
    await goTo(page, 'settings', 'Settings');
    await expect.poll(() => cap.inputValue()).toBe('32');

    // Clear asks first; Cancel keeps the states.
    const section = page.locator('wf-prompt-cache-settings');
    await section.getByRole('button', { name: 'Clear' }).click();
    const dialog = page.getByRole('dialog', { name: 'Clear conversation memory' });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect((await stats()).entries).toBe(1);

    await section.getByRole('button', { name: 'Clear' }).click();
    await dialog.getByRole('button', { name: 'Clear' }).click();
    await expect.poll(() => summary.textContent()).toMatch(/0\.0 MB in\s*0 saved chats/);
    expect((await stats()).entries).toBe(0);
    expect(await section.getByRole('button', { name: 'Clear' }).isDisabled()).toBe(true);
    expect(probe.errors).toEqual([]);
  }, T);
});
