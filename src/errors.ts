// One catalog of error codes for the whole project (engine, server, tools). A code is a stable string that
// clients may branch on; the message is for people and may change.
export const ERROR_CODES = {
  // engine
  model_not_found: 'The model file does not exist or cannot be read',
  invalid_model: 'The file is not a usable GGUF model (not GGUF, truncated, corrupt or unsupported)',
  context_overflow: 'The input does not fit in the context window',
  aborted: 'The operation was aborted',
  disposed: 'The object was disposed and can no longer be used',
  invalid_params: 'A parameter is missing or invalid',
  native_error: 'The native engine reported an error',
  grammar_error: 'The grammar (or JSON schema) allows no token the model has: the reply cannot be completed',
  // model downloads and the models directory (src/models)
  download_not_found: 'The download URL answered 404 Not Found',
  download_failed: 'The download failed (HTTP error or network failure)',
  download_interrupted: 'The download was interrupted; the partial file is kept and the download can be resumed',
  download_job_not_found: 'No download with this id',
  download_in_progress: 'A download of this file is already running',
  download_not_resumable: 'This download cannot be resumed (it is verified, or its partial file was discarded)',
  insufficient_disk_space: 'Not enough free disk space for the download',
  checksum_mismatch: 'The downloaded file does not match its expected SHA-256',
  checksum_unavailable: 'No SHA-256 is known for this download, so it cannot be verified',
  model_exists: 'A model file with this name is already installed',
  model_in_use: 'The model is loaded and cannot be deleted',
  // configuration and the HTTP service (src/config, src/server)
  invalid_config: 'One or more settings are invalid',
  invalid_request: 'The request is malformed or has invalid fields',
  invalid_json: 'The request body is not valid JSON',
  payload_too_large: 'The request body is too large',
  unsupported_media_type: 'The request body has an unsupported content type',
  unauthorized: 'A valid bearer token is required',
  forbidden_host: 'The Host header does not name this machine (possible DNS rebinding)',
  forbidden_origin: 'The Origin is not allowed to use this service',
  not_found: 'No such route or resource',
  queue_full: 'Too many requests are waiting; retry later',
  model_not_loaded: 'No model is loaded',
  model_loading: 'The model is still loading',
  model_load_failed: 'The model failed to load',
  model_unloaded: 'The model was unloaded while the request was running',
  shutting_down: 'The service is shutting down',
  internal_error: 'An internal error occurred',
  // storage and personal tools (src/storage, src/tools)
  storage_schema_too_new: 'The database was written by a newer version of Westfall',
  backup_invalid: 'The file is not a usable Westfall database backup (not SQLite, corrupt, or not from Westfall)',
  database_in_use: 'The database is in use by a running backend; stop it first',
  restore_failed: 'The restored database failed its checks; the current database was put back',
  conflict: 'The change conflicts with existing data (a duplicate name, or a record still in use)',
  csv_invalid: 'The CSV file has a malformed row; nothing of it was imported',
  timer_running: 'A timer is already running',
  timer_not_running: 'No timer is running',
  vault_not_initialized: 'The vault has no master password yet',
  vault_already_initialized: 'The vault already has a master password',
  vault_locked: 'The vault is locked',
  vault_wrong_password: 'The master password is wrong',
  vault_weak_password: 'The master password is too easy to guess',
  vault_tampered: 'A vault record failed its integrity check (tampered or corrupt); nothing was decrypted',
  path_forbidden: 'The path is outside the library folders',
  range_not_satisfiable: 'The requested byte range is outside the file',
  tool_not_found: 'No tool with this name',
  tool_invalid_arguments: 'The tool arguments do not match its schema',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class WestfallError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: unknown }) {
    super(message ?? ERROR_CODES[code], options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'WestfallError';
    this.code = code;
    if (options?.details !== undefined) this.details = options.details;
  }
}

export function isWestfallError(err: unknown, code?: ErrorCode): err is WestfallError {
  return err instanceof WestfallError && (code === undefined || err.code === code);
}
