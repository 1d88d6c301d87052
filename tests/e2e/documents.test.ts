// Documents end to end in Chromium: a collection made from a folder of the generated corpus (the tiny model
// embeds it through the model manager), the job's progress until "Indexed", the corrupt PDF listed with
// its reason, a search whose result opens the cited passage in the viewer (file, page, the fact), and a chat
// that answers from the collection: the reply lists its sources and [1] opens the passage.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerPlugin } from '../../src/server/index.js';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import { createToolServices, type ToolServices } from '../../src/tools/index.js';
import { writeCorpus } from '../documents/corpus.js';
import { HAVE_CHROMIUM, buildRenderer, goTo, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 300_000;
const POLL = { timeout: 180_000 };

describe.skipIf(!HAVE_CHROMIUM)('documents screen', () => {
  let server: InProcessServer;
  let services: ToolServices;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  const data = tempDir();
  const corpus = join(data.dir, 'corpus');

  beforeAll(async () => {
    buildRenderer();
    await writeCorpus(corpus);
    services = createToolServices(data.dir, { startReminders: false });
    const plugins = createToolPlugins(services, { heartbeatMs: 1000 }) as unknown as ServerPlugin[];
    server = await startInProcess({ plugins, load: true, settings: { WESTFALL_DATA_DIR: data.dir, WESTFALL_MAX_TOKENS: 8 } });
    browser = await launchBrowser();
    probe = await openPage(browser, { origin: server.url });
    page = probe.page;
    await login(page, server.loginUrl());
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await server?.close();
    services?.close();
    data.cleanup();
  }, T);

  it(
    'adds a folder, shows the progress, lists the skipped file, and a search result opens the cited passage',
    async () => {
      await goTo(page, 'documents', 'Documents');
      const view = page.locator('wf-documents-view');
      await view.getByRole('textbox', { name: 'Name' }).fill('Home');
      await view.getByRole('textbox', { name: 'Folder' }).fill(corpus);
      await view.getByRole('button', { name: 'Create and index' }).click();
      const progress = view.getByTestId('job-progress');
      await progress.waitFor();
      const states = new Set<string>();
      await expect
        .poll(async () => {
          const s = (await progress.getAttribute('data-state')) ?? '';
          states.add(s);
          if (s === 'running' && states.size === 1) await screenshot(page, 'documents-indexing');
          return s;
        }, POLL)
        .toBe('done');
      expect(await progress.getByRole('status').textContent()).toMatch(/Indexed: 7 of 7 files, \d+ passages embedded \(1 failed\)/);
      expect(await view.getByTestId('collection-counts').textContent()).toMatch(/6 files, 8 pages, \d+ passages, 1 could not be read/);
      expect(await view.getByTestId('failed-files').textContent()).toMatch(/broken\.pdf: not a readable PDF/);

      await view.getByRole('searchbox', { name: 'Search the documents' }).fill('Velmora coolant boiling point');
      await view.getByRole('button', { name: 'Search', exact: true }).click();
      const results = view.getByTestId('doc-results');
      const hit = results.getByRole('button').filter({ hasText: 'handbook.pdf' }).first();
      await hit.waitFor();
      expect(await hit.textContent()).toMatch(/page 2/);
      await screenshot(page, 'documents-search', true);
      await hit.click();
      const viewer = view.getByTestId('passage-viewer');
      await viewer.getByTestId('passage-text').waitFor();
      expect(await viewer.getByRole('heading', { name: 'handbook.pdf' }).count()).toBe(1);
      expect(await viewer.getByTestId('passage-place').textContent()).toMatch(/page 2/);
      expect(await viewer.getByTestId('passage-text').textContent()).toContain('137 degrees Celsius');
      await screenshot(page, 'documents-passage');
      await viewer.getByRole('button', { name: 'Close' }).click();
      await expect.poll(() => viewer.isVisible()).toBe(false);
    },
    T,
  );

  it(
    'a chat that uses the collection: the reply lists its sources and [1] opens the passage',
    async () => {
      await page.locator('[data-nav="chat"]').click();
      const tools = page.getByRole('checkbox', { name: 'Use tools' });
      await tools.waitFor();
      await tools.uncheck(); // the plain stream, where the passages go with the question
      const chooser = page.getByTestId('chat-documents');
      await chooser.locator('summary').click();
      await chooser.getByRole('checkbox', { name: 'Home' }).check();
      await expect.poll(() => chooser.locator('summary').textContent()).toMatch(/Documents: Home/);
      await page.getByRole('textbox', { name: 'Message' }).fill('What is the wifi password of the cabin?');
      await page.getByRole('button', { name: 'Send message' }).click();
      const sources = page.getByTestId('citations');
      await sources.waitFor(POLL);
      const first = sources.getByRole('button').first();
      expect(await first.textContent()).toMatch(/^\[1\] notes\.md · Cabin notes › Internet/);
      await page.getByRole('button', { name: 'Send message' }).waitFor(POLL);
      await first.click();
      const viewer = page.locator('wf-doc-citations').getByTestId('passage-viewer');
      await viewer.getByTestId('passage-text').waitFor();
      expect(await viewer.getByTestId('passage-text').textContent()).toContain('tangerine-otter-42');
      await screenshot(page, 'documents-chat-citation');
      await viewer.getByRole('button', { name: 'Close' }).click();
      // The choice is saved with the conversation.
      const convs = await fetch(`${server.url}/api/conversations`, { headers: { authorization: `Bearer ${server.config.apiToken}` } }).then((r) => r.json() as Promise<{ conversations: { id: string }[] }>);
      const id = convs.conversations[0]!.id;
      expect(services.documents.store.chatCollections(id)).toHaveLength(1);
      expect(probe.errors).toEqual([]);
      expect(probe.cspViolations).toEqual([]);
    },
    T,
  );
});
