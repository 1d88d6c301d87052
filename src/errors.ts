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
