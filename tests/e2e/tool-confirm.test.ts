// Tool confirmations in plain words, end to end in Chromium with the real synthetic model: the chat's
// request is steered (tools, a named tool choice, two steps) so that the model's grammar forces a call of
// a given tool; its random arguments are whatever the grammar allowed. The card must say what the call
// does in a sentence, show the arguments as a form the user fixes before Allow (what runs and what the
// conversation keeps is the edit), and a call that fails shows a readable reason (the model gets the
// error as the tool's result).
import type { Browser, Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import type { ServerPlugin } from '../../src/server/index.js';
import { createToolServices, type ToolServices } from '../../src/tools/index.js';
import { HAVE_CHROMIUM, buildRenderer, goTo, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 300_000;

describe.skipIf(!HAVE_CHROMIUM)('tool confirmations with a forced call of the synthetic model', () => {
  let server: InProcessServer;
  let services: ToolServices;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  const data = tempDir();
  /** The tool the next chat request must call. */
  let force = 'time_start_timer';

  beforeAll(async () => {
    buildRenderer();
    services = createToolServices(data.dir, { vault: { kdf: { N: 2 ** 10, r: 8, p: 1 } } });
    services.time.projects.create({ name: 'Garden' });
    services.time.projects.create({ name: 'Kitchen' });
    const plugins = createToolPlugins(services, { heartbeatMs: 1000 }) as unknown as ServerPlugin[];
    server = await startInProcess({ plugins, load: true, settings: { WESTFALL_DATA_DIR: data.dir, WESTFALL_CONTEXT_SIZE: 4096 } });
    browser = await launchBrowser();
    probe = await openPage(browser, { origin: server.url });
    page = probe.page;
    // The app's request, with the call forced: only the time tools are offered, the first step must
    // call `force`, the second may only answer, and replies are short.
    await page.route('**/api/agent/chat', async (route: Route) => {
      const body = JSON.parse(route.request().postData() ?? '{}') as Record<string, unknown>;
      const steered = { ...body, tools: ['time_start_timer', 'time_stop_timer', 'time_list_projects'], toolChoice: { name: force }, maxSteps: 2, params: { maxTokens: 300, temperature: 0.8 } };
      await route.continue({ postData: JSON.stringify(steered) });
    });
    await login(page, server.loginUrl());
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await server?.close();
    services?.close();
    data.cleanup();
  }, T);

  it('says the call in plain words; the project the user picks before Allow is what runs and what is kept', async () => {
    await goTo(page, 'chat', /.+/);
    await page.getByRole('checkbox', { name: 'Use tools' }).waitFor();
    await page.getByRole('textbox', { name: 'Message' }).fill('Start a timer on my garden project');
    await page.getByRole('button', { name: 'Send message' }).click();
    const card = page.getByTestId('tool-call').last();
    await expect.poll(() => card.getByTestId('tool-status').textContent(), { timeout: 120_000 }).toBe('Needs your confirmation');
    expect(await card.getByTestId('tool-title').textContent()).toBe('Start a timer');
    const sentence = card.getByTestId('tool-sentence');
    expect(await sentence.textContent()).toMatch(/^Start a timer on project .+\?$/);
    expect(await card.textContent()).not.toContain('"project'); // no raw JSON outside Details
    // The form: labelled fields from the schema, the user's projects to choose from.
    const projectId = card.getByRole('combobox', { name: 'Project id' });
    expect(await projectId.locator('option').allTextContents()).toEqual(expect.arrayContaining(['Garden', 'Kitchen']));
    const project = card.getByRole('combobox', { name: 'Project', exact: true });
    await projectId.selectOption('');
    await project.fill('');
    // Neither given: the first of the pair is required and Allow waits for it.
    await expect.poll(() => card.getByTestId('tool-confirm').isDisabled()).toBe(true);
    expect(await sentence.textContent()).toMatch(/^Start a timer on project …/);
    await project.fill('Garden');
    await expect.poll(() => sentence.textContent()).toMatch(/^Start a timer on project Garden/);
    await card.getByRole('textbox', { name: 'Description' }).fill('Weeding');
    await expect.poll(() => sentence.textContent()).toBe('Start a timer on project Garden for "Weeding"?');
    await screenshot(page, 'tool-confirm-form');
    await card.getByTestId('tool-confirm').click();
    await expect.poll(() => card.getByTestId('tool-status').textContent(), { timeout: 60_000 }).toBe('Done');
    expect(services.time.timer.status()).toMatchObject({ project: 'Garden', description: 'Weeding' });
    // The conversation keeps the edited call, not the model's.
    await page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: 120_000 });
    const conv = services.conversations.list().conversations.find((c) => c.title.startsWith('Start a timer on my garden'))!;
    const call = services.conversations.messages(conv.id).find((m) => m.toolCalls)!.toolCalls![0]!;
    expect(call.name).toBe('time_start_timer');
    expect(call.arguments).toMatchObject({ project: 'Garden', description: 'Weeding' });
    expect((call.arguments as Record<string, unknown>).projectId).toBeUndefined();
    // Readable after the fact too: label and value, not JSON.
    expect(await card.getByTestId('tool-arguments').textContent()).toContain('ProjectGarden');
  }, T);

  it('a call that fails shows a readable reason; the model gets the error as the result', async () => {
    if (services.time.timer.status()) services.time.timer.stop(); // nothing running now
    force = 'time_stop_timer';
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('Stop my timer');
    await page.getByRole('button', { name: 'Send message' }).click();
    const card = page.getByTestId('tool-call').last();
    await expect.poll(() => card.getByTestId('tool-status').textContent(), { timeout: 120_000 }).toBe('Needs your confirmation');
    expect(await card.getByTestId('tool-sentence').textContent()).toBe('Stop the timer and save its time?');
    await card.getByTestId('tool-confirm').click();
    await expect.poll(() => card.getByTestId('tool-status').textContent(), { timeout: 60_000 }).toBe('Failed');
    const reason = (await card.getByTestId('tool-error').textContent()) ?? '';
    expect(reason).toBe('No timer is running; start one first.');
    await screenshot(page, 'tool-failed');
    await page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: 120_000 });
    const conv = services.conversations.list().conversations.find((c) => c.title === 'Stop my timer')!;
    const result = services.conversations.messages(conv.id).find((m) => m.role === 'tool')!;
    expect(JSON.parse(result.content)).toMatchObject({ error: { code: 'timer_not_running' } });
  }, T);

  it('raised no script error', () => {
    expect(probe.errors, `HTTP errors: ${probe.httpErrors.join('; ')}`).toEqual([]);
  });
});
