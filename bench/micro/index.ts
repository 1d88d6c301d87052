// npm run bench:micro [-- <suite name filter>] — tinybench micro-benchmarks of our hot paths; prints one
// table and writes bench/results/micro.json. WESTFALL_MICRO_TIME sets the time budget per task (ms).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { Bench } from 'tinybench';
import { ROOT, createEnv, disposeEnv, type MicroSuite, type MicroTask } from './common.js';
import { suite as gguf } from './gguf.bench.js';
import { suite as grammar } from './grammar.bench.js';
import { suite as sampling } from './sampling.bench.js';
import { suite as template } from './template.bench.js';
import { suite as tokenize } from './tokenize.bench.js';
import { suite as ws } from './ws.bench.js';

const SUITES: MicroSuite[] = [tokenize, sampling, grammar, template, ws, gguf];
const filter = process.argv.slice(2).join(' ').toLowerCase();
const time = Number(process.env.WESTFALL_MICRO_TIME ?? 400);

interface Row {
  suite: string;
  task: string;
  unit: string;
  meanUs: number;
  p50Us: number;
  p99Us: number;
  opsPerSecond: number;
  rmePercent: number;
  samples: number;
}

function fmtTime(us: number): string {
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  if (us >= 1) return `${us.toFixed(2)} µs`;
  return `${(us * 1000).toFixed(0)} ns`;
}

function fmtOps(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(1);
}

const env = createEnv();
const rows: Row[] = [];
for (const s of SUITES) {
  if (filter && !s.name.toLowerCase().includes(filter)) continue;
  process.stderr.write(`${s.name} …\n`);
  const { tasks, cleanup } = await s.setup(env);
  const bench = new Bench({ name: s.name, time, warmupTime: Math.min(100, time / 4), throws: true });
  const byName = new Map<string, MicroTask>();
  for (const t of tasks) {
    byName.set(t.name, t);
    bench.add(t.name, t.fn);
  }
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${s.name} / ${task.name}: ${r.state}`);
    const t = byName.get(task.name)!;
    const k = t.opsPerCall ?? 1;
    rows.push({
      suite: s.name,
      task: task.name,
      unit: t.unit ?? 'call',
      meanUs: (r.latency.mean * 1000) / k,
      p50Us: (r.latency.p50 * 1000) / k,
      p99Us: (r.latency.p99 * 1000) / k,
      opsPerSecond: (1000 / r.latency.mean) * k,
      rmePercent: r.latency.rme,
      samples: r.latency.samplesCount,
    });
  }
  await cleanup?.();
}
await disposeEnv();

const head = ['suite', 'task', 'per', 'mean', 'p50', 'p99', 'ops/s', '±rme', 'samples'];
const cells = rows.map((r) => [r.suite, r.task, r.unit, fmtTime(r.meanUs), fmtTime(r.p50Us), fmtTime(r.p99Us), fmtOps(r.opsPerSecond), `${r.rmePercent.toFixed(1)}%`, String(r.samples)]);
const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
const line = (c: string[]) => c.map((x, i) => (i >= 3 ? x.padStart(widths[i]!) : x.padEnd(widths[i]!))).join('  ').trimEnd();
console.log([line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n'));
console.log(`\n${cpus()[0]?.model ?? 'cpu'} (${cpus().length} logical cores); ${time} ms per task (WESTFALL_MICRO_TIME); medians and p99 of tinybench samples`);
mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
writeFileSync(path.join(ROOT, 'bench/results/micro.json'), JSON.stringify({ date: new Date().toISOString(), timeMs: time, rows }, null, 2));
process.exit(0);
