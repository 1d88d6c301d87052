// The MCP servers the assistant uses, as tools for the agent: one McpConnection per configured server,
// started when a chat first needs its tools; each tool checked (schema-guard.ts), renamed into our
// namespace (mcp_<server>_<tool>) and wrapped as a registry tool whose handler calls the server. A call
// needs the user's confirmation (mutates: true, so the agent asks) unless the user allowed that tool always.
import { z } from 'zod';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AnyTool } from '../tools/registry.js';
import { WestfallError } from '../errors.js';
import type { McpServerConfig } from './config.js';
import { McpConnection, type ConnectionOptions } from './connection.js';
import { convertResult } from './results.js';
import { guardDescription, guardToolSchema, MAX_TOOLS_PER_SERVER, namespacedToolName, type SchemaToGrammar } from './schema-guard.js';
import type { McpStore } from './store.js';

export interface McpClientsOptions extends ConnectionOptions {
  /** Where images and audio from tool results are kept. */
  attachmentsDir: string;
  /** The grammar converter chats use; each schema is tried with it (default: not tried). */
  toGrammar?: SchemaToGrammar;
  /** How long gathering every server's tools for a chat may take (default 30 s). */
  toolsTimeoutMs?: number;
}

export interface ToolProblem {
  server: string;
  tool?: string;
  code: string;
  message: string;
}

export interface McpToolInfo {
  /** The name the model sees. */
  name: string;
  server: string;
  /** The server's own name for it. */
  tool: string;
  title: string;
  description: string;
  allowAlways: boolean;
  parameters: Record<string, unknown>;
}

const anyArguments = z.record(z.string(), z.unknown());

export class McpClients {
  readonly #connections = new Map<string, McpConnection>();
  readonly #checked = new WeakMap<Tool[], { tools: McpToolInfo[]; problems: ToolProblem[] }>();
  #closed = false;

  constructor(
    readonly store: McpStore,
    private readonly options: McpClientsOptions,
  ) {}

  /** The connection of a configured server (replaced when its configuration changed). */
  connection(name: string): McpConnection {
    if (this.#closed) throw new WestfallError('mcp_server_unavailable', 'the assistant is shutting down');
    const stored = this.store.getServer(name);
    const existing = this.#connections.get(name);
    if (existing && sameConfig(existing.config, stored.config)) return existing;
    if (existing) void existing.close();
    const c = new McpConnection(name, stored.config, this.options);
    this.#connections.set(name, c);
    return c;
  }

  /** The status of every configured server (running or not). */
  statuses() {
    return this.store.listServers().map((s) => {
      const c = this.#connections.get(s.name);
      return { ...s, status: c?.status() ?? { name: s.name, state: 'stopped' as const, lastError: null, failures: 0, retryAt: null, tools: null } };
    });
  }

  /** Stops a server (a removed or changed one, or on the user's request). */
  async stop(name: string): Promise<void> {
    const c = this.#connections.get(name);
    this.#connections.delete(name);
    await c?.close();
  }

  /** One server's tools, checked; tools that fail the checks are reported in `problems`. */
  async serverTools(name: string, signal?: AbortSignal): Promise<{ tools: McpToolInfo[]; problems: ToolProblem[]; raw: Tool[] }> {
    const stored = this.store.getServer(name);
    const conn = this.connection(name);
    const raw = await conn.listTools(signal);
    const cached = this.#checked.get(raw);
    if (cached) return { tools: cached.tools.map((t) => ({ ...t, allowAlways: stored.allowAlways.includes(t.tool) })), problems: cached.problems, raw };
    const problems: ToolProblem[] = conn.rejected.map((r) => ({ server: name, tool: r.name, code: 'mcp_bad_schema', message: `not a valid MCP tool: ${r.message}` }));
    const tools: McpToolInfo[] = [];
    const seen = new Set<string>();
    for (const t of raw) {
      if (tools.length >= MAX_TOOLS_PER_SERVER) {
        problems.push({ server: name, code: 'mcp_bad_schema', message: `the server offers ${raw.length} tools; only the first ${MAX_TOOLS_PER_SERVER} are used` });
        break;
      }
      if (typeof t.name !== 'string' || t.name.length === 0 || t.name.length > 128) {
        problems.push({ server: name, code: 'mcp_bad_schema', message: 'a tool has no usable name' });
        continue;
      }
      try {
        const parameters = guardToolSchema(t.name, t.inputSchema, this.options.toGrammar);
        const ns = namespacedToolName(name, t.name);
        if (seen.has(ns)) throw new WestfallError('mcp_bad_schema', `tool ${JSON.stringify(t.name)} is listed twice`);
        seen.add(ns);
        tools.push({
          name: ns,
          server: name,
          tool: t.name,
          title: guardDescription(t.title ?? t.annotations?.title ?? t.name).slice(0, 100),
          description: guardDescription(t.description),
          allowAlways: stored.allowAlways.includes(t.name),
          parameters,
        });
      } catch (err) {
        const e = err as WestfallError;
        problems.push({ server: name, tool: t.name, code: e.code ?? 'mcp_bad_schema', message: e.message });
        this.options.log?.('warn', 'mcp tool refused', { server: name, tool: t.name, error: e.message });
      }
    }
    // The checks (a grammar conversion per tool) run once per listing, not once per chat.
    this.#checked.set(raw, { tools, problems });
    return { tools, problems, raw };
  }

  /** A registry tool that calls this MCP tool. */
  toTool(info: McpToolInfo): AnyTool {
    const server = info.server;
    return {
      name: info.name,
      title: info.title,
      source: `MCP server ${server}`,
      description: `${info.description || info.title} (tool ${info.tool} of the MCP server ${server})`.slice(0, 2100),
      input: anyArguments,
      parameters: info.parameters,
      // "Writes data" here means "ask the user first": we cannot know what a third party's tool does.
      mutates: !info.allowAlways,
      handler: async (args: Record<string, unknown>, ctx) => {
        const result = await this.connection(server).callTool(info.tool, args, ctx.signal);
        return convertResult(server, info.tool, result, this.options.attachmentsDir);
      },
    } as AnyTool;
  }

  /**
   * The tools of every server a conversation uses, started as needed; a server that cannot start or
   * list in time is left out and reported, so one broken server never stops a chat.
   */
  async toolsFor(conversationId?: string, signal?: AbortSignal): Promise<{ tools: AnyTool[]; problems: ToolProblem[] }> {
    const servers = this.store.serversFor(conversationId);
    const limit = this.options.toolsTimeoutMs ?? 30_000;
    const results = await Promise.all(
      servers.map(async (s) => {
        const timeout = AbortSignal.timeout(limit);
        const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
        try {
          const r = await this.serverTools(s.name, both);
          return { tools: r.tools.map((t) => this.toTool(t)), problems: r.problems };
        } catch (err) {
          const e = err as WestfallError;
          return { tools: [], problems: [{ server: s.name, code: e.code ?? 'mcp_server_unavailable', message: e.message }] };
        }
      }),
    );
    return { tools: results.flatMap((r) => r.tools), problems: results.flatMap((r) => r.problems) };
  }

  /** Stops every server (quit). */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}

function sameConfig(a: McpServerConfig, b: McpServerConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
