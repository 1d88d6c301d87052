// Path containment: the only files ever served are inside a library folder. A relative path is refused
// when it is absolute, holds a '..' segment or a NUL, or resolves (after following symlinks) outside the
// folder. Callers decode URLs first, so '%2e%2e' arrives here as '..'.
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../errors.js';

/** Whether `child` is `parent` or below it (both absolute and normalized). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel) && rel.split(path.sep)[0] !== '..');
}

/** Checks a relative path from a URL or a client: no absolute paths, no '..' segments, no NUL. */
export function checkRelativePath(rel: string): string {
  const forbidden = (why: string) => new ToolError('path_forbidden', `refused path: ${why}`, { details: { reason: why } });
  if (rel.includes('\0')) throw forbidden('NUL character');
  const unified = rel.replace(/\\/g, '/');
  if (unified.startsWith('/') || path.isAbsolute(rel) || /^[a-zA-Z]:/.test(unified)) throw forbidden('absolute path');
  const segments = unified.split('/');
  if (segments.some((s) => s === '..')) throw forbidden("'..' segment");
  // Still encoded after decoding once: a double-encoded traversal attempt.
  if (/%2e%2e|%2f|%5c/i.test(rel)) throw forbidden('encoded traversal');
  return segments.filter((s) => s !== '' && s !== '.').join(path.sep);
}

/**
 * The real path of `rel` under `root` (root must be a real path), refusing anything that leaves it,
 * symlinks included. not_found when the file does not exist.
 */
export async function resolveInside(root: string, rel: string): Promise<string> {
  const clean = checkRelativePath(rel);
  const joined = path.resolve(root, clean);
  if (!isInside(root, joined)) throw new ToolError('path_forbidden', 'refused path: outside the library folder');
  let real: string;
  try {
    real = await realpath(joined);
  } catch {
    throw new ToolError('not_found', 'no such file in the library folder');
  }
  if (!isInside(root, real)) throw new ToolError('path_forbidden', 'refused path: a link that points outside the library folder', { details: { reason: 'symlink outside' } });
  return real;
}
