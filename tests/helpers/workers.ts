// `westfall worker` processes on 127.0.0.1 for the tests of models split over workers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'index.ts');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface TestWorker {
  child: ChildProcess;
  endpoint: string;
  output: () => string;
}

/** Starts `westfall worker` and waits for its "listening" line (rejects if it exits first). */
export async function startWorker(args: string[] = []): Promise<TestWorker> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'worker', '--port', String(port), '--threads', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', () => {
      if (out.includes('westfall worker listening on')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}:\n${out}`)));
  });
  return { child, endpoint: `127.0.0.1:${port}`, output: () => out };
}

export function stopWorker(w: TestWorker | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!w || w.child.exitCode !== null || w.child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    w.child.once('exit', () => resolve());
    w.child.kill(signal);
  });
}
