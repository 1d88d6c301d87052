// npm run bench:rpc — a model split over two `westfall worker` processes on loopback against the same
// model all in this process, measured alternately in one run (src/tuning/split.ts). Loopback has no
// network cost, so this is the floor of what a split costs: the RPC protocol's own overhead.
//   tsx bench/rpc.ts [--threads 2] [--reps 5] [--pp 256] [--tg 64] [--out docs/benchmarks/rpc.md]
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MODELS_DIR, SYNTHETIC_FILES, generateTestModels } from '../src/gguf/index.js';
import { benchSplit } from '../src/tuning/split.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    reps: { type: 'string', default: '5' },
    pp: { type: 'string', default: '256' },
    tg: { type: 'string', default: '64' },
    out: { type: 'string', default: path.join(root, 'docs/benchmarks/rpc.md') },
  },
});
const THREADS = Number(values.threads);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function worker(): Promise<{ child: ChildProcess; endpoint: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/index.ts'), 'worker', '--port', String(port), '--threads', String(THREADS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('listening on')) resolve();
    });
    child.once('exit', (c) => reject(new Error(`worker exited with ${c}`)));
  });
  return { child, endpoint: `127.0.0.1:${port}` };
}

const model = path.join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.bench);
if (!existsSync(model)) await generateTestModels({ outDir: DEFAULT_MODELS_DIR, only: 'bench', log: (l) => console.error(l) });
const workers = await Promise.all([worker(), worker()]);
try {
  const r = await benchSplit({
    modelPath: model,
    workers: workers.map((w) => w.endpoint),
    threads: THREADS,
    repetitions: Number(values.reps),
    promptTokens: Number(values.pp),
    genTokens: Number(values.tg),
    log: (l) => console.error(l),
  });
  const f = (x: number) => x.toFixed(1);
  const md = `# Split over workers (ggml RPC) on loopback

\`npm run bench:rpc\`, ${new Date().toISOString().slice(0, 10)}, ${cpus()[0]?.model ?? 'CPU'} (${cpus().length} cores), ${THREADS} threads
in this process and in each of two \`westfall worker\` processes; ${path.basename(model)} (synthetic weights, Qwen2.5-0.5B
geometry, Q4_0); prompt ${values.pp} tokens, ${values.tg} generated; median of ${values.reps} alternating rounds after a warm-up.
Layers: ${r.layers[0]} here, ${r.layers.slice(1).join(' and ')} on the workers (by free memory).

| | prompt t/s | generation t/s |
|---|---:|---:|
| all in this process | ${f(r.local!.ppTokensPerSecond)} | ${f(r.local!.tgTokensPerSecond)} |
| split over two workers | ${f(r.split.ppTokensPerSecond)} | ${f(r.split.tgTokensPerSecond)} |
| split / all here | ${r.ratio!.ppTokensPerSecond.toFixed(2)}× | ${r.ratio!.tgTokensPerSecond.toFixed(2)}× |

${r.verdict}

On loopback the three processes share this machine's cores, so the split cannot be faster here; what it
shows is the protocol's cost per token (a round trip per layer group and per token). Over a real network
add its latency per token: a split is for models that do not fit on one machine, not for speed.
`;
  writeFileSync(values.out!, md);
  console.log(md);
} finally {
  for (const w of workers) w.child.kill('SIGTERM');
}
