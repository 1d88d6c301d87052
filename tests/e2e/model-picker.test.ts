// The per-chat model picker in Chromium against the in-process backend: a default model loaded at start
// and a second installed model. A chat that picks the second model sends it with each message; the model
// loads on demand and the picker shows it going from "not loaded" to "loaded"; a new chat starts on the
// default again, and the first chat keeps its choice when opened again.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page, WebSocket as PwWebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import type { ServerPlugin } from '../../src/server/index.js';
import { createToolServices, type ToolServices } from '../../src/tools/index.js';
import { variantModel } from '../helpers/models.js';
import { HAVE_CHROMIUM, TOKEN, buildRenderer, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 240_000;
const WAIT = 90_000;
const AUTH = { authorization: `Bearer ${TOKEN}` };

describe.skipIf(!HAVE_CHROMIUM)('model picker per chat', () => {
  const data = tempDir();
  let server: InProcessServer;
  let services: ToolServices;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  /** Every chat message the page sent over the WebSocket. */
  const sent: Record<string, unknown>[] = [];

  const picker = () => page.getByTestId('model-picker');
  const chip = () => page.getByTestId('model-state');
  const list = () => page.getByRole('list', { name: 'Conversations' });
  const reply = () => page.locator('wf-chat-message[sender="assistant"]').last();
  const betaState = async () => {
    const r = (await (await fetch(`${server.url}/api/models/available`, { headers: AUTH })).json()) as { models: { id: string; state: string }[] };
    return r.models.find((m) => m.id === 'beta')?.state;
  };
  async function ask(text: string): Promise<void> {
    const before = sent.length;
    await page.getByRole('textbox', { name: 'Message' }).fill(text);
    await page.getByRole('button', { name: 'Send message' }).click();
    await expect.poll(() => sent.length, { timeout: WAIT }).toBe(before + 1);
    await reply().waitFor({ timeout: WAIT });
    await expect.poll(() => reply().getAttribute('streaming'), { timeout: WAIT }).toBeNull();
    // Saved: the composer offers Send again.
    await page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: WAIT });
  }

  beforeAll(async () => {
    buildRenderer();
    const modelsDir = join(data.dir, 'models');
    mkdirSync(modelsDir, { recursive: true });
    copyFileSync(await variantModel(7), join(modelsDir, 'beta.gguf'));
    services = createToolServices(data.dir, { vault: { kdf: { N: 2 ** 10, r: 8, p: 1 } } });
    const plugins = createToolPlugins(services, { heartbeatMs: 1000 }) as unknown as ServerPlugin[];
    server = await startInProcess({ plugins, load: true, settings: { WESTFALL_DATA_DIR: data.dir, WESTFALL_MODELS_DIR: modelsDir, WESTFALL_KEEP_ALIVE: -1, WESTFALL_MAX_TOKENS: 8 } });
    browser = await launchBrowser();
    probe = await openPage(browser);
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

  it('a chat on another model loads it on demand, shows its state, and keeps its choice', async () => {
    await picker().waitFor({ timeout: WAIT });
    await expect.poll(() => picker().locator('option').first().textContent(), { timeout: WAIT }).toBe('Default (tiny-qwen2)');
    await expect.poll(() => chip().textContent(), { timeout: WAIT }).toBe('loaded');
    expect(await betaState()).toBe('none');

    await picker().selectOption('beta');
    await expect.poll(() => chip().textContent(), { timeout: WAIT }).toBe('not loaded');
    await screenshot(page, 'model-picker-not-loaded');
    await ask('Which model are you?');
    expect(sent.at(-1)).toMatchObject({ type: 'chat', model: 'beta' });
    expect(await betaState()).toBe('ready');
    await expect.poll(() => chip().textContent(), { timeout: WAIT }).toBe('loaded');
    expect(await picker().locator('option[value="beta"]').textContent()).toBe('beta — loaded');
    await screenshot(page, 'model-picker-loaded');

    // A new chat starts on the default model and sends no model.
    await page.getByRole('button', { name: '+ New chat' }).click();
    await expect.poll(() => picker().inputValue(), { timeout: WAIT }).toBe('');
    await ask('And you?');
    expect(sent.at(-1)!.model).toBeUndefined();

    // The first chat kept its model.
    await list().getByRole('button', { name: 'Open conversation Which model are you?' }).click();
    await expect.poll(() => picker().inputValue(), { timeout: WAIT }).toBe('beta');
    await ask('Still there?');
    expect(sent.at(-1)).toMatchObject({ model: 'beta' });
  }, T);

  it("with tools on, the agent runs on the chat's model too", async () => {
    // beta unloaded: only the agent's request can load it again.
    expect((await fetch(`${server.url}/api/models/beta/unload`, { method: 'POST', headers: AUTH })).status).toBe(200);
    expect(await betaState()).toBe('none');
    const bodies: Record<string, unknown>[] = [];
    page.on('request', (r) => {
      if (r.url().endsWith('/api/agent/chat') && r.method() === 'POST') bodies.push(JSON.parse(r.postData() ?? '{}') as Record<string, unknown>);
    });
    await page.getByRole('checkbox', { name: 'Use tools' }).check();
    await expect.poll(() => picker().inputValue(), { timeout: WAIT }).toBe('beta'); // still the first chat
    await page.getByRole('textbox', { name: 'Message' }).fill('What did I spend this month?');
    await page.getByRole('button', { name: 'Send message' }).click();
    await expect.poll(() => bodies.length, { timeout: WAIT }).toBe(1);
    expect(bodies[0]).toMatchObject({ model: 'beta' });
    await expect.poll(betaState, { timeout: WAIT }).toBe('ready');
    await page.getByRole('button', { name: 'Send message' }).waitFor({ timeout: WAIT });
  }, T);
});
