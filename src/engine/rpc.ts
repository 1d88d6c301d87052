// Workers: other machines' memory and compute through ggml's RPC backend (docs/rpc.md). ggml's client
// aborts the whole process when a worker it connects to does not answer, so nothing here hands an
// endpoint to the addon before our own probe has spoken the protocol's HELLO with it; and a model split
// over workers runs in a child process (src/server/models/worker-host.ts), since a worker lost in the
// middle of a generation aborts its client too.
import { Socket, createServer } from 'node:net';
import { WestfallError } from '../errors.js';
import { native } from './native.js';

/** The protocol version of the pinned ggml (ggml/include/ggml-rpc.h). */
export const RPC_PROTOCOL = { major: 7, minor: 0 } as const;
export const DEFAULT_WORKER_PORT = 50052;

const CMD_GET_DEVICE_MEMORY = 11;
const CMD_HELLO = 14;
const CMD_DEVICE_COUNT = 15;
const CONN_CAPS_SIZE = 24;

export interface Endpoint {
  host: string;
  port: number;
}

/** `host:port` (a bare host gets the default port); IPv6 hosts in brackets. */
export function parseEndpoint(text: string): Endpoint {
  const t = text.trim();
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/]+))(?::(\d{1,5}))?$/.exec(t);
  const port = m?.[3] === undefined ? DEFAULT_WORKER_PORT : Number(m[3]);
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new WestfallError('invalid_params', `'${text}' is not a worker address: write host:port, e.g. 192.168.1.20:${DEFAULT_WORKER_PORT}`, {
      details: { worker: text },
    });
  }
  return { host: m[1] ?? m[2]!, port };
}

export function formatEndpoint(e: Endpoint): string {
  return e.host.includes(':') ? `[${e.host}]:${e.port}` : `${e.host}:${e.port}`;
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

export interface WorkerDevice {
  index: number;
  memoryFree: number;
  memoryTotal: number;
}

export interface WorkerProbe {
  endpoint: string;
  version: string;
  devices: WorkerDevice[];
}

/** Reads exact byte counts from a socket, failing on close, error or timeout. */
class Reader {
  #buf = Buffer.alloc(0);
  #want: { n: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | null = null;
  #error: Error | null = null;

  constructor(socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, d]);
      this.#pump();
    });
    const fail = (e: Error) => {
      this.#error ??= e;
      this.#pump();
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  read(n: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.#want = { n, resolve, reject };
      this.#pump();
    });
  }

  #pump(): void {
    const w = this.#want;
    if (!w) return;
    if (this.#buf.length >= w.n) {
      this.#want = null;
      const out = this.#buf.subarray(0, w.n);
      this.#buf = this.#buf.subarray(w.n);
      w.resolve(out);
    } else if (this.#error) {
      this.#want = null;
      w.reject(this.#error);
    }
  }
}

function command(cmd: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9);
  head.writeUInt8(cmd, 0);
  head.writeBigUInt64LE(BigInt(payload.length), 1);
  return Buffer.concat([head, payload]);
}

async function response(reader: Reader, size: number): Promise<Buffer> {
  const n = Number((await reader.read(8)).readBigUInt64LE(0));
  if (n !== size) throw new Error(`unexpected reply of ${n} bytes (expected ${size})`);
  return reader.read(size);
}

/**
 * Speaks to a worker as ggml's client would (HELLO, device count, each device's memory) and hangs up.
 * ggml's server takes one client at a time: a worker that accepts the connection but does not answer
 * HELLO is serving someone else (`rpc_worker_busy`).
 */
export async function probeWorker(endpoint: string, options: { timeoutMs?: number } = {}): Promise<WorkerProbe> {
  const ep = parseEndpoint(endpoint);
  const name = formatEndpoint(ep);
  const timeoutMs = options.timeoutMs ?? 5000;
  const socket = new Socket();
  const reader = new Reader(socket);
  let connected = false;
  const timer = setTimeout(() => socket.destroy(new Error('timeout')), timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('connection closed')));
      socket.connect(ep.port, ep.host);
    });
    connected = true;
    socket.setNoDelay(true);
    socket.write(command(CMD_HELLO, Buffer.alloc(CONN_CAPS_SIZE)));
    const hello = await response(reader, 4 + CONN_CAPS_SIZE);
    const [major, minor, patch] = [hello[0]!, hello[1]!, hello[2]!];
    const version = `${major}.${minor}.${patch}`;
    if (major !== RPC_PROTOCOL.major || minor > RPC_PROTOCOL.minor) {
      throw new WestfallError(
        'rpc_worker_incompatible',
        `the worker at ${name} speaks RPC protocol ${version}, this build ${RPC_PROTOCOL.major}.${RPC_PROTOCOL.minor}: run the same Westfall version on both machines`,
        { details: { worker: name, version } },
      );
    }
    socket.write(command(CMD_DEVICE_COUNT, Buffer.alloc(0)));
    const count = (await response(reader, 4)).readUInt32LE(0);
    const devices: WorkerDevice[] = [];
    for (let i = 0; i < count; i++) {
      const req = Buffer.alloc(4);
      req.writeUInt32LE(i, 0);
      socket.write(command(CMD_GET_DEVICE_MEMORY, req));
      const mem = await response(reader, 16);
      devices.push({ index: i, memoryFree: Number(mem.readBigUInt64LE(0)), memoryTotal: Number(mem.readBigUInt64LE(8)) });
    }
    return { endpoint: name, version, devices };
  } catch (err) {
    if (err instanceof WestfallError) throw err;
    const reason = (err as Error).message;
    if (connected && reason === 'timeout') {
      throw new WestfallError('rpc_worker_busy', `the worker at ${name} accepted the connection but did not answer: it is serving another client (a worker serves one at a time)`, {
        details: { worker: name },
      });
    }
    throw new WestfallError('rpc_worker_unreachable', `the worker at ${name} cannot be reached (${reason}); is \`westfall worker\` running there, and is the port open?`, {
      cause: err,
      details: { worker: name },
    });
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

export interface RpcDevice {
  /** ggml's device name, e.g. RPC0: what a model load's `devices` names. */
  name: string;
  /** The worker's endpoint. */
  description: string;
  memoryFree: number;
  memoryTotal: number;
}

/** Probes each worker, then registers its devices with ggml's client. */
export async function addWorkers(endpoints: readonly string[], options: { timeoutMs?: number } = {}): Promise<{ endpoint: string; devices: RpcDevice[] }[]> {
  const probes = await Promise.all(endpoints.map((e) => probeWorker(e, options)));
  return probes.map((p) => ({ endpoint: p.endpoint, devices: native().rpcAddServer(p.endpoint) }));
}

export interface SplitPlan {
  /** Layers (of the model's repeating layers) given to the devices; the rest stay on the local CPU. */
  gpuLayers: number;
  /** Each device's share of the offloaded layers, in `devices` order. */
  tensorSplit: number[];
  /** Layers per place, for display: local CPU first, then each device. */
  layers: number[];
}

/**
 * Spreads `layerCount` layers over the local CPU and the devices in proportion to their free memory, or
 * to `weights` when given (local first, then one per device).
 */
export function planSplit(layerCount: number, localFree: number, deviceFree: readonly number[], weights?: readonly number[]): SplitPlan {
  const w = weights ?? [localFree, ...deviceFree];
  if (w.length !== deviceFree.length + 1 || w.some((x) => !(x >= 0)) || !w.some((x) => x > 0)) {
    throw new WestfallError('invalid_params', `a split needs ${deviceFree.length + 1} non-negative weights (this machine first, then each worker), not all zero`);
  }
  const total = w.reduce((a, b) => a + b, 0);
  // Largest remainder, so the counts add up to layerCount exactly.
  const exact = w.map((x) => (x / total) * layerCount);
  const layers = exact.map(Math.floor);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0]);
  for (let k = 0; layers.reduce((a, b) => a + b, 0) < layerCount; k++) layers[order[k % order.length]![1]]! += 1;
  const offloaded = layerCount - layers[0]!;
  return { gpuLayers: offloaded, tensorSplit: layers.slice(1), layers };
}

export interface ServeWorkerOptions {
  host?: string;
  port?: number;
  threads?: number;
  devices?: string[];
  memoryBytes?: number;
}

/** Frees or refuses a port before ggml's server tries it (ggml's own failure is only a line on stderr). */
async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new WestfallError('invalid_params', err.code === 'EADDRINUSE' ? `port ${port} on ${host} is in use: choose another with --port` : `cannot listen on ${host}:${port}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}

/** Starts ggml's RPC server in this process and waits until it answers. */
export async function serveWorker(options: ServeWorkerOptions = {}): Promise<{ endpoint: string; devices: { name: string; description: string; memoryFree: number; memoryTotal: number }[] }> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_WORKER_PORT;
  await assertPortFree(host, port);
  const endpoint = formatEndpoint({ host, port });
  const devices = native().rpcServe({
    endpoint,
    threads: options.threads ?? 0,
    devices: options.devices ?? [],
    memoryBytes: options.memoryBytes ?? 0,
  });
  const probeHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  for (let attempt = 0; ; attempt++) {
    try {
      await probeWorker(formatEndpoint({ host: probeHost, port }), { timeoutMs: 10_000 });
      return { endpoint, devices };
    } catch (err) {
      if (attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
