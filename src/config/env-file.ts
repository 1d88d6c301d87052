// Reads a .env file with Node's own parser (util.parseEnv). A missing file is not an error.
import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';

export function readEnvFile(file: string): Record<string, string> | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return null;
    throw err;
  }
  const parsed = parseEnv(text) as Record<string, string | undefined>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
  return out;
}
