// The tuning sweep: every combination of the requested settings, measured in rounds. Each round runs
// every configuration once, in a rotated order, each in a fresh process; the result of a configuration
// is the median over rounds. Interleaving rounds spreads slow drifts of a shared machine (another job
// starting, thermal throttling) over all configurations instead of penalizing whichever ran during them.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import cliProgress from 'cli-progress';
import { WestfallError } from '../errors.js';
import { systemInfo } from '../engine/index.js';
import { autoModelSettings } from '../engine/memory.js';
import { defaultThreads } from '../engine/options.js';
import { readGgufHeader, type GgufHeader } from '../gguf/index.js';
import { engineSupportsKvCacheType, measureConfig, type MeasureJob, type MeasureOutcome, type MeasureStep } from './measure.js';
import { describeModel, estimateKvBytes } from './model-id.js';
import { median, summarize } from './stats.js';
import {
  sweepConfigSchema,
  type ConfigResult,
  type FlashAttention,
  type KvCacheType,
  type MachineInfo,
  type SweepConfig,
  type SweepReport,
} from './types.js';

export interface SweepOptions {
  /** GGUF file to tune for. */
  model: string;
  threads?: number[];
  batchSizes?: number[];
  /** Micro-batch sizes; each is combined with every batch size it does not exceed. Default: min(batch, 512). */
  ubatchSizes?: number[];
  /** -1 offloads every layer. Values other than 0 are dropped (with a note) on a build without GPU offload. */
  gpuLayers?: number[];
  flashAttention?: FlashAttention[];
  /** KV-cache element types; only 'f16' unless the engine's createContext accepts typeK/typeV. */
  kvCacheTypes?: KvCacheType[];
  contextSize?: number;
  /** Prompt length for prompt processing speed (default 512). */
  promptTokens?: number;
  /** Tokens generated for generation speed (default 128). */
  genTokens?: number;
  /** Prompt length for time to first token (default 32). */
  ttftPromptTokens?: number;
  /** Rounds over all configurations; each configuration's figures are medians over them (default 3). */
  repetitions?: number;
  warmup?: boolean;
  /** Also measure what the engine does with no settings (the baseline for the speedup; default true). */
  includeDefaults?: boolean;
  /** 'process' (default): each configuration in a fresh process; 'none': in this process (RSS figures then overlap). */
  isolation?: 'process' | 'none';
  /** Draw a progress bar with an ETA on stderr: true, false, or 'auto' (when stderr is a terminal; default). */
  progress?: boolean | 'auto';
  onEvent?: (event: SweepEvent) => void;
  signal?: AbortSignal;
  seed?: number;
  /** Per configuration and round (default 15 minutes). */
  workerTimeoutMs?: number;
}

export type SweepEvent =
  | { type: 'start'; configurations: number; rounds: number; steps: number }
  | { type: 'config-start'; id: string; label: string; round: number }
  | { type: 'step'; id: string; step: MeasureStep; done: number; total: number; etaMs: number | null }
  | { type: 'config-done'; id: string; round: number; ok: boolean; error: string | null }
  | { type: 'note'; message: string };

export const SWEEP_DEFAULTS = {
  contextSize: 4096,
  promptTokens: 512,
  genTokens: 128,
  ttftPromptTokens: 32,
  repetitions: 3,
} as const;

/** What the engine uses when nothing is set: Model.createContext's defaults, loadModel's gpuLayers 0. */
/** What the backend runs with when nothing is tuned; `gpuLayers` is its automatic choice (0 without a GPU). */
export function defaultConfig(contextSize: number = SWEEP_DEFAULTS.contextSize, gpuLayers = 0): SweepConfig {
  return { threads: defaultThreads(), batchSize: 512, ubatchSize: 512, gpuLayers, flashAttention: 'auto', kvCacheType: 'f16', contextSize };
}

export function configId(c: SweepConfig): string {
  return `t${c.threads}-b${c.batchSize}-ub${c.ubatchSize}-fa${c.flashAttention}-gl${c.gpuLayers}-kv${c.kvCacheType}-c${c.contextSize}`;
}

export function configLabel(c: SweepConfig, opts: { showKv?: boolean; showGpu?: boolean } = {}): string {
  const parts = [`t${c.threads}`, `b${c.batchSize}/${c.ubatchSize}`, `fa:${c.flashAttention}`];
  if (opts.showGpu) parts.push(`gl${c.gpuLayers}`);
  if (opts.showKv) parts.push(`kv:${c.kvCacheType}`);
  return parts.join(' ');
}

const uniq = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

export interface GridEnvironment {
  gpuOffload: boolean;
  kvCacheTypeSupported: boolean;
  /** The GPU layers the backend would choose for this model by itself (WESTFALL_GPU_LAYERS=auto). */
  autoGpuLayers?: number;
}

/** The configurations of a sweep, invalid combinations removed, with notes on what was left out and why. */
export function buildGrid(options: SweepOptions, env: GridEnvironment): { configs: SweepConfig[]; defaultId: string | null; notes: string[] } {
  const notes: string[] = [];
  const contextSize = options.contextSize ?? SWEEP_DEFAULTS.contextSize;
  const threads = uniq(options.threads ?? [defaultThreads()]);
  const batches = uniq(options.batchSizes ?? [512]);
  let gpuLayers = uniq(options.gpuLayers ?? [0]);
  if (!env.gpuOffload && gpuLayers.some((g) => g !== 0)) {
    notes.push('this build of the engine has no GPU offload, so GPU layers were swept as 0 only');
    gpuLayers = [0];
  }
  const fa = uniq<FlashAttention>(options.flashAttention ?? ['on', 'off']);
  let kv = uniq<KvCacheType>(options.kvCacheTypes ?? ['f16']);
  if (!env.kvCacheTypeSupported && kv.some((k) => k !== 'f16')) {
    notes.push(
      `KV-cache types ${kv.filter((k) => k !== 'f16').join(', ')} were not swept: the engine's createContext has no KV-cache type option ` +
        '(it needs typeK/typeV in src/engine/options.ts contextOptionsSchema, passed to llama_context_params.type_k / type_v in native/src/objects/context.cpp); ' +
        'every configuration uses llama.cpp\'s default f16 cache',
    );
    kv = ['f16'];
  }
  const configs: SweepConfig[] = [];
  for (const gl of gpuLayers)
    for (const t of threads)
      for (const b of batches) {
        const ubs = options.ubatchSizes ? uniq(options.ubatchSizes.filter((u) => u <= b)) : [Math.min(b, 512)];
        if (ubs.length === 0) ubs.push(Math.min(b, 512));
        for (const ub of ubs)
          for (const f of fa)
            for (const k of kv) {
              if (k !== 'f16' && k !== 'bf16' && k !== 'f32' && f === 'off') continue; // llama.cpp: a quantized V cache needs flash attention
              configs.push({ threads: t, batchSize: b, ubatchSize: ub, gpuLayers: gl, flashAttention: f, kvCacheType: k, contextSize });
            }
      }
  for (const c of configs) {
    const r = sweepConfigSchema.safeParse(c);
    if (!r.success) throw new WestfallError('invalid_params', `invalid sweep configuration ${configId(c)}: ${r.error.issues.map((i) => i.message).join('; ')}`);
  }
  let defaultId: string | null = null;
  if (options.includeDefaults ?? true) {
    const d = defaultConfig(contextSize, env.gpuOffload ? (env.autoGpuLayers ?? 0) : 0);
    defaultId = configId(d);
    if (!configs.some((c) => configId(c) === defaultId)) configs.push(d);
  }
  const unique = new Map(configs.map((c) => [configId(c), c]));
  return { configs: [...unique.values()], defaultId, notes };
}

export function machineInfo(): MachineInfo {
  const sys = systemInfo();
  return {
    cpu: cpus()[0]?.model?.trim() ?? 'unknown',
    logicalCores: cpus().length,
    totalMemoryBytes: totalmem(),
    platform: process.platform,
    arch: process.arch,
    node: process.version,
    backend: sys.backend,
    gpuOffload: sys.gpuOffload,
    cpuFeatures: sys.cpuFeatures,
    devices: sys.devices.map((d) => ({ name: d.name, type: d.type, memoryTotal: d.memoryTotal, memoryFree: d.memoryFree })),
  };
}

// ---------------------------------------------------------------------------------------------------
// Worker processes

function workerCommand(): { execArgv: string[]; script: string } {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // Running from source (tsx, vitest): the worker needs tsx's loader, resolved from this package.
    const tsx = createRequire(self).resolve('tsx');
    return { execArgv: ['--import', pathToFileURL(tsx).href], script: fileURLToPath(new URL('./worker.ts', self)) };
  }
  return { execArgv: [], script: fileURLToPath(new URL('./worker.js', self)) };
}

function runWorker(job: MeasureJob, onStep: (s: MeasureStep) => void, signal: AbortSignal | undefined, timeoutMs: number): Promise<MeasureOutcome> {
  const { execArgv, script } = workerCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, script, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let outcome: MeasureOutcome | undefined;
    let failure: string | undefined;
    const timer = setTimeout(() => {
      failure = `timed out after ${Math.round(timeoutMs / 1000)} s`;
      child.kill('SIGKILL');
    }, timeoutMs);
    const onAbort = () => child.kill('SIGKILL');
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      let nl: number;
      while ((nl = stdout.indexOf('\n')) >= 0) {
        const line = stdout.slice(0, nl).trim();
        stdout = stdout.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        try {
          const msg = JSON.parse(line) as { type: string; step?: MeasureStep; outcome?: MeasureOutcome; message?: string };
          if (msg.type === 'step' && msg.step) onStep(msg.step);
          else if (msg.type === 'result') outcome = msg.outcome;
          else if (msg.type === 'error') failure = msg.message ?? 'the worker failed';
        } catch {
          // not one of ours
        }
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-4000);
    });
    child.on('error', (err) => {
      failure = err.message;
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(new WestfallError('aborted', 'the sweep was aborted'));
      if (outcome) return resolve(outcome);
      const tail = stderr.trim().split('\n').slice(-3).join(' | ');
      reject(new Error(failure ?? `the worker exited with ${sig ?? `code ${code}`}${tail ? `: ${tail}` : ''}`));
    });
  });
}

// ---------------------------------------------------------------------------------------------------

function aggregate(
  id: string,
  label: string,
  config: SweepConfig,
  isDefault: boolean,
  outcomes: MeasureOutcome[],
  error: string | null,
  wallMs: number,
  header: GgufHeader,
): ConfigResult {
  const all = (f: (o: MeasureOutcome) => number[]) => outcomes.flatMap(f);
  const pp = summarize(all((o) => o.pp));
  const tg = summarize(all((o) => o.tg));
  const ttft = summarize(all((o) => o.ttftMs));
  const load = summarize(all((o) => o.loadMs));
  const withBuffers = outcomes.find((o) => o.buffers.length > 0);
  const buffers = withBuffers?.buffers ?? [];
  const kvEngine = buffers.filter((b) => b.kind === 'kv').reduce((n, b) => n + b.bytes, 0);
  const compute = buffers.filter((b) => b.kind === 'compute');
  const ok = error === null && outcomes.length > 0;
  const num = (x: number) => (ok && Number.isFinite(x) ? x : 0);
  return {
    id,
    label,
    config,
    isDefault,
    ok,
    error,
    ppTokensPerSecond: num(pp.median),
    tgTokensPerSecond: num(tg.median),
    ttftMs: num(ttft.median),
    loadMs: num(load.median),
    pp,
    tg,
    ttft,
    load,
    memory: {
      rssDeltaBytes: num(median(outcomes.map((o) => o.rssEndBytes - o.rssBeforeBytes))),
      peakRssBytes: num(median(outcomes.map((o) => o.peakRssBytes))),
      modelBytes: outcomes[0]?.modelBytes ?? 0,
      kvBytes: kvEngine > 0 ? kvEngine : estimateKvBytes(header, config.contextSize, config.kvCacheType),
      kvBytesSource: kvEngine > 0 ? 'engine' : 'estimate',
      computeBytes: compute.length > 0 ? compute.reduce((n, b) => n + b.bytes, 0) : null,
      buffers,
    },
    flashAttentionResolved: outcomes.find((o) => o.flashAttentionResolved !== null)?.flashAttentionResolved ?? (config.flashAttention === 'auto' ? null : config.flashAttention),
    wallMs,
  };
}

const STEPS_PER_ROUND = (warmup: boolean) => (warmup ? 5 : 4);

/** Runs the sweep. Never throws for a configuration that fails: it is reported with ok: false. */
export async function runSweep(options: SweepOptions): Promise<SweepReport> {
  const started = performance.now();
  const createdAt = new Date().toISOString();
  const loadBefore = loadavg();
  const header = await readGgufHeader(options.model);
  const model = await describeModel(options.model, header);
  const machine = machineInfo();
  const kvCacheTypeSupported = engineSupportsKvCacheType();
  // The "defaults" row is what the backend does untuned, GPU layers included (its memory planner's choice).
  const autoGpuLayers = machine.gpuOffload
    ? (await autoModelSettings(options.model, { contextSize: options.contextSize ?? SWEEP_DEFAULTS.contextSize }).catch(() => null))?.gpuLayers
    : undefined;
  const { configs, defaultId, notes } = buildGrid(options, { gpuOffload: machine.gpuOffload, kvCacheTypeSupported, ...(autoGpuLayers !== undefined ? { autoGpuLayers } : {}) });
  const rounds = Math.max(1, options.repetitions ?? SWEEP_DEFAULTS.repetitions);
  const warmup = options.warmup ?? true;
  const isolation = options.isolation ?? 'process';
  const settings = {
    promptTokens: options.promptTokens ?? SWEEP_DEFAULTS.promptTokens,
    genTokens: options.genTokens ?? SWEEP_DEFAULTS.genTokens,
    ttftPromptTokens: options.ttftPromptTokens ?? SWEEP_DEFAULTS.ttftPromptTokens,
    repetitions: rounds,
    warmup,
    isolation,
    sampling: 'default chain: top-k 40, top-p 0.9, temperature 0.7',
  } as const;
  const contextSize = options.contextSize ?? SWEEP_DEFAULTS.contextSize;
  if (settings.promptTokens + 1 >= contextSize) {
    throw new WestfallError('invalid_params', `promptTokens (${settings.promptTokens}) must be below the context size (${contextSize})`);
  }
  const emit = (e: SweepEvent) => options.onEvent?.(e);
  for (const n of notes) emit({ type: 'note', message: n });

  const showKv = new Set(configs.map((c) => c.kvCacheType)).size > 1;
  const showGpu = new Set(configs.map((c) => c.gpuLayers)).size > 1;
  const labelOf = (c: SweepConfig) => {
    const base = configLabel(c, { showKv, showGpu });
    return configId(c) === defaultId ? `defaults (${base})` : base;
  };

  const perRound = STEPS_PER_ROUND(warmup);
  const totalSteps = configs.length * rounds * perRound;
  emit({ type: 'start', configurations: configs.length, rounds, steps: totalSteps });
  const showBar = options.progress === 'auto' || options.progress === undefined ? Boolean(process.stderr.isTTY) : options.progress;
  const bar = showBar
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: 'tuning |{bar}| {percentage}% | step {value}/{total} | elapsed {duration_formatted} | ETA {etaText} | {what}',
          fps: 5,
          hideCursor: true,
          clearOnComplete: false,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(totalSteps, 0, { what: 'starting', etaText: 'estimating' });

  const state = configs.map(() => ({ outcomes: [] as MeasureOutcome[], error: null as string | null, wallMs: 0 }));
  let done = 0;
  // ETA from the mean duration of each kind of step so far (a model load costs far more than a
  // 32-token TTFT probe), over the steps still to run.
  const stepKinds: MeasureStep[] = warmup ? ['load', 'warmup', 'pp', 'tg', 'ttft'] : ['load', 'pp', 'tg', 'ttft'];
  const stepTime = new Map<MeasureStep, { sum: number; n: number }>();
  let lastStepAt = performance.now();
  const eta = (stepsSeenInCurrent: number): number | null => {
    const means = stepKinds.map((k) => stepTime.get(k));
    if (means.some((m) => !m || m.n === 0)) return null;
    const mean = (i: number) => means[i]!.sum / means[i]!.n;
    const perConfig = stepKinds.reduce((n, _k, i) => n + mean(i), 0);
    const restOfCurrent = stepKinds.slice(stepsSeenInCurrent).reduce((n, _k, i) => n + mean(i + stepsSeenInCurrent), 0);
    const remainingConfigs = Math.max(0, Math.round((totalSteps - done - (perRound - stepsSeenInCurrent)) / perRound));
    return restOfCurrent + remainingConfigs * perConfig;
  };
  // Between steps the last estimate counts down, so a long step does not look frozen.
  let lastEta: { ms: number; at: number } | null = null;
  const ticker = bar
    ? setInterval(() => {
        if (lastEta) bar.update({ etaText: fmtEta(Math.max(0, lastEta.ms - (performance.now() - lastEta.at))) });
      }, 1000)
    : null;
  ticker?.unref();
  const fmtEta = (ms: number | null) => {
    if (ms === null) return 'estimating';
    const sec = Math.round(ms / 1000);
    return sec >= 60 ? `${Math.floor(sec / 60)}m ${String(sec % 60).padStart(2, '0')}s` : `${sec}s`;
  };
  try {
    for (let round = 0; round < rounds; round++) {
      const shift = (round * Math.max(1, Math.floor(configs.length / rounds))) % configs.length;
      for (let k = 0; k < configs.length; k++) {
        const i = (k + shift) % configs.length;
        const config = configs[i]!;
        const s = state[i]!;
        const id = configId(config);
        const label = labelOf(config);
        if (options.signal?.aborted) throw new WestfallError('aborted', 'the sweep was aborted');
        if (s.error !== null) {
          // Failed in an earlier round: do not spend time on it again.
          done += perRound;
          bar?.update(done, { what: `${label} (skipped: failed)` });
          continue;
        }
        emit({ type: 'config-start', id, label, round });
        bar?.update(done, { what: `round ${round + 1}/${rounds}: ${label}` });
        const job: MeasureJob = {
          modelPath: options.model,
          config,
          promptTokens: settings.promptTokens,
          genTokens: settings.genTokens,
          ttftPromptTokens: settings.ttftPromptTokens,
          repetitions: 1,
          warmup,
          seed: (options.seed ?? 1) + round * 1000,
          captureEngineLog: isolation === 'process',
        };
        let stepsSeen = 0;
        const onStep = (step: MeasureStep) => {
          const now = performance.now();
          const st = stepTime.get(step) ?? { sum: 0, n: 0 };
          st.sum += now - lastStepAt;
          st.n++;
          stepTime.set(step, st);
          lastStepAt = now;
          stepsSeen++;
          done++;
          const etaMs = done === totalSteps ? 0 : eta(stepsSeen);
          lastEta = etaMs === null ? null : { ms: etaMs, at: now };
          bar?.update(done, { what: `round ${round + 1}/${rounds}: ${label} (${step})`, etaText: fmtEta(etaMs) });
          emit({ type: 'step', id, step, done, total: totalSteps, etaMs });
        };
        const ts = performance.now();
        lastStepAt = ts;
        try {
          const outcome =
            isolation === 'process'
              ? await runWorker(job, onStep, options.signal, options.workerTimeoutMs ?? 15 * 60_000)
              : await measureConfig(job, onStep);
          s.outcomes.push(outcome);
          emit({ type: 'config-done', id, round, ok: true, error: null });
        } catch (err) {
          if (options.signal?.aborted || (err instanceof WestfallError && err.code === 'aborted')) throw err;
          s.error = (err as Error).message ?? String(err);
          emit({ type: 'config-done', id, round, ok: false, error: s.error });
        } finally {
          s.wallMs += performance.now() - ts;
          done += perRound - stepsSeen; // a failed run still counts its steps as spent
          bar?.update(done);
        }
      }
    }
  } finally {
    if (ticker) clearInterval(ticker);
    bar?.stop();
  }

  const results = configs.map((c, i) => {
    const s = state[i]!;
    const id = configId(c);
    return aggregate(id, labelOf(c), c, id === defaultId, s.outcomes, s.error, s.wallMs, header);
  });
  return {
    schemaVersion: 1,
    createdAt,
    durationMs: performance.now() - started,
    machine,
    model,
    settings,
    results,
    systemLoad: { before: loadBefore, after: loadavg() },
    notes,
  };
}
