// The backend service: createApp, the model manager and scheduler, the shared schemas and error mapping.
export { createApp, type AppDeps, type ServerPlugin, type ServerPluginOptions } from './app.js';
export type { AppContext } from './context.js';
export {
  ModelManager,
  chooseGpuLayers,
  type SpeedProfile,
  type ModelManagerOptions,
  type ModelManagerEvents,
  type LoadOptions,
  type ManagedGeneration,
  type ManagedResult,
  type ChatJob,
  type CompletionJob,
  type GenerationEvent,
  type ChatEngine,
  type EmbedJob,
  type EmbedResult,
  type EngineStatus,
  type ModelEntry,
  type ModelSettings,
  ModelRouter,
  LocalEngine,
} from './model-manager.js';
export { ERROR_HTTP, toErrorInfo, errorBody, openAIErrorBody, parseWith, sendError, isOpenAIRoute, type ErrorInfo } from './errors.js';
export { createMetrics, type Metrics } from './metrics.js';
export { parseHostHeader, isAllowedOrigin, extractToken, tokenMatches } from './security.js';
export { ActiveStreams } from './streams.js';
export { WS_CLOSE_GOING_AWAY } from './routes/stream.js';
export * from './schemas.js';
