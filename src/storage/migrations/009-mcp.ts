// Model Context Protocol, both ways (src/mcp). As a client: the MCP servers the user added (their
// `mcpServers` entry as JSON), which of their tools run without asking ("allow always"), and servers turned
// off for one conversation. As a server: which of our tools other MCP clients may call (each off until the
// user turns it on) and the audit list of every call they made.
import type { Migration } from '../migrate.js';

export const mcpMigration: Migration = {
  version: 9,
  name: 'mcp servers and exposed tools',
  up: `
    CREATE TABLE mcp_servers (
      name TEXT PRIMARY KEY,
      config TEXT NOT NULL,
      enabled INTEGER NOT NULL DEFAULT 1,
      created_at INTEGER NOT NULL
    );
    CREATE TABLE mcp_tool_permissions (
      server TEXT NOT NULL REFERENCES mcp_servers(name) ON DELETE CASCADE ON UPDATE CASCADE,
      tool TEXT NOT NULL,
      allow_always INTEGER NOT NULL DEFAULT 0,
      PRIMARY KEY (server, tool)
    );
    CREATE TABLE mcp_chat_servers (
      conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
      server TEXT NOT NULL REFERENCES mcp_servers(name) ON DELETE CASCADE ON UPDATE CASCADE,
      enabled INTEGER NOT NULL,
      PRIMARY KEY (conversation_id, server)
    );
    CREATE TABLE mcp_exposed_tools (
      name TEXT PRIMARY KEY,
      enabled INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE mcp_audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      at INTEGER NOT NULL,
      client TEXT NOT NULL,
      transport TEXT NOT NULL,
      tool TEXT NOT NULL,
      arguments TEXT NOT NULL,
      outcome TEXT NOT NULL,
      message TEXT
    );
    CREATE INDEX mcp_audit_at ON mcp_audit(at);
  `,
};
