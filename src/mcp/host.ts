// The assistant as an MCP server: its finance, time and music tools, and of the vault only "generate a
// password" (never an entry, a search or a secret), offered to other MCP clients (Claude Desktop, VS Code)
// through the SDK's low-level Server, over stdio (`westfall mcp`) or streamable HTTP (/mcp on the backend).
// Each tool is off until the user turns it on in Settings; a call of one that changes data waits for the
// user's approval in the app and is refused when no app is open; every call, refused ones included, goes
// to the audit list (arguments, outcome; never results, so a generated password is not kept).
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { isWestfallError } from '../errors.js';
import type { ConfirmationRequest } from '../tools/agent.js';
import { describeCall } from '../tools/confirmations.js';
import { defineTool, toolErrorResult, ToolRegistry, type AnyTool } from '../tools/registry.js';
import { generatePassword } from '../tools/vault/index.js';
import { VERSION } from '../version.js';
import type { AuditOutcome, McpStore } from './store.js';

/** Areas whose tools may be offered; the vault contributes only the generator below. */
const EXPOSED_PREFIXES = ['finance_', 'time_', 'music_'];

export const generatePasswordTool = defineTool({
  name: 'vault_generate_password',
  title: 'Generate a password',
  description: 'Generate a new random password (nothing is read from or stored in the vault).',
  input: z
    .object({
      length: z.number().int().min(8).max(128).default(20),
      symbols: z.boolean().default(true),
    })
    .strict(),
  mutates: false,
  handler: (a) => generatePassword({ length: a.length, symbols: a.symbols }),
});

/** The tools other MCP clients may be offered (each still off until the user turns it on). */
export function exposableRegistry(registry: ToolRegistry): ToolRegistry {
  const names = registry.names.filter((n) => EXPOSED_PREFIXES.some((p) => n.startsWith(p)));
  return registry.subset(names).extend([generatePasswordTool as AnyTool]);
}

export type ConfirmOutcome = 'approved' | 'declined' | 'no_app';

export interface HostOptions {
  /** The assistant's registry (exposableRegistry picks from it). */
  registry: ToolRegistry;
  store: McpStore;
  /** Asks the user in the app; 'no_app' when no app is open to ask. */
  confirm: (request: ConfirmationRequest, signal: AbortSignal) => Promise<ConfirmOutcome>;
}

function errorResult(code: string, message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error: { code, message } }) }] };
}

export class McpHost {
  readonly tools: ToolRegistry;

  constructor(private readonly o: HostOptions) {
    this.tools = exposableRegistry(o.registry);
  }

  /** Every exposable tool with whether it is on (Settings). */
  list() {
    const on = this.o.store.exposedEnabled();
    return this.tools.describe().map((t) => ({ name: t.name, title: t.title, description: t.description, mutates: t.mutates, enabled: on.has(t.name) }));
  }

  setEnabled(name: string, enabled: boolean): void {
    this.tools.get(name); // unknown → tool_not_found
    this.o.store.setExposed(name, enabled);
  }

  /** A new SDK Server for one client connection (stdio process or HTTP request). */
  createServer(transport: 'stdio' | 'http'): Server {
    const server = new Server({ name: 'westfall-assistant', version: VERSION }, { capabilities: { tools: { listChanged: false } } });
    const clientName = () => {
      const v = server.getClientVersion();
      return v ? `${v.name} ${v.version}` : 'unknown client';
    };

    server.setRequestHandler(ListToolsRequestSchema, async () => {
      const on = this.o.store.exposedEnabled();
      return {
        tools: this.tools
          .describe()
          .filter((t) => on.has(t.name))
          .map((t) => ({
            name: t.name,
            title: t.title,
            description: t.description,
            inputSchema: { ...t.parameters, type: 'object' as const },
            annotations: { title: t.title, readOnlyHint: !t.mutates, destructiveHint: t.mutates, openWorldHint: false },
          })),
      };
    });

    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const { name } = request.params;
      const args = request.params.arguments ?? {};
      const audit = (outcome: AuditOutcome, message: string | null) =>
        this.o.store.audit({ client: clientName(), transport, tool: name, arguments: JSON.stringify(args), outcome, message });
      if (!this.tools.has(name)) {
        audit('unknown_tool', null);
        throw new McpError(ErrorCode.InvalidParams, `no tool named ${JSON.stringify(name).slice(0, 100)}`);
      }
      if (!this.o.store.exposedEnabled().has(name)) {
        audit('disabled', 'turned off in Settings');
        return errorResult('mcp_tool_disabled', `${name} is turned off for MCP clients; the user can turn it on in Westfall's Settings → MCP`);
      }
      const tool = this.tools.get(name);
      let parsed: unknown;
      try {
        parsed = this.tools.parseArguments(name, args);
      } catch (err) {
        const e = toolErrorResult(err).error;
        audit('error', e.message);
        return errorResult(e.code, e.message);
      }
      if (tool.mutates) {
        const request = describeCall(this.tools, { id: `mcp-${Date.now()}`, name, arguments: args });
        Object.assign(request, { origin: `${clientName()} (MCP, ${transport})` });
        const outcome = await this.o.confirm(request, extra.signal);
        if (outcome === 'no_app') {
          audit('no_app', 'no Westfall app was open to confirm');
          return errorResult('mcp_no_app', `${name} changes the user's data and must be confirmed in the Westfall app, which is not open; ask the user to open it and try again`);
        }
        if (outcome === 'declined') {
          audit('declined', 'the user declined');
          return errorResult('mcp_declined', 'the user declined this call in the Westfall app; do not retry it unless asked');
        }
      }
      try {
        const result = await tool.handler(parsed, { caller: 'model', signal: extra.signal });
        audit('ok', null);
        return { content: [{ type: 'text', text: JSON.stringify(result ?? null) }] };
      } catch (err) {
        const e = toolErrorResult(err).error;
        audit('error', isWestfallError(err) ? e.message : 'the tool failed unexpectedly');
        return errorResult(e.code, e.message);
      }
    });
    return server;
  }
}
