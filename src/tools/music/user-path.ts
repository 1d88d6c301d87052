// A folder as the user types it in a browser (where no native picker can hand us a real path): "~" and
// "~/Music" mean the home directory, a relative path is taken from the home directory (not the backend's
// working directory, which the user neither sees nor chose), and an absolute path stays as it is.
// "~other" (another user's home) is not expanded: it would need a password-database lookup and is almost
// always a typo, so it is refused rather than guessed.
import { homedir } from 'node:os';
import path from 'node:path';
import { ToolError } from '../errors.js';

/** The absolute path `input` names, with `home` (default: the current user's, which honours $HOME). */
export function expandUserPath(input: string, home: string = homedir()): string {
  const text = input.trim();
  if (text === '' || text.includes('\0')) {
    throw new ToolError('invalid_params', 'give a folder path', { details: { fields: [{ path: 'path', message: 'empty' }] } });
  }
  if (text === '~') return path.resolve(home);
  if (text.startsWith('~/') || text.startsWith(`~${path.sep}`)) return path.resolve(home, text.slice(2));
  if (text.startsWith('~')) {
    throw new ToolError('invalid_params', `"${text.split(/[\\/]/)[0]}" names another user's home; write the full path instead`, { details: { fields: [{ path: 'path', message: 'unsupported ~user' }] } });
  }
  return path.isAbsolute(text) ? path.resolve(text) : path.resolve(home, text);
}
