// Settings → Workers in Chromium: a real `westfall worker` on 127.0.0.1 added by its address, shown as
// ready with its free memory, splitting turned on; a wrong address is refused with the reason; removal.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WorkerSettings, createWorkers, type Workers } from '../../src/server/workers/index.js';
import { formatBytes } from '../../renderer/src/shared/format.js';
import { startWorker, stopWorker, type TestWorker } from '../helpers/workers.js';
import { HAVE_CHROMIUM, buildRenderer, goTo, launchBrowser, login, openPage, screenshot, startInProcess, type InProcessServer, type PageProbe } from './harness.js';

const T = 180_000;

describe.skipIf(!HAVE_CHROMIUM)('Settings: workers', () => {
  let server: InProcessServer;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  let worker: TestWorker;
  let workers: Workers;

  beforeAll(async () => {
    buildRenderer();
    worker = await startWorker(['--mem', '256M']);
    server = await startInProcess({
      deps: (manager) => {
        workers = createWorkers(manager, { stateDir: null, settings: WorkerSettings.inMemory() });
        return { workers };
      },
    });
    browser = await launchBrowser();
    probe = await openPage(browser);
    page = probe.page;
    await login(page, server.loginUrl());
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await server?.close();
    await stopWorker(worker);
  }, T);

  it('adds a worker by address, shows what it offers, turns splitting on, and removes it', async () => {
    await goTo(page, 'settings', 'Settings');
    const section = page.locator('wf-workers-settings');
    await section.getByText('No workers yet.').waitFor();
    await expect.poll(() => section.getByTestId('workers-enabled').isDisabled()).toBe(true);

    // Not an address: refused with the reason, nothing added.
    await section.getByTestId('worker-address').fill('http://nowhere:1');
    await section.getByRole('button', { name: 'Add worker' }).click();
    await page.getByText(/not a worker address/).first().waitFor();
    expect(workers.settings.get().workers).toEqual([]);

    await section.getByTestId('worker-address').fill(worker.endpoint);
    await section.getByRole('button', { name: 'Add worker' }).click();
    const row = section.getByTestId('worker');
    await expect.poll(() => row.textContent()).toContain(worker.endpoint);
    const offered = formatBytes(256 * 2 ** 20);
    await expect.poll(() => row.getByTestId('worker-state').textContent()).toBe(`ready, ${offered} free of ${offered}`);

    await section.getByTestId('workers-enabled').check();
    await expect.poll(() => workers.settings.get()).toMatchObject({ enabled: true, workers: [worker.endpoint] });
    await screenshot(page, 'settings-workers');

    await row.getByRole('button', { name: `Remove ${worker.endpoint}` }).click();
    await section.getByText('No workers yet.').waitFor();
    expect(workers.settings.get().workers).toEqual([]);
    expect(probe.errors).toEqual([]);
  }, T);
});
