// Remote OpenAI-compatible providers: opt-in, stored in the database with their keys sealed, served to
// clients through the model router (engine.ts) and /v1/chat/completions (proxy.ts). See
// docs/remote-providers.md.
import path from 'node:path';
import type { DB } from '../storage/index.js';
import type { Logger } from '../logging/index.js';
import { RemoteChat, type RetryPolicy } from './remote-chat.js';
import { providerRoutes } from './routes.js';
import { SecretBox } from './secret-box.js';
import { ProviderService } from './service.js';
import { ProviderStore } from './store.js';

export { RemoteChat, DEFAULT_RETRY, isTokenEvent, type RetryPolicy } from './remote-chat.js';
export { ProviderService, type RemoteModel, type ProviderTestResult } from './service.js';
export { ProviderStore } from './store.js';
export { SecretBox, KEY_FILE } from './secret-box.js';
export { UpstreamClient, eventData } from './client.js';
export { linkProvidersToRouter } from './router-link.js';
export { RemoteEngine, startRemoteGeneration, remoteDeltas, remoteInfo, chatJobToRequest, wireToDeltas } from './engine.js';
export { proxyChatCompletion, infoHeaders } from './proxy.js';
export { providerRoutes } from './routes.js';
export { normalizeBaseUrl, hostOf, matchesFilter } from './url.js';
export * from './types.js';

export interface Providers {
  service: ProviderService;
  remote: RemoteChat;
  /** /api/providers, for createApp's extraPlugins. */
  routes: ReturnType<typeof providerRoutes>;
}

/** Providers over the app's database; the key file lives in `keyDir` (the state folder). */
export function createProviders(db: DB, keyDir: string, options: { logger?: Logger; retry?: Partial<RetryPolicy>; healthTtlMs?: number } = {}): Providers {
  const store = new ProviderStore(db, SecretBox.open(path.resolve(keyDir)));
  const service = new ProviderService(store, { ...(options.logger ? { logger: options.logger } : {}), ...(options.healthTtlMs ? { healthTtlMs: options.healthTtlMs } : {}) });
  const remote = new RemoteChat(service, { ...(options.retry ? { retry: options.retry } : {}), ...(options.logger ? { logger: options.logger } : {}) });
  return { service, remote, routes: providerRoutes(service) };
}
