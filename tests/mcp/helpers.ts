// Shared setup of the MCP tests: the tool services on a real SQLite file, MCP (createMcp) over them, and a
// bare Fastify with the tools' plugins and the MCP routes (as `westfall serve` registers them).
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { errorsPlugin } from '../../src/server/errors.js';
import { mcpRoutes } from '../../src/server/routes/mcp.js';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import { AppPresence, appConfirmer, createMcp, type Mcp, type McpClientsOptions } from '../../src/mcp/index.js';
import type { AgentBackend, ToolServices } from '../../src/tools/index.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = (name: string) => join(ROOT, 'node_modules', '.bin', name);
export const MISBEHAVING = join(import.meta.dirname, 'fixtures', 'misbehaving-server.mjs');

export function makeMcp(services: ToolServices, options: Partial<McpClientsOptions> = {}): { mcp: Mcp; presence: AppPresence } {
  const presence = new AppPresence();
  const mcp = createMcp({
    db: services.db,
    registry: services.registry,
    dataDir: services.dataDir,
    confirm: appConfirmer(services.confirmations, presence),
    ...options,
  });
  return { mcp, presence };
}

export async function makeMcpApp(services: ToolServices, mcp: Mcp, presence: AppPresence, agentBackend?: AgentBackend): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024, forceCloseConnections: true });
  await app.register(errorsPlugin);
  for (const plugin of createToolPlugins(services, { heartbeatMs: 60_000, extraTools: (id) => mcp.clients.toolsFor(id), ...(agentBackend ? { agentBackend } : {}) })) {
    await app.register(plugin, { config: {}, manager: undefined });
  }
  await app.register(mcpRoutes({ mcp, presence, confirmations: services.confirmations, conversations: services.conversations, heartbeatMs: 60_000 }));
  await app.ready();
  return app;
}
