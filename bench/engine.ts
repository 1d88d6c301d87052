// npm run bench:engine — the engine against llama.cpp's llama-bench (same vendored source, same CPU
// flags) and node-llama-cpp 3.22.1, all measured in this run on the Q4_0 Qwen2.5-0.5B-shaped model.
//   tsx bench/engine.ts [--threads 2] [--model PATH] [--out docs/benchmarks/engine.md]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MODELS_DIR, SYNTHETIC_FILES, generateTestModels, getTokenCount, readGgufHeader } from '../src/gguf/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    model: { type: 'string' },
    out: { type: 'string', default: path.join(root, 'docs/benchmarks/engine.md') },
  },
});
const threads = Number(values.threads);

interface Figures {
  loadMs: number;
  pp512: number;
  tg128: number;
  ttft32Ms: number;
  peakRssMb: number;
}

function sh(cmd: string, args: string[], opts: { quiet?: boolean; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', opts.quiet ? 'pipe' : 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr ?? ''}`);
  return r.stdout;
}

function worker(engine: string, model: string, vocab: number): Figures {
  const out = sh(process.execPath, ['--import', 'tsx', path.join(root, 'bench/engine-worker.ts'), engine, model, String(threads), String(vocab)]);
  return JSON.parse(out.trim().split('\n').at(-1)!) as Figures;
}

/** hugePages: llama-bench with glibc's malloc advising huge pages (not its default), for comparison. */
function llamaBench(model: string, hugePages = false): { pp512: number; tg128: number } {
  const bin = path.join(root, 'build/llama-tools/bin/llama-bench');
  if (!existsSync(bin)) sh(process.execPath, [path.join(root, 'scripts/build-llama-tools.mjs'), 'llama-bench']);
  const env = hugePages ? { ...process.env, GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' } : process.env;
  const json = sh(bin, ['-m', model, '-t', String(threads), '-p', '512', '-n', '128', '-b', '512', '-ub', '512', '-r', '3', '-o', 'json'], { quiet: true, env });
  const rows = JSON.parse(json) as { n_prompt: number; n_gen: number; avg_ts: number }[];
  return {
    pp512: rows.find((r) => r.n_prompt === 512 && r.n_gen === 0)!.avg_ts,
    tg128: rows.find((r) => r.n_gen === 128 && r.n_prompt === 0)!.avg_ts,
  };
}

const modelPath = values.model ?? path.join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.bench);
if (!values.model) await generateTestModels({ outDir: DEFAULT_MODELS_DIR, only: 'bench', log: (l) => console.error(l) });
const vocab = getTokenCount(await readGgufHeader(modelPath)) ?? 32000;

console.error(`model ${modelPath}, ${threads} threads`);
console.error('llama-bench …');
const lb = llamaBench(modelPath);
console.error('westfall …');
const wf = worker('westfall', modelPath, vocab);
console.error('node-llama-cpp …');
const nl = worker('node-llama-cpp', modelPath, vocab);
// What huge pages are worth, measured both ways: our engine with them off, llama-bench with them on.
console.error('westfall with 4 KiB pages, llama-bench with huge pages …');
const wf4k = worker('westfall-4k-pages', modelPath, vocab);
const lbHuge = llamaBench(modelPath, true);

const f = (x: number, d = 1) => x.toFixed(d);
const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
const rows: [string, string, string, string, string, string][] = [
  ['pp512 (tokens/s)', f(wf.pp512), f(lb.pp512), f(nl.pp512), ratio(wf.pp512, lb.pp512), ratio(wf.pp512, nl.pp512)],
  ['tg128 (tokens/s, with sampling)', f(wf.tg128), f(lb.tg128), f(nl.tg128), ratio(wf.tg128, lb.tg128), ratio(wf.tg128, nl.tg128)],
  ['TTFT, 32-token prompt (ms)', f(wf.ttft32Ms), '—', f(nl.ttft32Ms), '—', ratio(wf.ttft32Ms, nl.ttft32Ms)],
  ['load time (ms)', f(wf.loadMs), '—', f(nl.loadMs), '—', ratio(wf.loadMs, nl.loadMs)],
  ['peak RSS (MiB)', f(wf.peakRssMb, 0), '—', f(nl.peakRssMb, 0), '—', ratio(wf.peakRssMb, nl.peakRssMb)],
];
const header = ['metric', 'westfall', 'llama-bench', 'node-llama-cpp 3.22.1', 'westfall / llama-bench', 'westfall / node-llama-cpp'];
const table = [header, header.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const pagesHeader = ['huge pages', 'westfall (default: on)', 'westfall, hugePages: false', 'on / off', 'llama-bench with glibc.malloc.hugetlb=1', 'llama-bench (default: off)', 'on / off'];
const pagesRows = [
  ['pp512 (tokens/s)', f(wf.pp512), f(wf4k.pp512), ratio(wf.pp512, wf4k.pp512), f(lbHuge.pp512), f(lb.pp512), ratio(lbHuge.pp512, lb.pp512)],
  ['tg128 (tokens/s)', f(wf.tg128), f(wf4k.tg128), ratio(wf.tg128, wf4k.tg128), f(lbHuge.tg128), f(lb.tg128), ratio(lbHuge.tg128, lb.tg128)],
  ['load time (ms)', f(wf.loadMs), f(wf4k.loadMs), ratio(wf.loadMs, wf4k.loadMs), '—', '—', '—'],
];
const pagesTable = [pagesHeader, pagesHeader.map(() => '---'), ...pagesRows].map((r) => `| ${r.join(' | ')} |`).join('\n');
const checks = [
  ['pp512 ≥ 0.97× llama-bench', wf.pp512 >= 0.97 * lb.pp512],
  ['tg128 ≥ 0.95× llama-bench', wf.tg128 >= 0.95 * lb.tg128],
  ['tg128 ≥ 1.3× node-llama-cpp', wf.tg128 >= 1.3 * nl.tg128],
  ['TTFT ≤ node-llama-cpp', wf.ttft32Ms <= nl.ttft32Ms],
  ['load time ≤ node-llama-cpp', wf.loadMs <= nl.loadMs],
  ['peak RSS ≤ node-llama-cpp', wf.peakRssMb <= nl.peakRssMb],
] as const;
const machine = `${cpus()[0]?.model ?? 'cpu'} (${cpus().length} logical cores), ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
const report = [
  '# Engine benchmark',
  '',
  `Generated by \`npm run bench:engine\` on ${new Date().toISOString().slice(0, 10)}; ${machine}; ${threads} threads;`,
  `model \`${path.basename(modelPath)}\` (synthetic Qwen2.5-0.5B shape, Q4_0, random weights). Medians of 3 runs`,
  '(TTFT: 11). llama-bench is built from the same vendored llama.cpp with the same CPU flags',
  '(`scripts/build-llama-tools.mjs`); it reports no TTFT, load time or RSS, so those compare with node-llama-cpp.',
  'Our tg128 includes sampling with the default chain (top-k 40, top-p 0.9, temperature 0.7); llama-bench\'s does not sample.',
  '',
  table,
  '',
  ...checks.map(([name, ok]) => `- ${ok ? 'met' : 'NOT met'}: ${name}`),
  '',
  'Our engine backs its CPU buffers with transparent huge pages on Linux (docs/engine.md); llama.cpp\'s tools do',
  'not by default, but get them from glibc when told to. Both ways, measured in this run:',
  '',
  pagesTable,
  '',
].join('\n');
mkdirSync(path.dirname(values.out!), { recursive: true });
writeFileSync(values.out!, report);
mkdirSync(path.join(root, 'bench/results'), { recursive: true });
writeFileSync(path.join(root, 'bench/results/engine.json'), JSON.stringify({ threads, model: modelPath, westfall: wf, llamaBench: lb, nodeLlamaCpp: nl, westfall4kPages: wf4k, llamaBenchHugePages: lbHuge }, null, 2));
console.log(report);
