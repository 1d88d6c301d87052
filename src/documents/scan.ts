// Listing the files of a collection's sources: folders walked recursively (hidden entries and symlinked
// folders skipped, so a link loop cannot trap the walk), only the extensions the extractor reads.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { kindOf } from './extract.js';
import type { Source } from './types.js';

export async function listSourceFiles(sources: readonly Source[]): Promise<string[]> {
  const out = new Set<string>();
  for (const s of sources) {
    if (s.kind === 'file') {
      if (await isFile(s.path)) out.add(s.path);
      continue;
    }
    await walk(s.path, out);
  }
  return [...out].sort();
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function walk(dir: string, out: Set<string>): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // a folder that went away or cannot be read: its files count as removed
  }
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    else if (e.isFile() && kindOf(p)) out.add(p);
  }
}
