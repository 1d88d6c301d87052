// createToolPlugins(services): the route plugins of the personal tools, ready for createApp's
// deps.extraPlugins. Each receives { config, manager } from createApp and the services it needs here.
import type { FastifyPluginAsync } from 'fastify';
import type { ToolServices } from '../../tools/services.js';
import type { AgentBackend } from '../../tools/agent.js';
import conversationRoutes from './conversations.js';
import documentRoutes from './documents.js';
import financeRoutes from './finance.js';
import musicRoutes from './music.js';
import timeRoutes from './time.js';
import toolRoutes, { type ToolRoutesOptions } from './tools.js';
import vaultRoutes from './vault.js';

/** Options every createApp plugin receives (structurally: { config, manager }). */
export interface HostPluginOptions {
  config?: unknown;
  manager?: unknown;
}

export interface ToolPluginsOptions {
  /** Run the agent on this backend instead of the server's model manager. */
  agentBackend?: AgentBackend;
  /** Keep-alive interval of the event streams (default 15 s). */
  heartbeatMs?: number;
  /** Tools from MCP servers for each chat (src/mcp: McpClients.toolsFor). */
  extraTools?: ToolRoutesOptions['extraTools'];
}

type Services = Pick<ToolServices, 'conversations' | 'finance' | 'time' | 'vault' | 'music' | 'documents' | 'registry' | 'confirmations'>;

function bind<O extends object>(plugin: FastifyPluginAsync<O>, deps: O, name: string): FastifyPluginAsync<HostPluginOptions> {
  const wrapped: FastifyPluginAsync<HostPluginOptions> = async (app, host) => {
    await app.register(plugin, { ...deps, ...('manager' in deps ? { manager: host.manager } : {}) } as O);
  };
  Object.defineProperty(wrapped, 'name', { value: name });
  return wrapped;
}

export function createToolPlugins(services: Services, options: ToolPluginsOptions = {}): FastifyPluginAsync<HostPluginOptions>[] {
  const hb = options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {};
  return [
    bind(conversationRoutes, { conversations: services.conversations, manager: undefined }, 'westfall-conversations'),
    bind(financeRoutes, { finance: services.finance }, 'westfall-finance'),
    bind(timeRoutes, { time: services.time, ...hb }, 'westfall-time'),
    bind(vaultRoutes, { vault: services.vault, ...hb }, 'westfall-vault'),
    bind(musicRoutes, { music: services.music, ...hb }, 'westfall-music'),
    bind(documentRoutes, { documents: services.documents, manager: undefined }, 'westfall-documents'),
    bind(
      toolRoutes,
      {
        registry: services.registry,
        conversations: services.conversations,
        confirmations: services.confirmations,
        manager: undefined,
        ...(options.agentBackend ? { agentBackend: options.agentBackend } : {}),
        ...(options.extraTools ? { extraTools: options.extraTools } : {}),
        ...hb,
      },
      'westfall-tools',
    ),
  ];
}
