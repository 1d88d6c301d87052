// The assistant as an MCP server, tested with the SDK's own Client: over streamable HTTP against a real
// listening backend (createApp: bearer token, Host and Origin checks) and over stdio against `westfall mcp`
// started as a child process, as Claude Desktop would. Listing, calling, refusing without a token,
// refusing a tool that is off, the confirmation of a call that changes data (refused with no app open,
// approved and declined in the app), and the audit list.
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppPresence, AuditEntry, Mcp } from '../../src/mcp/index.js';
import type { ServerPlugin } from '../../src/server/index.js';
import { writeInstance } from '../../src/server/instance.js';
import { mcpRoutes } from '../../src/server/routes/mcp.js';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import { SessionSecret } from '../../src/server/session.js';
import type { ToolServices } from '../../src/tools/index.js';
import { VERSION } from '../../src/version.js';
import { AUTH, startServer, type TestServer } from '../server/helpers.js';
import { makeServices, tempDir } from '../tools/helpers.js';
import { makeMcp, ROOT } from './helpers.js';

let services: ToolServices;
let mcp: Mcp;
let presence: AppPresence;
let server: TestServer;
let cleanup: () => void;
let dataDir: string;
let accountId: number;

beforeAll(async () => {
  const t = tempDir('westfall-mcp-server-');
  cleanup = t.cleanup;
  dataDir = join(t.dir, 'data');
  services = makeServices(dataDir);
  accountId = services.finance.accounts.create({ name: 'Checking', currency: 'EUR' }).id;
  ({ mcp, presence } = makeMcp(services));
  const stateDir = join(dataDir, 'state');
  server = await startServer({
    load: false,
    settings: { WESTFALL_DATA_DIR: dataDir },
    deps: {
      sessions: SessionSecret.open(stateDir),
      extraPlugins: [
        ...createToolPlugins(services, { heartbeatMs: 60_000 }),
        mcpRoutes({ mcp, presence, confirmations: services.confirmations, conversations: services.conversations, heartbeatMs: 60_000 }) as ServerPlugin,
      ],
    },
  });
});
afterAll(async () => {
  await server?.close();
  services?.close();
  cleanup?.();
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}${path}`, { method, headers: { ...AUTH, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });

async function httpClient(headers: Record<string, string> = AUTH): Promise<Client> {
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers } }));
  return client;
}

const text = (r: unknown) => ((r as CallToolResult).content[0] as { text: string }).text;

/** The app: keeps the confirmation stream open and answers each request with `approve`. */
async function openApp(approve: boolean) {
  const abort = new AbortController();
  const res = await fetch(`${server.url}/api/mcp/host/confirmations/events`, { headers: AUTH, signal: abort.signal });
  expect(res.status).toBe(200);
  const seen: { id: string; sentence: string; origin: string }[] = [];
  const reader = res.body!.getReader();
  let buffer = '';
  const pump = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buffer += Buffer.from(value!).toString('utf8');
      let i: number;
      while ((i = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (!block.startsWith('event: confirmation_required')) continue;
        const data = JSON.parse(block.split('\ndata: ')[1]!) as { confirmation: { id: string; sentence: string; origin: string } };
        seen.push(data.confirmation);
        await api('POST', `/api/agent/confirmations/${data.confirmation.id}`, { approved: approve });
      }
    }
  })();
  await expect.poll(() => presence.open).toBe(1);
  return {
    seen,
    close: async () => {
      abort.abort();
      await pump;
      await expect.poll(() => presence.open).toBe(0);
    },
  };
}

async function audit(): Promise<AuditEntry[]> {
  return ((await (await api('GET', '/api/mcp/host/audit')).json()) as { entries: AuditEntry[] }).entries;
}

describe('over streamable HTTP', () => {
  it('refuses requests without the bearer token, or with a wrong one', async () => {
    await expect(httpClient({})).rejects.toThrow(/401|unauthorized|not signed in/i);
    await expect(httpClient({ authorization: 'Bearer wrong' })).rejects.toThrow(/401|unauthorized|not valid/i);
    const raw = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
    expect(raw.status).toBe(401);
    expect((await fetch(`${server.url}/mcp`, { headers: { ...AUTH, 'mcp-session-id': 'nope' } })).status).toBe(404);
  });

  it('offers only the tools turned on, never the vault beyond the generator', async () => {
    const all = (await (await api('GET', '/api/mcp/host/tools')).json()) as { tools: { name: string; enabled: boolean; mutates: boolean }[] };
    expect(all.tools.length).toBeGreaterThan(10);
    expect(all.tools.every((t) => !t.enabled)).toBe(true);
    expect(all.tools.filter((t) => t.name.startsWith('vault_')).map((t) => t.name)).toEqual(['vault_generate_password']);
    expect((await api('PUT', '/api/mcp/host/tools/vault_search_entries', { enabled: true })).status).toBe(404);

    const client = await httpClient();
    expect((await client.listTools()).tools).toEqual([]);
    for (const name of ['finance_list_accounts', 'finance_add_transaction', 'vault_generate_password']) {
      expect((await api('PUT', `/api/mcp/host/tools/${name}`, { enabled: true })).status).toBe(200);
    }
    const listed = (await client.listTools()).tools;
    expect(listed.map((t) => t.name).sort()).toEqual(['finance_add_transaction', 'finance_list_accounts', 'vault_generate_password']);
    expect(listed.find((t) => t.name === 'finance_add_transaction')!.annotations).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    expect(listed.find((t) => t.name === 'finance_add_transaction')!.inputSchema.required).toEqual(expect.arrayContaining(['accountId', 'date', 'amount']));
    await client.close();
  });

  it('calls tools, refuses one that is off, and generates a password it does not keep', async () => {
    const client = await httpClient();
    const accounts = await client.callTool({ name: 'finance_list_accounts', arguments: {} });
    expect(accounts.isError).toBeFalsy();
    expect(text(accounts)).toContain('Checking');

    const off = await client.callTool({ name: 'time_list_projects', arguments: {} });
    expect(off.isError).toBe(true);
    expect(JSON.parse(text(off)).error.code).toBe('mcp_tool_disabled');

    const bad = await client.callTool({ name: 'vault_generate_password', arguments: { length: 3 } });
    expect(bad.isError).toBe(true);
    const pw = await client.callTool({ name: 'vault_generate_password', arguments: { length: 24 } });
    const { password } = JSON.parse(text(pw)) as { password: string };
    expect(password).toHaveLength(24);
    await expect(client.callTool({ name: 'vault_search_entries', arguments: {} })).rejects.toThrow(/no tool named/);
    await client.close();

    const entries = await audit();
    expect(entries.slice(0, 5).map((e) => [e.tool, e.outcome])).toEqual([
      ['vault_search_entries', 'unknown_tool'],
      ['vault_generate_password', 'ok'],
      ['vault_generate_password', 'error'],
      ['time_list_projects', 'disabled'],
      ['finance_list_accounts', 'ok'],
    ]);
    expect(entries[1]).toMatchObject({ client: 'test-client 1.0.0', transport: 'http', arguments: '{"length":24}' });
    expect(JSON.stringify(entries)).not.toContain(password);
  });

  it('a call that changes data is refused with no app open, and waits for the app otherwise', async () => {
    const client = await httpClient();
    const args = { accountId, date: '2026-03-01', amount: '-12.50', payee: 'Bakery' };
    const noApp = await client.callTool({ name: 'finance_add_transaction', arguments: args });
    expect(noApp.isError).toBe(true);
    expect(JSON.parse(text(noApp)).error.code).toBe('mcp_no_app');
    expect(services.finance.transactions.list({}).total).toBe(0);

    const app = await openApp(true);
    const ok = await client.callTool({ name: 'finance_add_transaction', arguments: args });
    expect(ok.isError, text(ok)).toBeFalsy();
    expect(app.seen).toHaveLength(1);
    expect(app.seen[0]!.origin).toBe('test-client 1.0.0 (MCP, http)');
    expect(app.seen[0]!.sentence).toContain('Bakery');
    expect(services.finance.transactions.list({}).total).toBe(1);
    await app.close();

    const declining = await openApp(false);
    const no = await client.callTool({ name: 'finance_add_transaction', arguments: args });
    expect(JSON.parse(text(no)).error.code).toBe('mcp_declined');
    expect(services.finance.transactions.list({}).total).toBe(1);
    await declining.close();
    await client.close();

    expect((await audit()).slice(0, 3).map((e) => e.outcome)).toEqual(['declined', 'ok', 'no_app']);
  });
});

describe('over stdio: westfall mcp', () => {
  const CLI = join(ROOT, 'src', 'cli', 'index.ts');
  const stdioClient = async () => {
    const client = new Client({ name: 'stdio-test', version: '2.0.0' });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: ['--import', 'tsx', CLI, 'mcp', '--data-dir', dataDir], cwd: ROOT, stderr: 'pipe', env: { WESTFALL_LOG_FILE: 'false' } }),
    );
    return client;
  };

  it('lists and calls the tools turned on; a change is confirmed in the running app, or refused without one', async () => {
    const client = await stdioClient();
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['finance_add_transaction', 'finance_list_accounts', 'vault_generate_password']);
    expect(text(await client.callTool({ name: 'finance_list_accounts', arguments: {} }))).toContain('Checking');
    const off = await client.callTool({ name: 'music_now_playing', arguments: {} });
    expect(JSON.parse(text(off)).error.code).toBe('mcp_tool_disabled');

    // No backend recorded for this data directory: nobody can confirm.
    const args = { accountId, date: '2026-03-02', amount: '-3', payee: 'Kiosk' };
    const noApp = await client.callTool({ name: 'finance_add_transaction', arguments: args });
    expect(JSON.parse(text(noApp)).error.code).toBe('mcp_no_app');

    // The backend runs and an app is open: the stdio process asks it, the user approves there.
    writeInstance(join(dataDir, 'state'), { pid: process.pid, url: server.url, version: VERSION, startedAt: new Date().toISOString() });
    const app = await openApp(true);
    const ok = await client.callTool({ name: 'finance_add_transaction', arguments: args });
    expect(ok.isError, text(ok)).toBeFalsy();
    expect(app.seen.at(-1)!.origin).toBe('stdio-test 2.0.0 (MCP, stdio)');
    expect(services.finance.transactions.list({}).transactions.map((t) => t.payee)).toContain('Kiosk');
    await app.close();
    await client.close();

    const entries = (await audit()).filter((e) => e.transport === 'stdio');
    expect(entries.map((e) => [e.tool, e.outcome])).toEqual([
      ['finance_add_transaction', 'ok'],
      ['finance_add_transaction', 'no_app'],
      ['music_now_playing', 'disabled'],
      ['finance_list_accounts', 'ok'],
    ]);
  }, 120_000);
});
