// `westfall worker`: lends this machine's memory and compute to a Westfall elsewhere that splits a model
// over workers (docs/rpc.md). It is ggml's RPC server from our own build of the pinned llama.cpp, so both
// ends always speak the same protocol version.
//
//   westfall worker [--host 127.0.0.1] [--port 50052] [--mem 8G] [--device NAME ...] [--threads N]
import type { Command } from 'commander';
import { isWestfallError } from '../../errors.js';
import { initNative } from '../../engine/native.js';
import { DEFAULT_WORKER_PORT, isLoopback, serveWorker } from '../../engine/rpc.js';

export interface WorkerFlags {
  host?: string;
  port?: string;
  mem?: string;
  device?: string[];
  threads?: string;
}

/** `8G`, `512M`, `1.5GiB`, or bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new Error(`'${text}' is not a size: write e.g. 8G or 512M`);
  const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.floor(Number(m[1]) * mult);
}

export const UNSAFE_BIND_WARNING =
  'WARNING: ggml\'s RPC protocol has no authentication and no encryption. Anyone who can reach this port can use this ' +
  'machine\'s memory and compute and send it data. Bind to a trusted network only (a firewall rule for the other ' +
  'machine, or keep 127.0.0.1 and use an SSH tunnel: see docs/rpc.md).';

export async function runWorker(flags: WorkerFlags, out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const host = flags.host ?? '127.0.0.1';
  const port = flags.port === undefined ? DEFAULT_WORKER_PORT : Number(flags.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write(`westfall worker: --port must be a port number (1-65535), not '${flags.port}'\n`);
    return 2;
  }
  let memoryBytes = 0;
  let threads = 0;
  try {
    if (flags.mem !== undefined) memoryBytes = parseSize(flags.mem);
    if (flags.threads !== undefined) {
      threads = Number(flags.threads);
      if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive whole number, not '${flags.threads}'`);
    }
  } catch (err) {
    process.stderr.write(`westfall worker: ${(err as Error).message}\n`);
    return 2;
  }
  if (!isLoopback(host)) process.stderr.write(`${UNSAFE_BIND_WARNING}\n`);
  try {
    await initNative();
    const { endpoint, devices } = await serveWorker({ host, port, threads, memoryBytes, ...(flags.device?.length ? { devices: flags.device } : {}) });
    out(`westfall worker listening on ${endpoint}`);
    for (const d of devices) out(`  ${d.name}: ${d.description}, ${(d.memoryFree / 2 ** 30).toFixed(1)} GiB offered of ${(d.memoryTotal / 2 ** 30).toFixed(1)} GiB`);
    out('Add this address under Settings → Workers on the machine that loads the model. Ctrl+C stops the worker.');
    // ggml's server runs on a native thread, which does not keep Node's event loop alive.
    setInterval(() => {}, 1 << 30);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(0));
    return -1;
  } catch (err) {
    process.stderr.write(`westfall worker: ${isWestfallError(err) ? err.message : String(err)}\n`);
    return 1;
  }
}

export function registerWorkerCommand(program: Command): Command {
  return program
    .command('worker')
    .description("lend this machine's memory and compute to a Westfall that splits a model over workers (ggml RPC)")
    .option('-H, --host <host>', 'address to listen on (default 127.0.0.1; anything else is reachable by others: see docs/rpc.md)')
    .option('-p, --port <n>', `port (default ${DEFAULT_WORKER_PORT})`)
    .option('--mem <size>', 'memory to offer, e.g. 8G (default: what the device has free)')
    .option('--device <name...>', 'devices to serve (default: the GPUs, else the CPU); `westfall doctor` lists them')
    .option('-t, --threads <n>', 'CPU threads for the CPU device')
    .action(async (flags: WorkerFlags) => {
      const code = await runWorker(flags);
      if (code >= 0) process.exit(code);
    });
}
