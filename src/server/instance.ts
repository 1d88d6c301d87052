// The running backend's address, for the commands that need it: `<dataDir>/state/backend.json`, written
// once `westfall serve` listens and removed when it stops. `westfall login-link` reads it to print a link
// for the backend that runs now; a second `westfall serve` whose port is taken uses /health to tell "another
// Westfall" (open that one) from "another program" (choose another port).
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const INSTANCE_FILE = 'backend.json';

const instanceSchema = z.object({
  pid: z.number().int().positive(),
  url: z.string().regex(/^http:\/\/[^/\s]+$/),
  version: z.string(),
  startedAt: z.string(),
});
export type BackendInstance = z.infer<typeof instanceSchema>;

export function writeInstance(stateDir: string, instance: BackendInstance): void {
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, INSTANCE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(instance)}\n`, { mode: 0o600 });
  if (process.platform !== 'win32') chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Removes the record if it is this process's (a second backend on the same data directory may have replaced it). */
export function removeInstance(stateDir: string, pid = process.pid): void {
  const current = readInstance(stateDir);
  if (current?.pid === pid) rmSync(path.join(stateDir, INSTANCE_FILE), { force: true });
}

export function readInstance(stateDir: string): BackendInstance | null {
  try {
    const parsed = instanceSchema.safeParse(JSON.parse(readFileSync(path.join(stateDir, INSTANCE_FILE), 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The version of the Westfall backend answering at `url`, or null when none answers there (or something else does). */
export async function probeWestfall(url: string, timeoutMs = 3000): Promise<{ version: string } | null> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json()) as { status?: unknown; version?: unknown; model?: unknown };
    return res.ok && body.status === 'ok' && typeof body.version === 'string' && typeof body.model === 'object' ? { version: body.version } : null;
  } catch {
    return null;
  }
}
