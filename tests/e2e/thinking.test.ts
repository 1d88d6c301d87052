// A thinking model in the web UI, end to end: `westfall serve` with the tiny synthetic model carrying
// Qwen3.5's real chat template (its generation prompt opens a <think> block, so the random weights' output
// streams as reasoning), driven in Chromium. The reply's thinking shows live in a collapsible block, then
// with its duration; it is saved with the conversation; Think off (per chat) is sent with the request and
// the reply then has no thinking; the tool-using agent's thinking shows the same way.
import type { Browser, Page, WebSocket as PwWebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { templateModel } from '../helpers/models.js';
import { HAVE_CHROMIUM, buildRenderer, launchBrowser, login, openPage, screenshot, startServe, tempDir, waitReady, type PageProbe, type ServeProcess } from './harness.js';

const T = 240_000;
/** Generous: two cores, maybe busy. */
const WAIT = 90_000;

describe.skipIf(!HAVE_CHROMIUM)('thinking in the web UI', () => {
  let serve: ServeProcess;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  let data: ReturnType<typeof tempDir>;
  /** Every chat message the page sent over the WebSocket. */
  const sent: Record<string, unknown>[] = [];

  const lastReply = () => page.locator('wf-chat-message[sender="assistant"]').last();
  const block = () => lastReply().locator('wf-thinking-block');
  const toggle = () => block().getByTestId('thinking-toggle');
  const thoughts = () => block().getByTestId('thinking-text');
  const replyDone = () => expect.poll(() => lastReply().getAttribute('streaming'), { timeout: WAIT }).toBeNull();
  /** Sent, answered, and saved (the composer offers Send again only once the reply is saved). */
  async function ask(text: string): Promise<void> {
    await page.getByRole('textbox', { name: 'Message' }).fill(text);
    await page.getByRole('button', { name: 'Send message' }).click();
    await page.locator('wf-chat-message[sender="assistant"]').last().waitFor({ timeout: WAIT });
  }

  beforeAll(async () => {
    buildRenderer();
    const model = await templateModel('Qwen3.5-4B');
    data = tempDir();
    serve = await startServe(['--model', model, '--context-size', '8192', '--parallel', '1'], {
      WESTFALL_DATA_DIR: data.dir,
      WESTFALL_API_TOKEN: '',
    });
    browser = await launchBrowser();
    probe = await openPage(browser, { origin: serve.url });
    // The plain WebSocket stream first, with replies long enough to watch the thinking grow.
    await probe.context.addInitScript(() => {
      if (!localStorage.getItem('westfall.chat')) localStorage.setItem('westfall.chat', JSON.stringify({ useTools: false, maxTokens: 300 }));
    });
    page = probe.page;
    page.on('websocket', (ws: PwWebSocket) =>
      ws.on('framesent', (f) => {
        try {
          const m = JSON.parse(String(f.payload)) as Record<string, unknown>;
          if (m.type === 'chat') sent.push(m);
        } catch {
          /* not JSON */
        }
      }),
    );
    await waitReady(serve.url, WAIT);
    await login(page, serve.loginUrl);
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await serve?.stop();
    data?.cleanup();
  }, T);

  it('shows the thinking live, then collapsed with its duration; click and keyboard toggle it', async () => {
    await expect.poll(() => page.getByTestId('think-toggle').isChecked(), { timeout: WAIT }).toBe(true); // on by default
    await ask('Why is the sky blue?');
    // Live: open, the header counts, the text grows.
    await block().and(page.locator('[live]')).waitFor({ timeout: WAIT });
    await expect.poll(() => toggle().getAttribute('aria-expanded'), { timeout: WAIT }).toBe('true');
    await expect.poll(async () => ((await thoughts().textContent()) ?? '').length, { timeout: WAIT }).toBeGreaterThan(0);
    expect(await block().getByTestId('thinking-label').textContent()).toMatch(/^Thinking… \d+(\.\d)? s$/);
    await screenshot(page, 'thinking-live');

    await replyDone();
    expect(sent.at(-1)?.thinking).toEqual({ enabled: true });
    // Done: collapsed (the answer started, or the reply ended), with how long it thought.
    await expect.poll(() => toggle().getAttribute('aria-expanded'), { timeout: WAIT }).toBe('false');
    await expect.poll(() => block().getByTestId('thinking-label').textContent(), { timeout: WAIT }).toMatch(/^Thought for (\d+(\.\d)? s|\d+ min \d+ s)$/);
    expect(await thoughts().isHidden()).toBe(true);
    const text = (await thoughts().textContent()) ?? '';
    expect(text.length).toBeGreaterThan(0);

    await toggle().click();
    await expect.poll(() => toggle().getAttribute('aria-expanded'), { timeout: WAIT }).toBe('true');
    expect(await thoughts().isVisible()).toBe(true);
    await screenshot(page, 'thinking-open');
    await toggle().press('Enter');
    await expect.poll(() => toggle().getAttribute('aria-expanded'), { timeout: WAIT }).toBe('false');
    await toggle().press('Space');
    await expect.poll(() => toggle().getAttribute('aria-expanded'), { timeout: WAIT }).toBe('true');
    expect(probe.errors).toEqual([]);
    expect(probe.cspViolations).toEqual([]);
  }, T);

  it('keeps the thinking with the saved conversation across a reload', async () => {
    const label = (await block().getByTestId('thinking-label').textContent())!;
    const text = (await thoughts().textContent())!;
    const list = page.getByRole('list', { name: 'Conversations' });
    await list.getByRole('button', { name: 'Open conversation Why is the sky blue?' }).waitFor({ timeout: WAIT });
    await page.reload();
    await page.locator('nav[aria-label="Main"]').waitFor({ timeout: 30_000 });
    await list.getByRole('button', { name: 'Open conversation Why is the sky blue?' }).click();
    await block().waitFor({ timeout: WAIT });
    expect(await toggle().getAttribute('aria-expanded')).toBe('false'); // saved thinking starts collapsed
    // The duration measured live is the one saved (rounded to whole milliseconds).
    expect(await block().getByTestId('thinking-label').textContent()).toBe(label);
    await toggle().click();
    await expect.poll(() => thoughts().textContent(), { timeout: WAIT }).toBe(text);
  }, T);

  it('Think off (this chat only) is sent with the request, and the reply has no thinking', async () => {
    await page.getByRole('button', { name: '+ New chat' }).click();
    await page.getByTestId('think-toggle').uncheck();
    expect(await page.getByTestId('think-budget').isDisabled()).toBe(true);
    await ask('Just answer, please.');
    await replyDone();
    expect(sent.at(-1)?.thinking).toEqual({ enabled: false });
    expect(await block().count()).toBe(0);
    await expect.poll(async () => ((await lastReply().getByTestId('assistant-text').textContent()) ?? '').length, { timeout: WAIT }).toBeGreaterThan(0);

    // Per chat: the first chat still thinks, this one does not, and a budget is sent as set.
    const list = page.getByRole('list', { name: 'Conversations' });
    await list.getByRole('button', { name: 'Open conversation Why is the sky blue?' }).click();
    await expect.poll(() => page.getByTestId('think-toggle').isChecked(), { timeout: WAIT }).toBe(true);
    await list.getByRole('button', { name: 'Open conversation Just answer, please.' }).click();
    await expect.poll(() => page.getByTestId('think-toggle').isChecked(), { timeout: WAIT }).toBe(false);
    await page.getByTestId('think-toggle').check();
    await page.getByTestId('think-budget').fill('16');
    await page.getByTestId('think-budget').press('Tab');
    await ask('Think briefly.');
    await replyDone();
    expect(sent.at(-1)?.thinking).toEqual({ enabled: true, budget: 16 });
    await page.reload();
    await page.locator('nav[aria-label="Main"]').waitFor({ timeout: 30_000 });
    await list.getByRole('button', { name: 'Open conversation Just answer, please.' }).click();
    await expect.poll(() => page.getByTestId('think-budget').inputValue(), { timeout: WAIT }).toBe('16');
  }, T);

  it('shows the tool-using agent’s thinking the same way', async () => {
    await page.getByRole('button', { name: '+ New chat' }).click();
    const useTools = page.getByRole('checkbox', { name: 'Use tools' });
    await useTools.check();
    const agentRequests: Record<string, unknown>[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/agent/chat')) agentRequests.push(r.postDataJSON() as Record<string, unknown>);
    });
    await ask('What did I spend on coffee?');
    await expect.poll(async () => ((await thoughts().textContent()) ?? '').length, { timeout: WAIT }).toBeGreaterThan(0);
    await replyDone();
    expect(agentRequests.at(-1)?.thinking).toEqual({ enabled: true });
    await expect.poll(() => block().getByTestId('thinking-label').textContent(), { timeout: WAIT }).toMatch(/^Thought for /);
    await screenshot(page, 'thinking-agent');
    await useTools.uncheck();
    expect(probe.errors).toEqual([]);
  }, T);
});
