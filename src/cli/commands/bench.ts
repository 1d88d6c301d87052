// `westfall bench`: tunes the engine for this machine. Sweeps threads, batch and micro-batch sizes, GPU
// layers and flash attention (and KV-cache types once the engine can set them) on a model, prints a table,
// writes JSON, CSV, markdown and an SVG chart, recommends a configuration and optionally saves it as the
// profile the backend uses. Works offline with --synthetic: a model of a real geometry with random weights.
//
//   westfall bench --synthetic qwen2-0.5b --threads 1,2 --batch 128,512 --flash-attn on,off --save-profile
import { copyFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Command } from 'commander';
import { dataSubdirs, defaultDataDir, loadConfig } from '../../config/index.js';
import { WestfallError } from '../../errors.js';
import { defaultThreads } from '../../engine/options.js';
import {
  KV_CACHE_TYPES,
  SWEEP_DEFAULTS,
  SYNTHETIC_SHAPES,
  SYNTHETIC_SHAPE_NAMES,
  createProfile,
  ensureSyntheticShape,
  isSyntheticShapeName,
  recommend,
  runSweep,
  saveProfile,
  writeReports,
  type ConfigResult,
  type FlashAttention,
  type KvCacheType,
  type SweepOptions,
  benchSplit,
} from '../../tuning/index.js';

export const BENCH_EXIT_OK = 0;
export const BENCH_EXIT_FAILURE = 1;
export const BENCH_EXIT_USAGE = 2;

/** The options as commander hands them over (strings), or as a caller builds them. */
export interface BenchCommandOptions {
  model?: string;
  synthetic?: string;
  threads?: string | number[];
  batch?: string | number[];
  ubatch?: string | number[];
  gpuLayers?: string | number[];
  flashAttn?: string | FlashAttention[];
  kvType?: string | KvCacheType[];
  contextSize?: string | number;
  reps?: string | number;
  ppTokens?: string | number;
  tgTokens?: string | number;
  quick?: boolean;
  out?: string;
  saveProfile?: boolean;
  dataDir?: string;
  modelsDir?: string;
  /** Where --synthetic models are generated (default <models dir>/synthetic). */
  cacheDir?: string;
  progress?: boolean;
  inProcess?: boolean;
  /** Compare this model split over these workers (host:port list) with it all on this machine. */
  workers?: string | string[];
  /** Weights for the split: this machine first, then each worker. */
  split?: string | number[];
  skipLocal?: boolean;
}

export interface BenchIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  signal?: AbortSignal;
}

class UsageError extends Error {}

const OPTION_HELP: [flag: string, description: string][] = [
  ['-m, --model <path>', 'GGUF model to tune for (default: the configured WESTFALL_MODEL)'],
  ['--synthetic <shape>', `generate and tune a synthetic model of this geometry, offline: ${SYNTHETIC_SHAPE_NAMES.join(', ')}`],
  ['--threads <list>', 'thread counts, e.g. 1,2 (default: half the cores, the engine default and all cores)'],
  ['--batch <list>', 'batch sizes (logical), e.g. 256,512 (default 256,512,1024)'],
  ['--ubatch <list>', 'micro-batch sizes, combined with every batch size they do not exceed (default: min(batch, 512))'],
  ['--gpu-layers <list>', 'layers to offload, -1 or "all" for every layer (default 0, plus all when the build has GPU offload)'],
  ['--flash-attn <list>', 'on, off, auto (default on,off)'],
  ['--kv-type <list>', `KV-cache types (${KV_CACHE_TYPES.join(', ')}); only f16 until the engine can set them`],
  ['--context-size <n>', `context size for every configuration (default ${SWEEP_DEFAULTS.contextSize})`],
  ['--reps <n>', `rounds over all configurations; figures are medians (default ${SWEEP_DEFAULTS.repetitions})`],
  ['--pp-tokens <n>', `prompt length for prompt processing speed (default ${SWEEP_DEFAULTS.promptTokens})`],
  ['--tg-tokens <n>', `tokens generated for generation speed (default ${SWEEP_DEFAULTS.genTokens})`],
  ['--quick', 'a short sweep: engine-default threads and batch, flash attention on/off, 1 round, pp128, tg32'],
  ['--out <dir>', 'folder for sweep.json, sweep.csv, sweep.md, sweep.svg (default <data dir>/bench/<model>-<time>)'],
  ['--save-profile', 'save the recommended settings as the profile the backend uses for this model'],
  ['--data-dir <dir>', 'data directory (WESTFALL_DATA_DIR)'],
  ['--models-dir <dir>', 'models directory (WESTFALL_MODELS_DIR)'],
  ['--cache-dir <dir>', 'where --synthetic models are generated (default <models dir>/synthetic)'],
  ['--no-progress', 'no progress bar'],
  ['--in-process', 'measure in this process instead of one process per configuration (RSS figures overlap)'],
  ['--workers <list>', 'instead of a sweep: the model split over these workers (host:port,...) against it all on this machine, and whether the split is worth it'],
  ['--split <weights>', 'with --workers: weights of the split, this machine first (e.g. 1,2,2); default by free memory'],
  ['--skip-local', 'with --workers: no all-local run (a model that does not fit here)'],
];

/** Registers `westfall bench` on a commander program. */
export function registerBenchCommand(program: Command): Command {
  const cmd = program.command('bench').description('tune the engine for this machine: sweep settings, recommend the fastest, save a profile');
  for (const [flag, description] of OPTION_HELP) cmd.option(flag, description);
  cmd.action(async (opts: BenchCommandOptions) => {
    process.exitCode = await runBenchCommand(opts);
  });
  return cmd;
}

function parseArgv(argv: string[]): BenchCommandOptions {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      model: { type: 'string', short: 'm' },
      synthetic: { type: 'string' },
      threads: { type: 'string' },
      batch: { type: 'string' },
      ubatch: { type: 'string' },
      'gpu-layers': { type: 'string' },
      'flash-attn': { type: 'string' },
      'kv-type': { type: 'string' },
      'context-size': { type: 'string' },
      reps: { type: 'string' },
      'pp-tokens': { type: 'string' },
      'tg-tokens': { type: 'string' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
      'save-profile': { type: 'boolean' },
      'data-dir': { type: 'string' },
      'models-dir': { type: 'string' },
      'cache-dir': { type: 'string' },
      'no-progress': { type: 'boolean' },
      'in-process': { type: 'boolean' },
      workers: { type: 'string' },
      split: { type: 'string' },
      'skip-local': { type: 'boolean' },
    },
  });
  return {
    model: values.model,
    synthetic: values.synthetic,
    threads: values.threads,
    batch: values.batch,
    ubatch: values.ubatch,
    gpuLayers: values['gpu-layers'],
    flashAttn: values['flash-attn'],
    kvType: values['kv-type'],
    contextSize: values['context-size'],
    reps: values.reps,
    ppTokens: values['pp-tokens'],
    tgTokens: values['tg-tokens'],
    quick: values.quick,
    out: values.out,
    saveProfile: values['save-profile'],
    dataDir: values['data-dir'],
    modelsDir: values['models-dir'],
    cacheDir: values['cache-dir'],
    progress: values['no-progress'] ? false : undefined,
    inProcess: values['in-process'],
    workers: values.workers,
    split: values.split,
    skipLocal: values['skip-local'],
  };
}

function intList(v: string | number[] | undefined, name: string, min: number, allowAll = false): number[] | undefined {
  if (v === undefined) return undefined;
  const items = Array.isArray(v) ? v : v.split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`${name} needs at least one value`);
  return items.map((item) => {
    if (allowAll && item === 'all') return -1;
    const n = typeof item === 'number' ? item : Number(item);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name}: '${item}' is not an integer ≥ ${min}`);
    return n;
  });
}

function intOne(v: string | number | undefined, name: string, min: number): number | undefined {
  return intList(v === undefined ? undefined : typeof v === 'number' ? [v] : v, name, min)?.[0];
}

function enumList<T extends string>(v: string | T[] | undefined, name: string, allowed: readonly T[]): T[] | undefined {
  if (v === undefined) return undefined;
  const items = Array.isArray(v) ? v : v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const item of items) if (!allowed.includes(item as T)) throw new UsageError(`${name}: '${item}' is not one of ${allowed.join(', ')}`);
  return items as T[];
}

/** Thread counts worth trying: half the logical cores (often the physical ones), the engine default, all of them. */
export function defaultThreadCandidates(cores: number): number[] {
  return [...new Set([Math.max(1, Math.floor(cores / 2)), defaultThreads(), cores])].sort((a, b) => a - b);
}

function timestamp(d = new Date()): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** Columns padded for a terminal. */
function textTable(results: readonly ConfigResult[], recommendedId: string): string {
  const head = ['', 'configuration', 'pp t/s', 'tg t/s', 'TTFT ms', 'load ms', 'peak RSS MiB', 'KV MiB'];
  const rows = results.map((r) => [
    r.id === recommendedId ? '★' : '',
    r.label,
    ...(r.ok
      ? [
          r.ppTokensPerSecond.toFixed(1),
          r.tgTokensPerSecond.toFixed(1),
          r.ttftMs.toFixed(1),
          r.loadMs.toFixed(0),
          (r.memory.peakRssBytes / 2 ** 20).toFixed(0),
          (r.memory.kvBytes / 2 ** 20).toFixed(1),
        ]
      : [`failed: ${r.error ?? ''}`.slice(0, 60), '', '', '', '', '']),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/**
 * Runs `westfall bench` with argv (the arguments after `bench`) or already-parsed options. Returns the
 * exit code: 0 done, 1 failed, 2 usage error.
 */
export async function runBenchCommand(input: string[] | BenchCommandOptions = {}, io: BenchIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const out = (s: string) => io.stdout.write(s);
  const err = (s: string) => io.stderr.write(s);
  let opts: BenchCommandOptions;
  let sweep: SweepOptions;
  let dataDir: string;
  let modelPath: string;
  try {
    opts = Array.isArray(input) ? parseArgv(input) : input;
    if (opts.model && opts.synthetic) throw new UsageError('give either --model or --synthetic, not both');

    // Where things go: the configuration (flags > environment > .env > defaults), or plain defaults
    // when some unrelated setting is invalid.
    let configuredModel: string | null = null;
    let modelsDir: string;
    try {
      const { config } = loadConfig({
        overrides: { ...(opts.dataDir ? { WESTFALL_DATA_DIR: opts.dataDir } : {}), ...(opts.modelsDir ? { WESTFALL_MODELS_DIR: opts.modelsDir } : {}) },
      });
      dataDir = config.dataDir;
      modelsDir = config.modelsDir;
      configuredModel = config.model;
    } catch {
      dataDir = path.resolve(opts.dataDir ?? defaultDataDir());
      modelsDir = path.resolve(opts.modelsDir ?? dataSubdirs(dataDir).modelsDir);
    }

    if (opts.synthetic) {
      if (!isSyntheticShapeName(opts.synthetic)) throw new UsageError(`--synthetic: unknown shape '${opts.synthetic}'; known: ${SYNTHETIC_SHAPE_NAMES.join(', ')}`);
      const shape = SYNTHETIC_SHAPES[opts.synthetic];
      const cacheDir = path.resolve(opts.cacheDir ?? path.join(modelsDir, 'synthetic'));
      const r = await ensureSyntheticShape(opts.synthetic, { modelsDir: cacheDir, log: (l) => err(`${l}\n`) });
      if (!r.created) err(`using ${r.path} (${shape.description}, already generated)\n`);
      modelPath = r.path;
    } else {
      const m = opts.model ?? configuredModel;
      if (!m) throw new UsageError('name a model with --model PATH or --synthetic SHAPE (or configure WESTFALL_MODEL)');
      const inModels = path.resolve(modelsDir, m);
      modelPath = existsSync(path.resolve(m)) || !existsSync(inModels) ? path.resolve(m) : inModels;
    }

    const quick = opts.quick ?? false;
    const cores = (await import('node:os')).availableParallelism();
    sweep = {
      model: modelPath,
      threads: intList(opts.threads, '--threads', 1) ?? (quick ? [defaultThreads()] : defaultThreadCandidates(cores)),
      batchSizes: intList(opts.batch, '--batch', 1) ?? (quick ? [512] : [256, 512, 1024]),
      ubatchSizes: intList(opts.ubatch, '--ubatch', 1),
      gpuLayers: intList(opts.gpuLayers, '--gpu-layers', -1, true),
      flashAttention: enumList<FlashAttention>(opts.flashAttn, '--flash-attn', ['on', 'off', 'auto']) ?? ['on', 'off'],
      kvCacheTypes: enumList<KvCacheType>(opts.kvType, '--kv-type', KV_CACHE_TYPES),
      contextSize: intOne(opts.contextSize, '--context-size', 64),
      repetitions: intOne(opts.reps, '--reps', 1) ?? (quick ? 1 : SWEEP_DEFAULTS.repetitions),
      promptTokens: intOne(opts.ppTokens, '--pp-tokens', 1) ?? (quick ? 128 : SWEEP_DEFAULTS.promptTokens),
      genTokens: intOne(opts.tgTokens, '--tg-tokens', 2) ?? (quick ? 32 : SWEEP_DEFAULTS.genTokens),
      isolation: opts.inProcess ? 'none' : 'process',
      progress: opts.progress === false ? false : 'auto',
    };
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith?.('ERR_PARSE_ARGS')) {
      err(`westfall bench: ${(e as Error).message}\n`);
      return BENCH_EXIT_USAGE;
    }
    err(`westfall bench: ${(e as Error).message}\n`);
    return BENCH_EXIT_FAILURE;
  }

  if (opts.workers !== undefined) return runSplitBench(opts, sweep, out, err);

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  io.signal?.addEventListener('abort', onSigint, { once: true });
  process.once('SIGINT', onSigint);
  try {
    let announced = false;
    const report = await runSweep({
      ...sweep,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'note') err(`note: ${e.message}\n`);
        if (e.type === 'start' && !announced) {
          announced = true;
          err(`tuning ${path.basename(modelPath)}: ${e.configurations} configurations × ${e.rounds} round${e.rounds === 1 ? '' : 's'}\n`);
        }
        // Without a terminal there is no bar: one line per finished configuration instead.
        if (e.type === 'config-done' && !process.stderr.isTTY) err(`  round ${e.round + 1}: ${e.id} ${e.ok ? 'done' : `failed: ${e.error}`}\n`);
      },
    });
    const okCount = report.results.filter((r) => r.ok).length;
    const outDir = path.resolve(opts.out ?? path.join(dataDir, 'bench', `${report.model.key}-${timestamp()}`));
    if (okCount === 0) {
      const files = await writeReports(outDir, report, null);
      out(`${textTable(report.results, '')}\n\nevery configuration failed; see ${files.markdown}\n`);
      return BENCH_EXIT_FAILURE;
    }
    const rec = recommend(report.results);
    const files = await writeReports(outDir, report, rec);
    const lines = [
      textTable(report.results, rec.best.id),
      '',
      `recommended: ${rec.reason}`,
      rec.speedup && rec.baseline
        ? `vs ${rec.baseline.label}, same run: generation ${rec.speedup.tg.toFixed(2)}×, prompt ${rec.speedup.pp.toFixed(2)}×, TTFT ${rec.speedup.ttft.toFixed(2)}×`
        : 'the engine defaults were not measured (no speedup figure)',
      ...report.notes.map((n) => `note: ${n}`),
      '',
      `reports: ${files.markdown}`,
      `         ${files.json}`,
      `         ${files.csv}`,
      `         ${files.svg}`,
    ];
    if (opts.saveProfile) {
      const chart = `${report.model.key}.svg`;
      const profile = createProfile(report, rec, { chart });
      const file = await saveProfile(dataDir, profile);
      await copyFile(files.svg, path.join(path.dirname(file), chart));
      lines.push(`profile: ${file}`);
    } else {
      lines.push('(run again with --save-profile to make the backend use these settings)');
    }
    out(`${lines.join('\n')}\n`);
    return BENCH_EXIT_OK;
  } catch (e) {
    if (e instanceof WestfallError && e.code === 'aborted') {
      err('westfall bench: interrupted\n');
      return 130;
    }
    err(`westfall bench: ${(e as Error).message}\n`);
    return BENCH_EXIT_FAILURE;
  } finally {
    process.removeListener('SIGINT', onSigint);
    io.signal?.removeEventListener('abort', onSigint);
  }
}

/** `westfall bench --workers`: the model split over workers against it all here, and a verdict. */
async function runSplitBench(opts: BenchCommandOptions, sweep: SweepOptions, out: (s: string) => unknown, err: (s: string) => unknown): Promise<number> {
  let workers: string[];
  let split: number[] | undefined;
  try {
    workers = (Array.isArray(opts.workers) ? opts.workers : String(opts.workers).split(',')).map((w) => w.trim()).filter(Boolean);
    if (workers.length === 0) throw new UsageError('--workers needs at least one host:port');
    if (opts.split !== undefined) {
      split = (Array.isArray(opts.split) ? opts.split : String(opts.split).split(',')).map((x) => Number(x));
      if (split.some((x) => !(x >= 0))) throw new UsageError('--split takes non-negative numbers, this machine first: e.g. 1,2,2');
    }
  } catch (e) {
    err(`westfall bench: ${(e as Error).message}\n`);
    return BENCH_EXIT_USAGE;
  }
  try {
    const r = await benchSplit({
      modelPath: sweep.model,
      workers,
      ...(split ? { split } : {}),
      promptTokens: sweep.promptTokens,
      genTokens: sweep.genTokens,
      repetitions: sweep.repetitions,
      ...(sweep.threads?.length === 1 ? { threads: sweep.threads[0] } : {}),
      skipLocal: opts.skipLocal ?? false,
      log: (l) => err(`${l}\n`),
    });
    const f = (x: number) => x.toFixed(1).padStart(8);
    const lines = [
      `${path.basename(r.model)}: layers ${r.layers.join(' / ')} (this machine / ${r.workers.join(' / ')})`,
      '                 pp t/s   tg t/s',
      ...(r.local ? [`all here       ${f(r.local.ppTokensPerSecond)} ${f(r.local.tgTokensPerSecond)}`] : []),
      `split          ${f(r.split.ppTokensPerSecond)} ${f(r.split.tgTokensPerSecond)}`,
      ...(r.ratio ? [`split / here   ${r.ratio.ppTokensPerSecond.toFixed(2).padStart(7)}× ${r.ratio.tgTokensPerSecond.toFixed(2).padStart(7)}×`] : []),
      '',
      r.verdict,
    ];
    out(`${lines.join('\n')}\n`);
    return BENCH_EXIT_OK;
  } catch (e) {
    err(`westfall bench: ${(e as Error).message}\n`);
    return BENCH_EXIT_FAILURE;
  }
}
