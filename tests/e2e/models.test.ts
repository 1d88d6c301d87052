// The Models screen in Chromium against the in-process backend (real addon, real files) and a local fake
// hub on 127.0.0.1 (tests/models/fake-hub.ts): importing a synthetic GGUF through the file chooser (and a
// refused non-GGUF), a hub search with sizes and fit, a download cancelled half-way that shows Resume and the
// bytes kept and then completes from where it stopped, and deleting the loaded model after a confirmation.
import { copyFileSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import modelsRoutes from '../../src/server/routes/models.js';
import type { ServerPlugin } from '../../src/server/index.js';
import { formatBytes } from '../../renderer/src/shared/format.js';
import { FakeHub } from '../models/fake-hub.js';
import { HAVE_CHROMIUM, TINY_MODEL, buildRenderer, goTo, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 300_000;
const GiB = 2 ** 30;
const tiny = readFileSync(TINY_MODEL);
const HALF = Math.floor(tiny.length / 2);

describe.skipIf(!HAVE_CHROMIUM)('Models screen: import, hub search, resumable downloads, deleting the loaded model', () => {
  const data = tempDir();
  const modelsDir = join(data.dir, 'models');
  const hub = new FakeHub([
    {
      id: 'westfall-test/Tiny-Qwen2-GGUF',
      downloads: 4242,
      files: [
        { path: 'tiny-qwen2-Q4_K_M.gguf', data: tiny },
        { path: 'tiny-qwen2-F16.gguf', size: 300 * GiB },
      ],
    },
  ]);
  let server: InProcessServer;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;

  beforeAll(async () => {
    buildRenderer();
    await hub.start();
    // A fixed machine, so "fits" does not depend on the computer running the test.
    const models: ServerPlugin = async (app, opts) => {
      await app.register(modelsRoutes, { ...opts, machineMemory: () => ({ totalBytes: 16 * GiB, gpuBytes: null }), download: { retryDelayMs: 50 } });
    };
    server = await startInProcess({ settings: { WESTFALL_DATA_DIR: data.dir, WESTFALL_MODELS_DIR: modelsDir, WESTFALL_HUB_URL: hub.baseUrl }, plugins: [models] });
    browser = await launchBrowser();
    probe = await openPage(browser);
    page = probe.page;
    // Safety net for every action: the shared test machine can be very slow; nothing here waits on time.
    page.setDefaultTimeout(120_000);
    await login(page, server.loginUrl());
    await goTo(page, 'models', 'Models');
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await server?.close();
    await hub.close();
    data.cleanup();
  }, T);

  it('imports a GGUF picked with the file chooser, refuses a non-GGUF and asks before replacing', async () => {
    const chooser = page.getByTestId('model-file');
    // Picked from disk, as a user would (a name with spaces, which the models folder does not take as is).
    const picked = join(data.dir, 'my tiny model.gguf');
    copyFileSync(TINY_MODEL, picked);
    await chooser.setInputFiles(picked, { timeout: 120_000 });
    const row = page.locator('tr[data-file="my-tiny-model.gguf"]');
    await row.waitFor({ timeout: 120_000 });
    expect(await row.textContent()).toContain('qwen2');
    expect(readFileSync(join(modelsDir, 'my-tiny-model.gguf')).equals(tiny)).toBe(true);

    await chooser.setInputFiles({ name: 'notes.gguf', mimeType: 'text/plain', buffer: Buffer.from('Shopping list: eggs, milk.\n') }, { timeout: 120_000 });
    const error = page.getByTestId('import-error');
    await expect.poll(() => error.textContent(), { timeout: 120_000 }).toMatch(/notes\.gguf is not a usable GGUF model: it is not a GGUF model file/);
    await screenshot(page, 'models-import-refused');
    expect(readdirSync(modelsDir).sort()).toEqual(['my-tiny-model.gguf']);

    // The same name again: the user is asked, and Cancel sends nothing.
    await chooser.setInputFiles({ name: 'my tiny model.gguf', mimeType: 'application/octet-stream', buffer: tiny.subarray(0, 1000) }, { timeout: 120_000 });
    const dialog = page.getByRole('dialog', { name: 'Replace model' });
    await dialog.waitFor({ timeout: 120_000 });
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 120_000 });
    expect(readFileSync(join(modelsDir, 'my-tiny-model.gguf')).equals(tiny)).toBe(true);
    expect(readdirSync(modelsDir).filter((n) => n.startsWith('.import-'))).toEqual([]);
  }, T);

  it('imports a file dropped anywhere on the Models screen', async () => {
    const dataTransfer = await page.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.gguf', { type: 'application/octet-stream' }));
      return dt;
    }, tiny.toString('base64'));
    // Dropped on the heading, outside the import area.
    const heading = page.getByRole('heading', { level: 1, name: 'Models' });
    await heading.dispatchEvent('dragover', { dataTransfer }, { timeout: 120_000 });
    await expect.poll(() => page.getByTestId('model-drop').getAttribute('class'), { timeout: 120_000 }).toContain('over');
    await heading.dispatchEvent('drop', { dataTransfer }, { timeout: 120_000 });
    await page.locator('tr[data-file="dropped.gguf"]').waitFor({ timeout: 120_000 });
    expect(readFileSync(join(modelsDir, 'dropped.gguf')).equals(tiny)).toBe(true);
    expect(await page.getByTestId('model-drop').getAttribute('class')).not.toContain('over');
  }, T);

  it('searches the hub and shows each file with its size and whether it fits', async () => {
    await page.getByRole('searchbox', { name: 'Model name' }).fill('tiny-qwen2');
    await page.getByRole('button', { name: 'Search' }).click();
    const small = page.locator('tr[data-hub-file="tiny-qwen2-Q4_K_M.gguf"]');
    const big = page.locator('tr[data-hub-file="tiny-qwen2-F16.gguf"]');
    await small.waitFor({ timeout: 120_000 });
    expect(await small.getByTestId('hub-size').textContent()).toBe(formatBytes(tiny.length));
    expect(await small.locator('[data-fit]').getAttribute('data-fit')).toBe('fits');
    expect(await small.textContent()).toContain('fits your machine');
    expect(await big.getByTestId('hub-size').textContent()).toBe(formatBytes(300 * GiB));
    expect(await big.locator('[data-fit]').textContent()).toBe('too big');
    expect(await page.locator('[data-repo="westfall-test/Tiny-Qwen2-GGUF"]').textContent()).toContain('4,242 downloads');
    await screenshot(page, 'models-hub-search');
  }, T);

  it('a download cancelled half-way shows Resume and the bytes kept, and resumes to completion', async () => {
    hub.holdAt = HALF;
    const part = join(modelsDir, 'tiny-qwen2-Q4_K_M.gguf.part');
    await page.locator('tr[data-hub-file="tiny-qwen2-Q4_K_M.gguf"]').getByRole('button', { name: 'Download tiny-qwen2-Q4_K_M.gguf' }).click();
    const card = page.locator('wf-download-progress');
    const state = card.getByTestId('download-state');
    await expect.poll(() => state.getAttribute('data-phase'), { timeout: 120_000 }).toBe('downloading');
    // Everything the hub sent before holding is on disk: the cancel keeps exactly that.
    await expect.poll(() => (existsSync(part) ? statSync(part).size : -1), { timeout: 120_000 }).toBe(HALF);

    await card.getByRole('button', { name: 'Cancel download of tiny-qwen2-Q4_K_M.gguf' }).click();
    await expect.poll(() => state.getAttribute('data-phase'), { timeout: 120_000 }).toBe('paused');
    expect(await state.textContent()).toBe('Paused');
    expect(await card.getByTestId('download-bytes').textContent()).toBe(`${formatBytes(HALF)} of ${formatBytes(tiny.length)} kept`);
    expect(await card.getByTestId('download-bar').getAttribute('aria-valuenow')).toBe(String(Math.round((HALF / tiny.length) * 100)));
    expect(await card.locator('.fill').getAttribute('class')).toContain('paused'); // not the red of a failure
    expect(await card.textContent()).not.toMatch(/Cancelled/);
    await screenshot(page, 'models-download-paused');

    hub.release();
    await card.getByTestId('download-resume').click();
    await expect.poll(() => state.getAttribute('data-phase'), { timeout: 120_000 }).toBe('verified');
    // The second request asked for the rest only, and the file is checked against the hub's hash.
    const fileRequests = hub.requests.filter((r) => r.url.includes('/resolve/main/tiny-qwen2-Q4_K_M.gguf'));
    expect(fileRequests.map((r) => [r.range, r.status])).toEqual([
      [undefined, 200],
      [`bytes=${HALF}-`, 206],
    ]);
    await card.getByText(`SHA-256 ${FakeHub.sha256(tiny)}`).waitFor({ timeout: 120_000 });
    expect(readFileSync(join(modelsDir, 'tiny-qwen2-Q4_K_M.gguf')).equals(tiny)).toBe(true);
    await page.locator('tr[data-file="tiny-qwen2-Q4_K_M.gguf"]').waitFor({ timeout: 120_000 });
  }, T);

  it('a web address with the SHA-256 left empty and nothing published downloads unverified, and says so', async () => {
    const plain = new FakeHub([{ id: 'elsewhere/files', files: [{ path: 'plain.gguf', data: tiny }] }]);
    await plain.start();
    try {
      await page.getByRole('textbox', { name: 'Web address (URL)' }).fill(`${plain.baseUrl}/elsewhere/files/resolve/main/plain.gguf`);
      await page.locator('form.url').getByRole('button', { name: 'Download' }).click();
      const card = page.locator('[data-download]', { hasText: 'plain.gguf' }).locator('wf-download-progress');
      await expect.poll(() => card.getByTestId('download-state').getAttribute('data-phase'), { timeout: 120_000 }).toBe('verified');
      expect(await card.getByTestId('download-unverified').textContent()).toMatch(/Not verified: no fingerprint \(SHA-256\) is published/);
      expect(await card.textContent()).not.toContain('Checked against');
      expect(readFileSync(join(modelsDir, 'plain.gguf')).equals(tiny)).toBe(true);
    } finally {
      await plain.close();
    }
  }, T);

  it('deleting the loaded model asks, unloads it and deletes it', async () => {
    const row = page.locator('tr[data-file="my-tiny-model.gguf"]');
    await row.getByRole('button', { name: 'Load my-tiny-model.gguf' }).click();
    await expect.poll(() => row.getByText('loaded').count(), { timeout: 120_000 }).toBe(1);
    expect(server.manager.status().state).toBe('ready');

    await row.getByRole('button', { name: 'Delete my-tiny-model.gguf' }).click();
    const dialog = page.getByRole('dialog', { name: 'Unload and delete model' });
    await dialog.waitFor({ timeout: 120_000 });
    expect(await dialog.textContent()).toMatch(/my-tiny-model\.gguf is the loaded model\. It will be unloaded/);
    await screenshot(page, 'models-delete-loaded');
    await dialog.getByRole('button', { name: 'Unload and delete' }).click();
    await row.waitFor({ state: 'detached', timeout: 120_000 });
    expect(existsSync(join(modelsDir, 'my-tiny-model.gguf'))).toBe(false);
    expect(server.manager.status().state).toBe('none');
    await expect.poll(() => page.getByTestId('loaded-model').textContent(), { timeout: 120_000 }).toMatch(/None/);
    await screenshot(page, 'models', true);

    expect(probe.errors).toEqual([]);
    expect(probe.cspViolations).toEqual([]);
    // The only refusal on this screen was the non-GGUF file (the tool routes are not registered in this server).
    const modelErrors = probe.httpErrors.filter((e) => e.includes('/api/models'));
    expect(modelErrors).toEqual([expect.stringMatching(/^422 POST .*\/api\/models\/import\?fileName=notes\.gguf$/)]);
  }, T);
});
