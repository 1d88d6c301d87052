// The /api/mcp routes as the settings panels use them (src/server/routes/mcp.ts).
import { api } from '../store.js';

export interface McpServerStatus {
  name: string;
  config: { command?: string; args?: string[]; url?: string; [k: string]: unknown };
  enabled: boolean;
  allowAlways: string[];
  status: { state: 'stopped' | 'starting' | 'ready' | 'failed'; lastError: string | null; failures: number; retryAt: number | null; tools: number | null };
}

export interface McpToolInfo {
  name: string;
  server: string;
  tool: string;
  title: string;
  description: string;
  allowAlways: boolean;
}

export interface McpToolProblem {
  server: string;
  tool?: string;
  code: string;
  message: string;
}

export interface ExposedTool {
  name: string;
  title: string;
  description: string;
  mutates: boolean;
  enabled: boolean;
}

export interface AuditEntry {
  id: number;
  at: number;
  client: string;
  transport: 'stdio' | 'http';
  tool: string;
  arguments: string;
  outcome: string;
  message: string | null;
}

export const mcpApi = {
  servers: () => api().get<{ servers: McpServerStatus[] }>('/api/mcp/servers'),
  put: (name: string, config: unknown) => api().put<{ server: McpServerStatus }>(`/api/mcp/servers/${encodeURIComponent(name)}`, { config }),
  import: (text: string, replace = false) => api().post<{ added: string[]; skipped: { name: string; reason: string }[] }>('/api/mcp/servers/import', { text, replace }),
  setEnabled: (name: string, enabled: boolean) => api().patch(`/api/mcp/servers/${encodeURIComponent(name)}`, { enabled }),
  remove: (name: string) => api().delete(`/api/mcp/servers/${encodeURIComponent(name)}`),
  restart: (name: string) => api().post<{ tools: McpToolInfo[]; problems: McpToolProblem[] }>(`/api/mcp/servers/${encodeURIComponent(name)}/restart`),
  tools: (name: string) => api().get<{ tools: McpToolInfo[]; problems: McpToolProblem[] }>(`/api/mcp/servers/${encodeURIComponent(name)}/tools`),
  allowAlways: (name: string, tool: string, allowAlways: boolean) =>
    api().put(`/api/mcp/servers/${encodeURIComponent(name)}/tools/${encodeURIComponent(tool)}`, { allowAlways }),
  exposed: () => api().get<{ tools: ExposedTool[]; appOpen: boolean }>('/api/mcp/host/tools'),
  setExposed: (name: string, enabled: boolean) => api().put(`/api/mcp/host/tools/${encodeURIComponent(name)}`, { enabled }),
  audit: (limit = 50) => api().get<{ entries: AuditEntry[] }>(`/api/mcp/host/audit?limit=${limit}`),
};
