// `westfall mcp`: the assistant as an MCP server over stdio, for clients that start their servers as
// commands (Claude Desktop, VS Code, Cursor). It runs on the data directory's database in its own process
// (no model is needed: the client's model calls the tools), offers only the tools turned on in Settings →
// MCP, and logs every call in the audit list the app shows. A call that changes data is confirmed in the
// running app: this process signs a request to the backend with the sign-in secret of the data directory
// (as `westfall login-link` does) and waits for the user's answer; with no backend running it is refused.
// stdout carries the protocol, so anything else goes to stderr.
import path from 'node:path';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { McpHost, McpStore, type ConfirmOutcome } from '../../mcp/index.js';
import { probeWestfall, readInstance } from '../../server/instance.js';
import { issueSessionCookie, sessionCookieName, SessionSecret } from '../../server/session.js';
import { claimDatabaseUse } from '../../storage/index.js';
import type { ConfirmationRequest } from '../../tools/agent.js';
import { createToolServices, DATABASE_FILE } from '../../tools/index.js';

export interface McpCommandOptions {
  dataDir: string;
  stateDir: string;
}

/** Asks the running backend (the app) to confirm; 'no_app' when none runs or it cannot be reached. */
export function backendConfirmer(stateDir: string) {
  return async (request: ConfirmationRequest, signal: AbortSignal): Promise<ConfirmOutcome> => {
    const instance = readInstance(stateDir);
    if (!instance || !(await probeWestfall(instance.url))) return 'no_app';
    const secret = SessionSecret.read(stateDir);
    if (!secret) return 'no_app';
    const port = new URL(instance.url).port || '80';
    try {
      const res = await fetch(`${instance.url}/api/mcp/host/confirm`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          origin: instance.url,
          cookie: `${sessionCookieName(port)}=${issueSessionCookie(secret)}`,
        },
        body: JSON.stringify({ request }),
        signal,
      });
      if (!res.ok) return 'no_app';
      const body = (await res.json()) as { outcome?: unknown };
      return body.outcome === 'approved' || body.outcome === 'declined' ? body.outcome : 'no_app';
    } catch {
      return 'no_app';
    }
  };
}

export async function runMcpServer(o: McpCommandOptions): Promise<void> {
  const release = claimDatabaseUse(path.join(o.dataDir, DATABASE_FILE), 'mcp');
  const services = createToolServices(o.dataDir, { startReminders: false });
  const store = new McpStore(services.db);
  const host = new McpHost({ registry: services.registry, store, confirm: backendConfirmer(o.stateDir) });
  const server = host.createServer('stdio');
  const transport = new StdioServerTransport();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    services.close();
    release();
  };
  transport.onclose = close;
  process.stdin.on('end', () => {
    void server.close().finally(() => {
      close();
      process.exit(0);
    });
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      close();
      process.exit(0);
    });
  }
  await server.connect(transport);
  process.stderr.write(`westfall mcp: serving the tools turned on in Settings → MCP (data: ${o.dataDir})\n`);
}
