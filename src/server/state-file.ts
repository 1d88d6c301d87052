// Small JSON files of settings in the state folder (settings.json, workers.json): read through a zod
// schema with defaults for what is missing or damaged (a bad file must not stop the backend), written
// atomically (temporary file + rename).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { Logger } from '../logging/index.js';

/** The file's data, or the schema's defaults (reported through `log`) when it is missing, unreadable or invalid. */
export function readStateFile<S extends z.ZodType>(file: string, schema: S, what: string, log?: Logger): z.output<S> {
  let raw: unknown = {};
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') log?.warn({ file, err }, `the ${what} file cannot be read; using defaults`);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  log?.warn({ file, issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) }, `the ${what} file has invalid values; using defaults`);
  return schema.parse({});
}

export function writeStateFile(file: string, data: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, file);
}
