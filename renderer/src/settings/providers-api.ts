// Remote providers as the backend shows them (/api/providers, src/providers): the shapes the settings
// read, and the calls they make. The API key is write-only: nothing here reads one back.
import { api } from '../store.js';

export interface ProviderHealth {
  state: 'unknown' | 'ok' | 'error';
  checkedAt: string | null;
  latencyMs: number | null;
  models: string[];
  error: { code: string; message: string } | null;
}

export interface Provider {
  id: string;
  name: string;
  baseUrl: string;
  host: string;
  hasApiKey: boolean;
  timeoutMs: number;
  modelFilter: string[];
  fallback: string | null;
  enabled: boolean;
  health: ProviderHealth;
}

/** What the form sends; `apiKey` absent keeps the saved key, "" removes it. */
export interface ProviderInput {
  name: string;
  baseUrl: string;
  apiKey?: string | null;
  timeoutMs: number;
  modelFilter: string[];
  fallback: string | null;
  enabled?: boolean;
}

export interface ProviderTestResult {
  ok: boolean;
  summary: string;
  models?: string[];
}

export const listProviders = (check = false) => api().get<{ providers: Provider[]; remoteEnabled: boolean }>(`/api/providers${check ? '?check=1' : ''}`);
export const createProvider = (input: ProviderInput) => api().post<Provider>('/api/providers', input);
export const updateProvider = (id: string, patch: Partial<ProviderInput>) => api().patch<Provider>(`/api/providers/${encodeURIComponent(id)}`, patch);
export const removeProvider = (id: string) => api().delete<void>(`/api/providers/${encodeURIComponent(id)}`);
export const testSaved = (id: string) => api().post<ProviderTestResult>(`/api/providers/${encodeURIComponent(id)}/test`);
export const testDetails = (d: { baseUrl: string; apiKey?: string | null; timeoutMs?: number; modelFilter?: string[] }) => api().post<ProviderTestResult>('/api/providers/test', d);

/** "connected, 3 models" / "not checked yet" / the error, for people. */
export function healthText(h: ProviderHealth): string {
  if (h.state === 'ok') return `connected, ${h.models.length} model${h.models.length === 1 ? '' : 's'}${h.latencyMs !== null ? ` (${h.latencyMs} ms)` : ''}`;
  if (h.state === 'error') return h.error?.message ?? 'failing';
  return 'not checked yet';
}
