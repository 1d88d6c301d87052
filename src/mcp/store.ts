// What the user set about MCP, in the database (migration 9): the servers the assistant uses and their
// tools allowed without asking, servers turned off per conversation, our tools turned on for other MCP
// clients, and the audit list of those clients' calls.
import type { DB } from '../storage/index.js';
import { WestfallError } from '../errors.js';
import { parseServerConfig, SERVER_NAME_RE, type McpServerConfig } from './config.js';

export interface StoredServer {
  name: string;
  config: McpServerConfig;
  enabled: boolean;
  createdAt: number;
  /** Tools (their MCP names) that run without asking. */
  allowAlways: string[];
}

export type AuditOutcome = 'ok' | 'error' | 'disabled' | 'declined' | 'no_app' | 'unknown_tool';

export interface AuditEntry {
  id: number;
  at: number;
  /** The MCP client's name and version as it introduced itself. */
  client: string;
  transport: 'stdio' | 'http';
  tool: string;
  /** The arguments as JSON, cut at 2000 characters. */
  arguments: string;
  outcome: AuditOutcome;
  message: string | null;
}

/** Audit entries kept; older ones are dropped as new ones come. */
export const AUDIT_KEEP = 5000;

export class McpStore {
  constructor(
    private readonly db: DB,
    private readonly now: () => number = Date.now,
  ) {}

  // -- servers the assistant uses ---------------------------------------------------------------------

  listServers(): StoredServer[] {
    const rows = this.db.prepare('SELECT name, config, enabled, created_at FROM mcp_servers ORDER BY name').all() as {
      name: string;
      config: string;
      enabled: number;
      created_at: number;
    }[];
    const allowed = this.db.prepare('SELECT server, tool FROM mcp_tool_permissions WHERE allow_always = 1').all() as { server: string; tool: string }[];
    return rows.map((r) => ({
      name: r.name,
      config: parseServerConfig(JSON.parse(r.config)),
      enabled: r.enabled === 1,
      createdAt: r.created_at,
      allowAlways: allowed.filter((a) => a.server === r.name).map((a) => a.tool),
    }));
  }

  getServer(name: string): StoredServer {
    const s = this.listServers().find((x) => x.name === name);
    if (!s) throw new WestfallError('mcp_server_not_found', `no MCP server named ${JSON.stringify(name)}`, { details: { name } });
    return s;
  }

  /** Adds or replaces a server's entry (its permissions and per-chat choices stay). */
  putServer(name: string, config: McpServerConfig, enabled = true): StoredServer {
    if (!SERVER_NAME_RE.test(name)) throw new WestfallError('invalid_params', 'a server name is 1-32 lowercase letters, digits, - or _');
    this.db
      .prepare(
        `INSERT INTO mcp_servers (name, config, enabled, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT(name) DO UPDATE SET config = excluded.config, enabled = excluded.enabled`,
      )
      .run(name, JSON.stringify(config), enabled ? 1 : 0, this.now());
    return this.getServer(name);
  }

  setServerEnabled(name: string, enabled: boolean): StoredServer {
    const r = this.db.prepare('UPDATE mcp_servers SET enabled = ? WHERE name = ?').run(enabled ? 1 : 0, name);
    if (r.changes === 0) this.getServer(name);
    return this.getServer(name);
  }

  deleteServer(name: string): void {
    const r = this.db.prepare('DELETE FROM mcp_servers WHERE name = ?').run(name);
    if (r.changes === 0) this.getServer(name);
  }

  setAllowAlways(server: string, tool: string, allow: boolean): void {
    this.getServer(server);
    this.db
      .prepare(
        `INSERT INTO mcp_tool_permissions (server, tool, allow_always) VALUES (?, ?, ?)
         ON CONFLICT(server, tool) DO UPDATE SET allow_always = excluded.allow_always`,
      )
      .run(server, tool, allow ? 1 : 0);
  }

  // -- per conversation ---------------------------------------------------------------------------------

  /** Servers turned on or off for one conversation (others follow the server's own switch). */
  chatChoices(conversationId: string): Record<string, boolean> {
    const rows = this.db.prepare('SELECT server, enabled FROM mcp_chat_servers WHERE conversation_id = ?').all(conversationId) as { server: string; enabled: number }[];
    return Object.fromEntries(rows.map((r) => [r.server, r.enabled === 1]));
  }

  setChatServer(conversationId: string, server: string, enabled: boolean): void {
    this.getServer(server);
    this.db
      .prepare(
        `INSERT INTO mcp_chat_servers (conversation_id, server, enabled) VALUES (?, ?, ?)
         ON CONFLICT(conversation_id, server) DO UPDATE SET enabled = excluded.enabled`,
      )
      .run(conversationId, server, enabled ? 1 : 0);
  }

  /** The servers whose tools a conversation gets (none given: a new chat, the servers' own switches). */
  serversFor(conversationId?: string): StoredServer[] {
    const choices = conversationId ? this.chatChoices(conversationId) : {};
    return this.listServers().filter((s) => choices[s.name] ?? s.enabled);
  }

  // -- our tools, exposed to other clients ----------------------------------------------------------------

  exposedEnabled(): Set<string> {
    const rows = this.db.prepare('SELECT name FROM mcp_exposed_tools WHERE enabled = 1').all() as { name: string }[];
    return new Set(rows.map((r) => r.name));
  }

  setExposed(name: string, enabled: boolean): void {
    this.db
      .prepare('INSERT INTO mcp_exposed_tools (name, enabled) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET enabled = excluded.enabled')
      .run(name, enabled ? 1 : 0);
  }

  audit(entry: Omit<AuditEntry, 'id' | 'at'>): AuditEntry {
    const at = this.now();
    const args = entry.arguments.length > 2000 ? `${entry.arguments.slice(0, 1999)}…` : entry.arguments;
    const r = this.db
      .prepare('INSERT INTO mcp_audit (at, client, transport, tool, arguments, outcome, message) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(at, entry.client.slice(0, 200), entry.transport, entry.tool.slice(0, 200), args, entry.outcome, entry.message?.slice(0, 1000) ?? null);
    this.db.prepare('DELETE FROM mcp_audit WHERE id <= ?').run(Number(r.lastInsertRowid) - AUDIT_KEEP);
    return { ...entry, arguments: args, id: Number(r.lastInsertRowid), at };
  }

  auditList(limit = 100, beforeId?: number): AuditEntry[] {
    const rows = this.db
      .prepare(`SELECT id, at, client, transport, tool, arguments, outcome, message FROM mcp_audit ${beforeId ? 'WHERE id < ?' : ''} ORDER BY id DESC LIMIT ?`)
      .all(...(beforeId ? [beforeId, limit] : [limit])) as AuditEntry[];
    return rows;
  }
}
