// Model Context Protocol both ways (docs/mcp.md): McpClients runs the MCP servers the user added and
// offers their tools to the agent; McpHost offers the assistant's tools to other MCP clients.
import path from 'node:path';
import type { DB } from '../storage/index.js';
import type { ToolRegistry } from '../tools/registry.js';
import { McpClients, type McpClientsOptions } from './clients.js';
import { McpHost, type HostOptions } from './host.js';
import { McpStore } from './store.js';

export { McpClients, type McpClientsOptions, type McpToolInfo, type ToolProblem } from './clients.js';
export { McpConnection, type ConnectionOptions, type ConnectionState } from './connection.js';
export { McpHost, exposableRegistry, generatePasswordTool, type ConfirmOutcome, type HostOptions } from './host.js';
export { AppPresence, appConfirmer } from './presence.js';
export { McpStore, AUDIT_KEEP, type AuditEntry, type AuditOutcome, type StoredServer } from './store.js';
export { importMcpServers, parseMcpServersFile, parseServerConfig, normalizeServerName, SERVER_NAME_RE, type McpServerConfig, type ImportedServers } from './config.js';
export { guardToolSchema, namespacedToolName, MAX_TOOL_SCHEMA_BYTES, MAX_TOOLS_PER_SERVER } from './schema-guard.js';
export { convertResult, ATTACHMENT_ID_RE, attachmentMime, type McpAttachment, type McpToolResult } from './results.js';

export interface Mcp {
  store: McpStore;
  clients: McpClients;
  host: McpHost;
  /** How calls from MCP clients that change data are confirmed. */
  hostConfirm: HostOptions['confirm'];
  attachmentsDir: string;
  close(): Promise<void>;
}

export interface CreateMcpOptions extends Omit<McpClientsOptions, 'attachmentsDir'> {
  db: DB;
  registry: ToolRegistry;
  dataDir: string;
  confirm: HostOptions['confirm'];
  now?: () => number;
}

export function createMcp(o: CreateMcpOptions): Mcp {
  const store = new McpStore(o.db, o.now);
  const { db: _db, registry, dataDir, confirm, ...clientOptions } = o;
  const attachmentsDir = path.join(dataDir, 'mcp', 'attachments');
  const clients = new McpClients(store, { ...clientOptions, attachmentsDir });
  const host = new McpHost({ registry, store, confirm });
  return { store, clients, host, hostConfirm: confirm, attachmentsDir, close: () => clients.close() };
}
