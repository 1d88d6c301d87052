// Daily use of the chat, in Chromium against the in-process backend (tiny model, conversations routes):
// - a reply keeps going when the user clicks New chat mid-stream: it is saved into its own conversation,
//   the list marks that chat as replying, and opening it again shows the reply still streaming, then done;
// - deleting a conversation (click or Tab+Enter) takes effect only after a few seconds: Undo brings it
//   back, also when it was the one shown.
// The stream's `done` message is held back in the browser (page.routeWebSocket relays everything else) so
// that "mid-stream" does not depend on how fast the model writes.
import type { Browser, Page, WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import type { ServerPlugin } from '../../src/server/index.js';
import { createToolServices, type ToolServices } from '../../src/tools/index.js';
import { HAVE_CHROMIUM, TOKEN, buildRenderer, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 180_000;
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Saved {
  id: string;
  title: string;
  messages: { role: string; content: string }[];
}

describe.skipIf(!HAVE_CHROMIUM)('chat: replies that outlive the view, deleting with undo', () => {
  const data = tempDir();
  let server: InProcessServer;
  let services: ToolServices;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  /** While true, `done` messages wait here instead of reaching the page. */
  let holdDone = true;
  const held: { ws: WebSocketRoute; message: string }[] = [];

  const conversations = async () => ((await (await fetch(`${server.url}/api/conversations?limit=100`, { headers: AUTH })).json()) as { conversations: { id: string; title: string }[] }).conversations;
  const conversation = async (id: string): Promise<Saved | null> => {
    const r = await fetch(`${server.url}/api/conversations/${id}`, { headers: AUTH });
    return r.status === 404 ? null : ((await r.json()) as Saved);
  };
  const idOf = async (title: string) => (await conversations()).find((c) => c.title === title)?.id;

  beforeAll(async () => {
    buildRenderer();
    services = createToolServices(data.dir, { vault: { kdf: { N: 2 ** 10, r: 8, p: 1 } } });
    const plugins = createToolPlugins(services, { heartbeatMs: 1000 }) as unknown as ServerPlugin[];
    server = await startInProcess({ plugins, load: true, settings: { WESTFALL_DATA_DIR: data.dir } });
    browser = await launchBrowser();
    probe = await openPage(browser);
    page = probe.page;
    await page.routeWebSocket(/\/api\/llm\/stream/, (ws) => {
      const backend = ws.connectToServer();
      ws.onMessage((m) => backend.send(m));
      backend.onMessage((m) => {
        const text = typeof m === 'string' ? m : m.toString('utf8');
        if (holdDone && (JSON.parse(text) as { type?: string }).type === 'done') held.push({ ws, message: text });
        else ws.send(m);
      });
    });
    await login(page, server.loginUrl());
    await page.locator('[data-nav="chat"]').click();
    const tools = page.getByRole('checkbox', { name: 'Use tools' });
    await tools.waitFor();
    await tools.uncheck(); // the plain WebSocket stream
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await server?.close();
    services?.close();
    data.cleanup();
  }, T);

  const list = () => page.getByRole('list', { name: 'Conversations' });
  const reply = () => page.locator('wf-chat-message[sender="assistant"]').last();
  const replyText = async () => (await reply().getByTestId('assistant-text').textContent()) ?? '';

  it('New chat mid-stream: the reply goes on, is saved in its own conversation, and shows streaming on return', async () => {
    const question = 'Tell me about lighthouses';
    await page.getByRole('textbox', { name: 'Message' }).fill(question);
    await page.getByRole('button', { name: 'Send message' }).click();
    await reply().and(page.locator('[streaming]')).waitFor();
    await expect.poll(async () => (await replyText()).length).toBeGreaterThan(0);
    await expect.poll(() => held.length).toBe(1); // the model is done; the page does not know yet

    await page.getByRole('button', { name: '+ New chat' }).click();
    expect(await page.locator('wf-chat-message').count()).toBe(0);
    await page.getByRole('button', { name: 'Send message' }).waitFor(); // this chat is not busy
    const entry = list().getByRole('listitem').filter({ hasText: question });
    await entry.getByTestId('replying').waitFor();

    // Back to it: the reply is there, still streaming, with what arrived so far.
    await list().getByRole('button', { name: `Open conversation ${question}` }).click();
    await reply().and(page.locator('[streaming]')).waitFor();
    expect((await replyText()).length).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Stop generating' }).waitFor();
    await screenshot(page, 'chat-reply-on-return');

    // Away again; the reply ends while another chat is shown and is saved where it belongs.
    await page.getByRole('button', { name: '+ New chat' }).click();
    holdDone = false;
    for (const h of held.splice(0)) h.ws.send(h.message);
    const id = (await idOf(question))!;
    await expect.poll(async () => (await conversation(id))?.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect((await conversation(id))!.messages[1]!.content.length).toBeGreaterThan(0);
    await entry.getByTestId('replying').waitFor({ state: 'detached' });
    expect(await page.locator('wf-chat-message').count()).toBe(0); // the new chat stayed as it was

    await list().getByRole('button', { name: `Open conversation ${question}` }).click();
    await expect.poll(() => page.locator('wf-chat-message[sender="assistant"]:not([streaming])').count()).toBe(1);
    expect(await page.locator('wf-chat-message[sender="user"]').count()).toBe(1);
    expect(probe.errors).toEqual([]);
  }, T);

  it('deleting a conversation can be undone for a few seconds, then it is gone', async () => {
    for (const title of ['Packing list', 'Tax notes']) {
      const r = await fetch(`${server.url}/api/conversations`, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ title, messages: [{ role: 'user', content: title }] }),
      });
      expect(r.status).toBe(201);
    }
    await page.getByRole('searchbox', { name: 'Search conversations' }).fill(' ');
    await page.getByRole('searchbox', { name: 'Search conversations' }).fill('');
    const packing = list().getByRole('button', { name: 'Open conversation Packing list' });
    await packing.waitFor();
    const packingId = (await idOf('Packing list'))!;

    // One click: gone from the list, not from the backend, and Undo brings it back.
    await packing.hover(); // the ✕ shows on hover or focus
    await list().getByRole('button', { name: 'Delete conversation Packing list' }).click();
    await packing.waitFor({ state: 'detached' });
    await page.getByText('Deleted "Packing list".').waitFor();
    await screenshot(page, 'chat-delete-undo');
    expect(await conversation(packingId)).not.toBeNull();
    await page.getByRole('button', { name: 'Undo' }).click();
    await packing.waitFor();
    expect(await conversation(packingId)).not.toBeNull();

    // The chat shown, deleted with Tab+Enter: the view moves to a new chat; Undo opens it again.
    await packing.click();
    await page.locator('wf-chat-message[sender="user"]').getByText('Packing list').waitFor();
    await packing.focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await packing.waitFor({ state: 'detached' });
    await expect.poll(() => page.locator('wf-chat-message').count()).toBe(0);
    await page.getByRole('button', { name: 'Undo' }).click();
    await page.locator('wf-chat-message[sender="user"]').getByText('Packing list').waitFor();

    // Not undone: deleted on the backend once the time is up, and it stays out of the list.
    const taxId = (await idOf('Tax notes'))!;
    await list().getByRole('button', { name: 'Open conversation Tax notes' }).hover();
    await list().getByRole('button', { name: 'Delete conversation Tax notes' }).click();
    await expect.poll(() => conversation(taxId)).toBeNull();
    await page.getByRole('button', { name: 'Undo' }).waitFor({ state: 'detached' });
    expect(await list().getByRole('button', { name: 'Open conversation Tax notes' }).count()).toBe(0);
    expect(await conversation(packingId)).not.toBeNull();
    expect(probe.errors).toEqual([]);
  }, T);
});
