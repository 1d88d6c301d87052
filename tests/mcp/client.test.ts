// The assistant as an MCP client, against real MCP servers started as a user would start them: the
// reference filesystem server on a temp folder and the "everything" server from node_modules/.bin, and
// misbehaving servers built on the same SDK (tests/mcp/fixtures). The synthetic model is forced to call
// (tool_choice required: the grammar admits nothing but a call that fits the schema), the call is
// confirmed through the app's route, and the result is checked in the conversation.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSchemaToGrammar, loadModel, type Context, type Model } from '../../src/engine/index.js';
import { guardToolSchema, importMcpServers, namespacedToolName, parseMcpServersFile, type AppPresence, type Mcp } from '../../src/mcp/index.js';
import { contextBackend, type AgentBackend, type AgentEvent, type ToolServices } from '../../src/tools/index.js';
import { TINY_MODEL } from '../helpers/models.js';
import { json, makeServices, tempDir } from '../tools/helpers.js';
import { BIN, MISBEHAVING, makeMcp, makeMcpApp } from './helpers.js';

let model: Model;
let ctx: Context;
let services: ToolServices;
let mcp: Mcp;
let presence: AppPresence;
let app: FastifyInstance;
let cleanup: () => void;
let folder: string;

beforeAll(async () => {
  model = await loadModel({ path: TINY_MODEL });
  ctx = await model.createContext({ contextSize: 4096, threads: 2 });
  const t = tempDir('westfall-mcp-client-');
  cleanup = t.cleanup;
  folder = join(t.dir, 'shared folder');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'notes.txt'), 'buy milk\n');
  services = makeServices(join(t.dir, 'data'));
  ({ mcp, presence } = makeMcp(services, { requestTimeoutMs: 3000, backoffMs: 200, maxBackoffMs: 400, toGrammar: jsonSchemaToGrammar }));
  // The answer after a tool result is a few tokens: what is checked is the call and its result, and the
  // machine running the tests may be slow.
  const base = contextBackend(ctx);
  const backend: AgentBackend = {
    model: base.model,
    generate: (r) => base.generate(r.messages.some((m) => m.role === 'tool') ? { ...r, maxTokens: 4 } : r),
  };
  app = await makeMcpApp(services, mcp, presence, backend);
});
afterAll(async () => {
  await app?.close();
  services?.close();
  ctx?.dispose();
  model?.dispose();
  cleanup?.();
});

/** A chat turn through POST /api/agent/chat; each confirmation is answered through the app's route. */
async function chat(body: Record<string, unknown>, approve: boolean | null = true) {
  const answered: string[] = [];
  const onRequested = (r: { id: string }) => {
    if (approve === null) return;
    answered.push(r.id);
    void app.inject({ method: 'POST', url: `/api/agent/confirmations/${r.id}`, payload: { approved: approve } });
  };
  services.confirmations.on('requested', onRequested);
  try {
    const res = await app.inject({
      method: 'POST',
      url: '/api/agent/chat',
      payload: { stream: false, maxSteps: 2, toolChoice: 'required', params: { maxTokens: 96, temperature: 0.8, seed: 7 }, ...body },
    });
    expect(res.statusCode, res.body).toBe(200);
    return { ...json<{ conversationId: string; events: AgentEvent[]; mcpProblems?: { server: string; code: string }[] }>(res), answered };
  } finally {
    services.confirmations.off('requested', onRequested);
  }
}

const ev = <T extends AgentEvent['type']>(events: AgentEvent[], type: T) => events.filter((e) => e.type === type) as Extract<AgentEvent, { type: T }>[];

describe('configuration', () => {
  it('imports Claude Desktop and VS Code files, reporting entries it cannot use', () => {
    const claude = parseMcpServersFile(
      JSON.stringify({
        mcpServers: {
          'File System': { command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'] },
          remote: { url: 'https://mcp.example.com/mcp', headers: { Authorization: 'Bearer x' } },
          broken: { args: ['no command'] },
          creds: { url: 'https://user:pw@example.com/mcp' },
        },
      }),
    );
    expect(claude.servers.map((s) => s.name)).toEqual(['file-system', 'remote']);
    expect(claude.skipped.map((s) => s.name)).toEqual(['broken', 'creds']);
    const vscode = importMcpServers({ servers: { git: { type: 'stdio', command: 'uvx', args: ['mcp-server-git'] } } });
    expect(vscode.servers).toEqual([{ name: 'git', config: { type: 'stdio', command: 'uvx', args: ['mcp-server-git'] } }]);
    expect(() => parseMcpServersFile('{"nothing": 1}')).toThrow(/mcpServers/);
    expect(() => parseMcpServersFile('not json')).toThrow(/not JSON/);
  });

  it('namespaces tool names so they cannot clash with ours or each other', () => {
    expect(namespacedToolName('fs', 'read_file')).toBe('mcp_fs_read_file');
    const a = namespacedToolName('everything', 'get-sum');
    const b = namespacedToolName('everything', 'get_sum');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z][a-z0-9_]{1,63}$/);
    expect(namespacedToolName('s', 'x'.repeat(200))).toMatch(/^mcp_s_x+_[0-9a-f]{6}$/);
  });

  it('refuses hostile schemas quickly, one tool at a time', async () => {
    let deep: unknown = { type: 'string' };
    for (let i = 0; i < 100_000; i++) deep = { type: 'object', properties: { x: deep } };
    expect(() => guardToolSchema('deep', deep, jsonSchemaToGrammar)).toThrow(/nested deeper/);
    expect(() => guardToolSchema('r', { type: 'object', properties: { s: { type: 'string', minLength: 5, maxLength: 2 } } }, jsonSchemaToGrammar)).toThrow(/mcp_bad_schema|refused/);
    expect(guardToolSchema('ok', { $schema: 'x', properties: { a: { type: 'string' } } }, jsonSchemaToGrammar)).toEqual({ properties: { a: { type: 'string' } }, type: 'object' });

    // The same schemas from a real server: only the sound tool is offered, each refusal reported.
    await app.inject({ method: 'PUT', url: '/api/mcp/servers/hostile', payload: { config: { command: process.execPath, args: [MISBEHAVING, 'hostile'] } } });
    const res = await app.inject({ method: 'GET', url: '/api/mcp/servers/hostile/tools' });
    expect(res.statusCode, res.body).toBe(200);
    const body = json<{ tools: { name: string }[]; problems: { tool: string; code: string }[] }>(res);
    expect(body.tools.map((t) => t.name)).toEqual(['mcp_hostile_ok_tool']);
    expect(body.problems.map((p) => p.tool).sort()).toEqual(['deep', 'huge', 'many_enum', 'not_object', 'remote_ref', 'reversed']);
    expect(new Set(body.problems.map((p) => p.code))).toEqual(new Set(['mcp_bad_schema']));
    await app.inject({ method: 'DELETE', url: '/api/mcp/servers/hostile' });
  });
});

describe('the filesystem server on a temp folder', () => {
  it('lists its tools, runs a forced call after the user confirms, and feeds the result back', async () => {
    const put = await app.inject({ method: 'PUT', url: '/api/mcp/servers/fs', payload: { config: { command: BIN('mcp-server-filesystem'), args: [folder] } } });
    expect(put.statusCode, put.body).toBe(200);
    const listed = json<{ tools: { name: string; tool: string }[] }>(await app.inject({ method: 'GET', url: '/api/mcp/servers/fs/tools' }));
    expect(listed.tools.map((t) => t.tool)).toEqual(expect.arrayContaining(['read_text_file', 'list_directory', 'list_allowed_directories', 'write_file']));

    const r = await chat({ message: 'Which folders can you see?', tools: ['mcp_fs_list_allowed_directories'] });
    expect(ev(r.events, 'tool_call')[0]!.call.name).toBe('mcp_fs_list_allowed_directories');
    // Asked first: an MCP tool is confirmed unless allowed always.
    const calls = ev(r.events, 'tool_call').length;
    expect(ev(r.events, 'confirmation_required')).toHaveLength(calls);
    expect(r.answered).toHaveLength(calls);
    const result = ev(r.events, 'tool_result')[0]!;
    expect(result.ok, JSON.stringify(result)).toBe(true);
    expect((result.result as { text: string }).text).toContain(folder);
    const saved = services.conversations.messages(r.conversationId);
    expect(saved.find((m) => m.role === 'tool')!.content).toContain(JSON.stringify(folder).slice(1, -1));

    // Declined: not run, and the model is told.
    const declined = await chat({ message: 'Again', tools: ['mcp_fs_list_allowed_directories'] }, false);
    // (The model may make several calls in its turn: each is asked, each declined.)
    const asked = ev(declined.events, 'confirmation_required');
    expect(asked.length).toBeGreaterThanOrEqual(1);
    const results = ev(declined.events, 'tool_result');
    expect(results).toHaveLength(asked.length);
    for (const r of results) expect(r).toMatchObject({ ok: false, result: { error: { code: 'declined' } } });

    // Allowed always: runs without asking.
    await app.inject({ method: 'PUT', url: '/api/mcp/servers/fs/tools/list_allowed_directories', payload: { allowAlways: true } });
    const always = await chat({ message: 'And now?', tools: ['mcp_fs_list_allowed_directories'] }, null);
    expect(ev(always.events, 'confirmation_required')).toHaveLength(0);
    expect(ev(always.events, 'tool_result')[0]!.ok).toBe(true);

    // Off for this conversation: its tools are not offered there (an unknown tool is a 404).
    await app.inject({ method: 'PUT', url: `/api/mcp/chats/${always.conversationId}/servers/fs`, payload: { enabled: false } });
    const off = await app.inject({
      method: 'POST',
      url: '/api/agent/chat',
      payload: { stream: false, conversationId: always.conversationId, message: 'more', tools: ['mcp_fs_list_allowed_directories'] },
    });
    expect(off.statusCode).toBe(404);
    expect(json(off).error.code).toBe('tool_not_found');
    expect(json(await app.inject({ method: 'GET', url: `/api/mcp/chats/${always.conversationId}` })).servers).toContainEqual({ name: 'fs', enabled: false, overridden: true });
  }, 600_000);
});

describe('the everything server', () => {
  it('adds the numbers the forced call sent, and an image comes back as an attachment', async () => {
    await app.inject({ method: 'PATCH', url: '/api/mcp/servers/fs', payload: { enabled: false } });
    const put = await app.inject({ method: 'PUT', url: '/api/mcp/servers/everything', payload: { config: { command: BIN('mcp-server-everything'), args: ['stdio'] } } });
    expect(put.statusCode, put.body).toBe(200);
    const sum = namespacedToolName('everything', 'get-sum');
    const r = await chat({ message: 'Add two numbers', tools: [sum] });
    const call = ev(r.events, 'tool_call')[0];
    expect(call, JSON.stringify(r.events)).toBeDefined();
    expect(call!.call.name).toBe(sum);
    const { a, b } = call!.call.arguments as { a: number; b: number };
    const result = ev(r.events, 'tool_result')[0]!;
    expect(result).toMatchObject({ ok: true, result: { text: `The sum of ${a} and ${b} is ${a + b}.` } });

    const tools = await mcp.clients.toolsFor();
    const image = tools.tools.find((t) => t.name === namespacedToolName('everything', 'get-tiny-image'))!;
    const out = (await image.handler({}, { caller: 'model' })) as { attachments: { url: string; mimeType: string; bytes: number }[]; text: string };
    expect(out.attachments).toHaveLength(1);
    expect(out.text).toContain('attachment');
    const file = await app.inject({ method: 'GET', url: out.attachments[0]!.url });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toBe('image/png');
    expect(file.rawPayload.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(file.rawPayload.length).toBe(out.attachments[0]!.bytes);
  }, 600_000);
});

describe('servers that fail', () => {
  it('a server that crashes mid-call gives the model and the user an error, then restarts', async () => {
    await app.inject({ method: 'PATCH', url: '/api/mcp/servers/everything', payload: { enabled: false } });
    await app.inject({ method: 'PUT', url: '/api/mcp/servers/crashy', payload: { config: { command: process.execPath, args: [MISBEHAVING, 'crash'] } } });
    const r = await chat({ message: 'Boom', tools: ['mcp_crashy_boom'] });
    const result = ev(r.events, 'tool_result')[0]!;
    expect(result.ok).toBe(false);
    expect(result.result).toMatchObject({ error: { code: 'mcp_server_unavailable' } });
    expect(JSON.stringify(result.result)).toContain('crashing now');
    // The chat went on: the model got the error and answered.
    expect(ev(r.events, 'done')).toHaveLength(1);
    const servers = json<{ servers: { name: string; status: { state: string; failures: number } }[] }>(await app.inject({ method: 'GET', url: '/api/mcp/servers' }));
    expect(servers.servers.find((s) => s.name === 'crashy')!.status).toMatchObject({ state: 'failed', failures: 1 });
    // Restarted with backoff: once the delay has passed the server is started again on demand.
    await expect
      .poll(async () => (await app.inject({ method: 'GET', url: '/api/mcp/servers/crashy/tools' })).statusCode)
      .toBe(200);
  }, 600_000);

  it('a server that hangs gives mcp_timeout, and the chat ends', async () => {
    await app.inject({ method: 'PATCH', url: '/api/mcp/servers/crashy', payload: { enabled: false } });
    await app.inject({ method: 'PUT', url: '/api/mcp/servers/hangs', payload: { config: { command: process.execPath, args: [MISBEHAVING, 'hang'] } } });
    const r = await chat({ message: 'Wait', tools: ['mcp_hangs_wait_forever'] });
    expect(ev(r.events, 'tool_result')[0]).toMatchObject({ ok: false, result: { error: { code: 'mcp_timeout' } } });
    expect(ev(r.events, 'done')).toHaveLength(1);
  }, 600_000);

  it('a server that cannot start is reported and leaves the chat working with the other tools', async () => {
    await app.inject({ method: 'PATCH', url: '/api/mcp/servers/hangs', payload: { enabled: false } });
    await app.inject({ method: 'PUT', url: '/api/mcp/servers/dead', payload: { config: { command: process.execPath, args: [MISBEHAVING, 'exit'] } } });
    await app.inject({ method: 'PUT', url: '/api/mcp/servers/missing', payload: { config: { command: '/nonexistent/mcp-server' } } });
    const r = await chat({ message: 'How is the music?', tools: ['music_now_playing'] });
    expect(ev(r.events, 'tool_result')[0]!.ok).toBe(true);
    const problems = r.mcpProblems ?? [];
    expect(problems.map((p) => p.server).sort()).toEqual(['dead', 'missing']);
    expect(new Set(problems.map((p) => p.code))).toEqual(new Set(['mcp_server_unavailable']));
    const tools = await app.inject({ method: 'GET', url: '/api/mcp/servers/dead/tools' });
    expect(tools.statusCode).toBe(502);
    expect(json(tools).error.message).toMatch(/refusing to start|next try/);
  }, 600_000);

  it('stops every server when the app closes', async () => {
    await app.inject({ method: 'PATCH', url: '/api/mcp/servers/fs', payload: { enabled: true } });
    await mcp.clients.toolsFor();
    expect(mcp.clients.statuses().find((s) => s.name === 'fs')!.status.state).toBe('ready');
    await mcp.close();
    expect(mcp.clients.statuses().every((s) => s.status.state === 'stopped')).toBe(true);
    await expect(mcp.clients.toolsFor()).resolves.toMatchObject({ tools: [] });
  });
});
