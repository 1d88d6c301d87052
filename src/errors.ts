// One catalog of error codes for the whole project (engine, server, tools, renderer). A code is a stable
// string that clients may branch on; the message is for people and may change. The HTTP status and error type
// sit beside each code so that an error raised anywhere (a tool used from the CLI included) says what kind of
// failure it is without importing the server.
export interface HttpMapping {
  status: number;
  type: string;
}

export const ERROR_CATALOG = {
  // engine
  model_not_found: { status: 404, type: 'not_found_error', message: 'The model file does not exist or cannot be read' },
  invalid_model: { status: 422, type: 'invalid_request_error', message: 'The file is not a usable GGUF model (not GGUF, truncated, corrupt or unsupported)' },
  context_overflow: { status: 400, type: 'invalid_request_error', message: 'The input does not fit in the context window' },
  aborted: { status: 499, type: 'invalid_request_error', message: 'The operation was aborted' },
  disposed: { status: 503, type: 'unavailable_error', message: 'The object was disposed and can no longer be used' },
  invalid_params: { status: 400, type: 'invalid_request_error', message: 'A parameter is missing or invalid' },
  native_error: { status: 500, type: 'server_error', message: 'The native engine reported an error' },
  grammar_error: { status: 400, type: 'invalid_request_error', message: 'The grammar (or JSON schema) allows no token the model has: the reply cannot be completed' },
  // model downloads and the models directory (src/models)
  download_not_found: { status: 502, type: 'upstream_error', message: 'The download URL answered 404 Not Found' },
  download_failed: { status: 502, type: 'upstream_error', message: 'The download failed (HTTP error or network failure)' },
  download_interrupted: { status: 502, type: 'upstream_error', message: 'The download was interrupted; the partial file is kept and the download can be resumed' },
  download_job_not_found: { status: 404, type: 'not_found_error', message: 'No download with this id' },
  download_in_progress: { status: 409, type: 'conflict_error', message: 'A download of this file is already running' },
  download_not_resumable: { status: 409, type: 'conflict_error', message: 'This download cannot be resumed (it is verified, or its partial file was discarded)' },
  insufficient_disk_space: { status: 507, type: 'server_error', message: 'Not enough free disk space for the download' },
  checksum_mismatch: { status: 422, type: 'invalid_request_error', message: 'The downloaded file does not match its expected SHA-256' },
  checksum_unavailable: { status: 422, type: 'invalid_request_error', message: 'No SHA-256 is known for this download, so it cannot be verified' },
  model_exists: { status: 409, type: 'conflict_error', message: 'A model file with this name is already installed' },
  model_in_use: { status: 409, type: 'conflict_error', message: 'The model is loaded; unload it before replacing it' },
  hub_unavailable: { status: 502, type: 'upstream_error', message: 'The model hub cannot be reached or sent an unexpected answer' },
  // configuration and the HTTP service (src/config, src/server)
  invalid_config: { status: 500, type: 'server_error', message: 'One or more settings are invalid' },
  invalid_request: { status: 400, type: 'invalid_request_error', message: 'The request is malformed or has invalid fields' },
  invalid_json: { status: 400, type: 'invalid_request_error', message: 'The request body is not valid JSON' },
  payload_too_large: { status: 413, type: 'invalid_request_error', message: 'The request body is too large' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error', message: 'The request body has an unsupported content type' },
  unauthorized: { status: 401, type: 'authentication_error', message: 'A valid bearer token is required' },
  forbidden_host: { status: 403, type: 'permission_error', message: 'The Host header does not name this machine (possible DNS rebinding)' },
  forbidden_origin: { status: 403, type: 'permission_error', message: 'The Origin is not allowed to use this service' },
  not_found: { status: 404, type: 'not_found_error', message: 'No such route or resource' },
  queue_full: { status: 429, type: 'rate_limit_error', message: 'Too many requests are waiting; retry later' },
  model_not_loaded: { status: 503, type: 'unavailable_error', message: 'No model is loaded' },
  model_loading: { status: 503, type: 'unavailable_error', message: 'The model is still loading' },
  model_load_failed: { status: 503, type: 'unavailable_error', message: 'The model failed to load' },
  model_unloaded: { status: 503, type: 'unavailable_error', message: 'The model was unloaded while the request was running' },
  model_too_large: { status: 507, type: 'insufficient_memory_error', message: 'The model does not fit in the memory allowed for models, even with every other model unloaded' },
  memory_busy: { status: 503, type: 'unavailable_error', message: 'Not enough memory for the model now: the loaded models that would have to be unloaded are answering requests' },
  shutting_down: { status: 503, type: 'unavailable_error', message: 'The service is shutting down' },
  internal_error: { status: 500, type: 'server_error', message: 'An internal error occurred' },
  // storage and personal tools (src/storage, src/tools)
  storage_schema_too_new: { status: 500, type: 'server_error', message: 'The database was written by a newer version of Westfall' },
  backup_invalid: { status: 422, type: 'invalid_request_error', message: 'The file is not a usable Westfall database backup (not SQLite, corrupt, or not from Westfall)' },
  database_in_use: { status: 409, type: 'conflict_error', message: 'The database is in use by a running backend; stop it first' },
  restore_failed: { status: 500, type: 'server_error', message: 'The restored database failed its checks; the current database was put back' },
  conflict: { status: 409, type: 'conflict_error', message: 'The change conflicts with existing data (a duplicate name, or a record still in use)' },
  csv_invalid: { status: 422, type: 'invalid_request_error', message: 'The CSV file has a malformed row; nothing of it was imported' },
  amount_invalid: { status: 400, type: 'invalid_request_error', message: 'The amount is not written as the locale writes numbers (grouping, decimal mark, decimals of the currency), or has a sign where none belongs' },
  date_invalid: { status: 400, type: 'invalid_request_error', message: 'The date is not a real date in the locale order or YYYY-MM-DD' },
  timer_running: { status: 409, type: 'conflict_error', message: 'A timer is already running' },
  timer_not_running: { status: 409, type: 'conflict_error', message: 'No timer is running' },
  vault_not_initialized: { status: 409, type: 'conflict_error', message: 'The vault has no master password yet' },
  vault_already_initialized: { status: 409, type: 'conflict_error', message: 'The vault already has a master password' },
  vault_locked: { status: 423, type: 'locked_error', message: 'The vault is locked' },
  vault_wrong_password: { status: 403, type: 'permission_error', message: 'The master password is wrong' },
  vault_weak_password: { status: 400, type: 'invalid_request_error', message: 'The master password is too easy to guess' },
  vault_tampered: { status: 500, type: 'integrity_error', message: 'A vault record failed its integrity check (tampered or corrupt); nothing was decrypted' },
  path_forbidden: { status: 403, type: 'permission_error', message: 'The path is outside the library folders' },
  folder_not_found: { status: 404, type: 'not_found_error', message: 'The folder does not exist or is a file (~ is the home directory; a relative path starts there)' },
  range_not_satisfiable: { status: 416, type: 'invalid_request_error', message: 'The requested byte range is outside the file' },
  tool_not_found: { status: 404, type: 'not_found_error', message: 'No tool with this name' },
  tool_invalid_arguments: { status: 400, type: 'invalid_request_error', message: 'The tool arguments do not match its schema' },
  // workers of a split model (src/engine/rpc.ts)
  rpc_worker_unreachable: { status: 502, type: 'upstream_error', message: 'A worker (westfall worker) cannot be reached' },
  rpc_worker_busy: { status: 503, type: 'unavailable_error', message: 'A worker is serving another client' },
  rpc_worker_incompatible: { status: 422, type: 'invalid_request_error', message: 'A worker runs another protocol version' },
  rpc_worker_lost: { status: 502, type: 'upstream_error', message: 'A worker disconnected while the model was using it; reload the model without it' },
  // Model Context Protocol (src/mcp)
  mcp_server_not_found: { status: 404, type: 'not_found_error', message: 'No MCP server with this name' },
  mcp_bad_schema: { status: 422, type: 'invalid_request_error', message: "An MCP tool's input schema was refused (too large, too deep, or one our grammar checks reject)" },
  mcp_server_unavailable: { status: 502, type: 'upstream_error', message: 'The MCP server could not be started or stopped working (crashed, exited or refused the connection)' },
  mcp_tool_failed: { status: 502, type: 'upstream_error', message: 'The MCP tool reported an error' },
  mcp_timeout: { status: 504, type: 'upstream_error', message: 'The MCP server did not answer in time' },
  mcp_tool_disabled: { status: 403, type: 'permission_error', message: 'This tool is not turned on for MCP clients (Settings → MCP)' },
  mcp_no_app: { status: 409, type: 'conflict_error', message: 'This tool changes data and needs the user to confirm it in the Westfall app, which is not open' },
  mcp_declined: { status: 403, type: 'permission_error', message: 'The user declined this tool call in the Westfall app' },
  // remote OpenAI-compatible providers (src/providers)
  provider_not_found: { status: 404, type: 'not_found_error', message: 'No remote provider with this id' },
  provider_invalid_url: { status: 400, type: 'invalid_request_error', message: 'The provider URL must be an http(s) URL without credentials, query or fragment' },
  upstream_unreachable: { status: 502, type: 'upstream_error', message: 'The remote provider could not be reached (connection refused, name not resolved or no answer in time)' },
  upstream_auth: { status: 502, type: 'upstream_error', message: 'The remote provider refused the API key (401/403)' },
  upstream_model_not_found: { status: 404, type: 'not_found_error', message: 'The remote provider does not serve this model' },
  upstream_rate_limited: { status: 429, type: 'rate_limit_error', message: 'The remote provider is rate limiting requests; retry later' },
  upstream_redirect: { status: 502, type: 'upstream_error', message: 'The remote provider redirected to another host; the redirect was not followed' },
  upstream_error: { status: 502, type: 'upstream_error', message: 'The remote provider failed (a 5xx answer, a malformed reply or a stream cut off)' },
  // documents (src/documents)
  collection_not_found: { status: 404, type: 'not_found_error', message: 'No document collection with this id' },
  document_unreadable: { status: 422, type: 'invalid_request_error', message: 'The file could not be read as a document (corrupt, encrypted, empty or of an unsupported type)' },
  embedding_unavailable: { status: 409, type: 'conflict_error', message: 'No embedding model is available: load a model (or name the one the collection was embedded with) and index again' },
} as const satisfies Record<string, HttpMapping & { message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The message of each code. */
export const ERROR_CODES = Object.fromEntries(Object.entries(ERROR_CATALOG).map(([k, v]) => [k, v.message])) as {
  readonly [K in ErrorCode]: (typeof ERROR_CATALOG)[K]['message'];
};

/**
 * HTTP status and error type for each code. Codes not listed map to 500, unless the error carries its own
 * `statusCode` (4xx/5xx).
 */
export const ERROR_HTTP: Readonly<Record<string, HttpMapping>> = Object.fromEntries(
  Object.entries(ERROR_CATALOG).map(([k, v]) => [k, { status: v.status, type: v.type }]),
);

export class WestfallError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  /** The HTTP status of the code, for callers outside the server. */
  readonly statusCode: number;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: unknown }) {
    super(message ?? ERROR_CODES[code], options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'WestfallError';
    this.code = code;
    this.statusCode = ERROR_CATALOG[code]?.status ?? 500;
    if (options?.details !== undefined) this.details = options.details;
  }
}

export function isWestfallError(err: unknown, code?: ErrorCode): err is WestfallError {
  return err instanceof WestfallError && (code === undefined || err.code === code);
}

export function notFound(what: string, id: unknown): WestfallError {
  return new WestfallError('not_found', `${what} ${String(id)} does not exist`, { details: { [what.replace(/\s+/g, '_')]: id } });
}
