// Helpers of the personal tools over the one error catalog (src/errors.ts).
import { WestfallError } from '../errors.js';

export { notFound } from '../errors.js';

/** The errors the tools raise; every WestfallError carries its HTTP status since the catalog holds it. */
export const ToolError = WestfallError;
export type ToolError = WestfallError;

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
