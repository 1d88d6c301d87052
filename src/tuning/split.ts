// Is a split over workers worth it? Prompt processing and generation speed of one model loaded all on
// this machine and split over workers, measured alternately in one run so that a busy machine or network
// weighs on both the same way (docs/rpc.md; `westfall bench --workers`, bench/rpc.ts).
import { freemem } from 'node:os';
import { stat } from 'node:fs/promises';
import { loadModel, type Model } from '../engine/index.js';
import { median } from './stats.js';

export interface SplitBenchOptions {
  modelPath: string;
  workers: string[];
  /** Weights: this machine first, then each worker (default: by free memory). */
  split?: number[];
  promptTokens?: number;
  genTokens?: number;
  repetitions?: number;
  contextSize?: number;
  threads?: number;
  /** Skip the all-local run (for a model that does not fit here). */
  skipLocal?: boolean;
  log?: (line: string) => void;
}

export interface Speeds {
  ppTokensPerSecond: number;
  tgTokensPerSecond: number;
}

export interface SplitBenchResult {
  model: string;
  modelBytes: number;
  freeBytes: number;
  workers: string[];
  layers: number[];
  local: Speeds | null;
  split: Speeds;
  /** split / local; null without a local run. */
  ratio: Speeds | null;
  verdict: string;
}

async function measure(model: Model, opts: Required<Pick<SplitBenchOptions, 'promptTokens' | 'genTokens' | 'contextSize'>> & { threads?: number }, ctxCache: Map<Model, Awaited<ReturnType<Model['createContext']>>>): Promise<Speeds> {
  let ctx = ctxCache.get(model);
  if (!ctx) {
    ctx = await model.createContext({ contextSize: opts.contextSize, ...(opts.threads ? { threads: opts.threads } : {}) });
    ctxCache.set(model, ctx);
  }
  // Same token again and again: every run evaluates the whole prompt (no prefix reuse) and is the same work.
  const bos = model.tokenize(' hello', { addSpecial: false })[0] ?? 1;
  const prompt = new Array<number>(opts.promptTokens).fill(bos);
  const r = await ctx.generate(prompt, { maxTokens: opts.genTokens, temperature: 0, cachePrompt: false, ignoreEos: true }).result;
  return { ppTokensPerSecond: r.timings.promptTokensPerSecond, tgTokensPerSecond: r.timings.generationTokensPerSecond };
}

export async function benchSplit(o: SplitBenchOptions): Promise<SplitBenchResult> {
  const log = o.log ?? (() => {});
  const settings = { promptTokens: o.promptTokens ?? 256, genTokens: o.genTokens ?? 64, contextSize: o.contextSize ?? 1024, ...(o.threads ? { threads: o.threads } : {}) };
  const reps = o.repetitions ?? 3;
  const modelBytes = (await stat(o.modelPath)).size;
  const contexts = new Map<Model, Awaited<ReturnType<Model['createContext']>>>();
  const local = o.skipLocal ? null : await loadModel({ path: o.modelPath });
  log(`loading split over ${o.workers.join(', ')} ...`);
  const split = await loadModel({ path: o.modelPath, workers: o.workers, ...(o.split ? { split: o.split } : {}) });
  const runs: { local: Speeds[]; split: Speeds[] } = { local: [], split: [] };
  try {
    for (let i = 0; i <= reps; i++) {
      // Round 0 warms both up and is not counted.
      const s = await measure(split, settings, contexts);
      const l = local ? await measure(local, settings, contexts) : null;
      if (i === 0) continue;
      runs.split.push(s);
      if (l) runs.local.push(l);
      log(`round ${i}/${reps}: split pp ${s.ppTokensPerSecond.toFixed(1)} tg ${s.tgTokensPerSecond.toFixed(1)}${l ? `, local pp ${l.ppTokensPerSecond.toFixed(1)} tg ${l.tgTokensPerSecond.toFixed(1)}` : ''} tokens/s`);
    }
  } finally {
    for (const c of contexts.values()) await c.dispose();
    await split.dispose();
    await local?.dispose();
  }
  const med = (xs: Speeds[]): Speeds => ({ ppTokensPerSecond: median(xs.map((x) => x.ppTokensPerSecond)), tgTokensPerSecond: median(xs.map((x) => x.tgTokensPerSecond)) });
  const s = med(runs.split);
  const l = local ? med(runs.local) : null;
  const ratio = l ? { ppTokensPerSecond: s.ppTokensPerSecond / l.ppTokensPerSecond, tgTokensPerSecond: s.tgTokensPerSecond / l.tgTokensPerSecond } : null;
  const freeBytes = freemem();
  return {
    model: o.modelPath,
    modelBytes,
    freeBytes,
    workers: o.workers,
    layers: [split.info.placement?.localLayers ?? 0, ...(split.info.placement?.workers.map((w) => w.layers) ?? [])],
    local: l,
    split: s,
    ratio,
    verdict: verdict(modelBytes, freeBytes, ratio),
  };
}

/** What the figures mean for the user, in one sentence. */
export function verdict(modelBytes: number, freeBytes: number, ratio: Speeds | null): string {
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const fits = modelBytes * 1.2 < freeBytes;
  if (!ratio) {
    return fits
      ? 'No all-local run to compare with; the model would fit here, so measure without --skip-local before choosing the split.'
      : `The model (${gib(modelBytes)}) does not fit in this machine's ${gib(freeBytes)} free: the split is what lets it run.`;
  }
  const tg = ratio.tgTokensPerSecond;
  const pct = (x: number) => `${Math.round(Math.abs(1 - x) * 100)}%`;
  if (!fits) return `The model (${gib(modelBytes)}) does not fit in this machine's ${gib(freeBytes)} free: the split is worth it (generation at ${tg.toFixed(2)}× of what an all-local run managed here).`;
  if (tg >= 0.95) return `Worth it: the split generates ${tg >= 1 ? `${pct(tg)} faster` : 'about as fast'} than this machine alone, and frees memory here.`;
  return `Not worth it for this model: it fits here (${gib(modelBytes)} of ${gib(freeBytes)} free) and the split generates ${pct(tg)} slower over this network. Split only models that do not fit.`;
}
