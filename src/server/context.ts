// What every route plugin of the service receives.
import type { Config } from '../config/index.js';
import type { RemoteChat } from '../providers/remote-chat.js';
import type { Metrics } from './metrics.js';
import type { ModelManager } from './model-manager.js';
import type { SessionSecret } from './session.js';
import type { ActiveStreams } from './streams.js';
import type { Workers } from './workers/index.js';

export interface AppContext {
  config: Config;
  manager: ModelManager;
  metrics: Metrics;
  streams: ActiveStreams;
  version: string;
  startedAt: number;
  /**
   * Signs browser session cookies; set by createApp (deps.sessions) or by the login routes
   * (rendererRoutes), so that the cookie check and the cookie issuer share one secret.
   */
  sessions: SessionSecret | null;
  /** Set when shutdown begins: new requests get 503 shutting_down. */
  closing: boolean;
  /** Remote providers (src/providers); null: none can be used, nothing leaves the machine. */
  remote: RemoteChat | null;
  /** Workers models can be split over (src/server/workers); null: this backend does not split. */
  workers: Workers | null;
}

/** Options of the plugins given to createApp in deps.extraPlugins (e.g. the models routes). */
export interface ServerPluginOptions {
  config: Config;
  manager: ModelManager;
}
