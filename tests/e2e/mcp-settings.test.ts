// Settings → MCP in Chromium against a real backend: a server added through the form (the reference
// "everything" server from node_modules/.bin) is listed with its tools, one allowed always; a tool turned on
// for other apps is called by the SDK's Client over /mcp, the call that changes data is confirmed on the card
// the app shows, and it appears in the audit list; a chat's settings turn the server off for that chat.
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppPresence, Mcp } from '../../src/mcp/index.js';
import type { ServerPlugin } from '../../src/server/index.js';
import { mcpRoutes } from '../../src/server/routes/mcp.js';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import type { ToolServices } from '../../src/tools/index.js';
import { BIN, makeMcp } from '../mcp/helpers.js';
import { makeServices } from '../tools/helpers.js';
import { HAVE_CHROMIUM, TOKEN, buildRenderer, goTo, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 180_000;

describe.skipIf(!HAVE_CHROMIUM)('Settings: MCP', () => {
  const data = tempDir();
  let services: ToolServices;
  let mcp: Mcp;
  let presence: AppPresence;
  let server: InProcessServer;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  let accountId: number;

  beforeAll(async () => {
    buildRenderer();
    const dataDir = join(data.dir, 'data');
    services = makeServices(dataDir);
    accountId = services.finance.accounts.create({ name: 'Checking', currency: 'EUR' }).id;
    ({ mcp, presence } = makeMcp(services));
    server = await startInProcess({
      settings: { WESTFALL_DATA_DIR: dataDir },
      plugins: [
        ...createToolPlugins(services, { heartbeatMs: 60_000 }),
        mcpRoutes({ mcp, presence, confirmations: services.confirmations, conversations: services.conversations, heartbeatMs: 60_000 }) as ServerPlugin,
      ],
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
    services?.close();
    data.cleanup();
  }, T);

  it('adds a server and allows a tool always; confirms another app\'s call on the card; shows the audit', async () => {
    await goTo(page, 'settings', 'Settings');
    const servers = page.locator('wf-mcp-servers');
    await servers.getByLabel('Name').fill('everything');
    await servers.getByLabel('Entry (as in mcpServers)').fill(JSON.stringify({ command: BIN('mcp-server-everything'), args: ['stdio'] }));
    await servers.getByRole('button', { name: 'Add server' }).click();
    const item = page.getByTestId('mcp-server-everything');
    await item.waitFor();
    await item.getByRole('button', { name: 'Tools' }).click();
    const echo = item.getByRole('checkbox', { name: /mcp_everything_echo/ });
    await echo.waitFor({ timeout: 60_000 });
    await echo.check();
    await expect.poll(() => mcp.store.getServer('everything').allowAlways).toEqual(['echo']);
    await screenshot(page, 'settings-mcp-servers');

    // Another app: the tool is off until turned on here.
    const exposed = page.locator('wf-mcp-exposed');
    await exposed.getByRole('checkbox', { name: /Add a transaction/ }).check();
    await expect.poll(() => mcp.store.exposedEnabled().has('finance_add_transaction')).toBe(true);
    // The open app is what lets such a call be asked rather than refused.
    await expect.poll(() => presence.open).toBeGreaterThan(0);

    const client = new Client({ name: 'Claude Desktop', version: '1.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
    const call = client.callTool({ name: 'finance_add_transaction', arguments: { accountId, date: '2026-04-01', amount: '-4.20', payee: 'Bakery' } });
    const card = page.getByTestId('mcp-confirmation');
    await card.waitFor();
    expect(await card.textContent()).toContain('Claude Desktop 1.0 (MCP, http)');
    expect(await card.textContent()).toContain('Bakery');
    await screenshot(page, 'mcp-confirmation-card');
    await card.getByRole('button', { name: 'Allow' }).click();
    const result = (await call) as CallToolResult;
    expect(result.isError).toBeFalsy();
    await card.waitFor({ state: 'detached' });
    expect(services.finance.transactions.list({}).total).toBe(1);
    await client.close();

    await exposed.getByText(/Calls from MCP clients/).click();
    await exposed.getByRole('button', { name: 'Refresh' }).click();
    const audit = page.getByTestId('mcp-audit');
    await expect.poll(() => audit.textContent()).toContain('finance_add_transaction');
    expect(await audit.textContent()).toMatch(/Claude Desktop 1\.0 \(http\)[\s\S]*ok/);
    await screenshot(page, 'settings-mcp-audit');
    expect(probe.errors).toEqual([]);
  }, T);

  it('turns a server off for one chat in its settings', async () => {
    const chat = services.conversations.create({ title: 'Files chat' });
    // The chat list was read when the page opened.
    await page.reload();
    await goTo(page, 'chat', /.+/);
    await page.getByRole('button', { name: /Files chat/ }).first().click();
    await page.getByRole('button', { name: 'Chat settings' }).click();
    const group = page.getByRole('group', { name: 'MCP servers in this chat' });
    const box = group.getByRole('checkbox', { name: 'everything' });
    await box.waitFor();
    expect(await box.isChecked()).toBe(true);
    await box.uncheck();
    await expect.poll(() => mcp.store.chatChoices(chat.id)).toEqual({ everything: false });
    await expect.poll(() => mcp.store.serversFor(chat.id).map((s) => s.name)).toEqual([]);
    await screenshot(page, 'chat-mcp-servers');
    // No model is loaded here: the chat's own requests that need one answer 503 model_not_loaded.
    expect(probe.errors.filter((e) => !e.includes('503'))).toEqual([]);
  }, T);
});
