// Errors of the personal tools. Their HTTP statuses live in the server's one table (ERROR_HTTP); the
// errors also carry `statusCode` so that a tool used outside the server still says what kind of failure it is.
import { WestfallError, type ErrorCode } from '../errors.js';
import { ERROR_HTTP } from '../server/errors.js';

/** A WestfallError that carries its HTTP status. */
export class ToolError extends WestfallError {
  readonly statusCode: number;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: unknown }) {
    super(code, message, options);
    this.statusCode = ERROR_HTTP[code]?.status ?? 500;
  }
}

export function notFound(what: string, id: unknown): ToolError {
  return new ToolError('not_found', `${what} ${String(id)} does not exist`, { details: { [what.replace(/\s+/g, '_')]: id } });
}

/** Turns SQLite constraint failures into conflict errors with a readable message. */
export function mapSqliteError(err: unknown, what: string): unknown {
  const code = (err as { code?: string } | null)?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
    if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return new ToolError('conflict', `${what} already exists`, { cause: err });
    }
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      return new ToolError('conflict', `${what} is referenced by other records or refers to a missing one`, { cause: err });
    }
    return new ToolError('invalid_params', `${what} violates a constraint: ${(err as Error).message}`, { cause: err });
  }
  return err;
}

/** Runs `fn`, mapping SQLite constraint errors to ToolErrors. */
export function guarded<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw mapSqliteError(err, what);
  }
}
