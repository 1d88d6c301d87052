// Picks the configuration to use. The objective, in order:
//  1. Only configurations that ran without error (and within maxMemoryBytes of peak RSS, if set).
//  2. Latency guard: time to first token at most (1 + ttftSlack) × the best one's, and prompt processing
//     at least (1 - ppSlack) × the best one's (a long prompt's wait is prompt processing). If no
//     configuration meets both, the guard is dropped.
//  3. Maximize generation speed (tg): what a chat user feels most. Configurations within tgTolerance of
//     the fastest are a tie (repetitions on a busy machine do not separate them further).
//  4. Ties: the least memory (peak RSS; within 5% counts as equal), then the fastest prompt processing,
//     then the fewest threads (leaving cores to the rest of the machine), then the lowest TTFT.
import { WestfallError } from '../errors.js';
import type { ConfigResult } from './types.js';

export interface Objective {
  ttftSlack: number;
  ppSlack: number;
  tgTolerance: number;
  memoryTolerance: number;
  maxMemoryBytes: number | null;
}

export const DEFAULT_OBJECTIVE: Objective = {
  ttftSlack: 0.25,
  ppSlack: 0.5,
  tgTolerance: 0.03,
  memoryTolerance: 0.05,
  maxMemoryBytes: null,
};

export function describeObjective(o: Objective = DEFAULT_OBJECTIVE): string {
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return (
    `maximize generation tokens/s subject to TTFT ≤ best × ${(1 + o.ttftSlack).toFixed(2)} and prompt tokens/s ≥ best × ${(1 - o.ppSlack).toFixed(2)}` +
    `${o.maxMemoryBytes ? ` and peak RSS ≤ ${(o.maxMemoryBytes / 2 ** 20).toFixed(0)} MiB` : ''}; ` +
    `within ${pct(o.tgTolerance)} of the fastest is a tie, broken by lower peak RSS (±${pct(o.memoryTolerance)}), ` +
    'then higher prompt tokens/s, fewer threads, lower TTFT'
  );
}

export interface Speedup {
  /** Recommended / defaults; > 1 is better for tg and pp. */
  tg: number;
  pp: number;
  /** Recommended / defaults; < 1 is better. */
  ttft: number;
}

export interface Recommendation {
  best: ConfigResult;
  objective: Objective;
  /** Every configuration that ran, best first. */
  ranking: ConfigResult[];
  /** Configurations the latency guard or memory cap excluded. */
  excluded: { id: string; reason: string }[];
  /** Configurations whose tg tied with the best. */
  tied: string[];
  reason: string;
  baseline: ConfigResult | null;
  speedup: Speedup | null;
}

export function recommend(results: readonly ConfigResult[], objective: Partial<Objective> = {}): Recommendation {
  const o: Objective = { ...DEFAULT_OBJECTIVE, ...objective };
  const ok = results.filter((r) => r.ok && r.tgTokensPerSecond > 0);
  if (ok.length === 0) throw new WestfallError('invalid_params', 'no configuration of the sweep ran successfully; nothing to recommend');
  const excluded: { id: string; reason: string }[] = [];

  let pool = ok;
  if (o.maxMemoryBytes !== null) {
    const fit = pool.filter((r) => r.memory.peakRssBytes <= o.maxMemoryBytes!);
    for (const r of pool) if (!fit.includes(r)) excluded.push({ id: r.id, reason: 'peak RSS above the memory cap' });
    if (fit.length > 0) pool = fit;
  }
  const ttftOf = (r: ConfigResult) => (r.ttftMs > 0 ? r.ttftMs : Number.POSITIVE_INFINITY);
  const bestTtft = Math.min(...pool.map(ttftOf));
  const bestPp = Math.max(...pool.map((r) => r.ppTokensPerSecond));
  const guarded = pool.filter((r) => ttftOf(r) <= bestTtft * (1 + o.ttftSlack) && r.ppTokensPerSecond >= bestPp * (1 - o.ppSlack));
  if (guarded.length > 0) {
    for (const r of pool) {
      if (guarded.includes(r)) continue;
      excluded.push({
        id: r.id,
        reason: ttftOf(r) > bestTtft * (1 + o.ttftSlack) ? `TTFT ${r.ttftMs.toFixed(0)} ms > ${(bestTtft * (1 + o.ttftSlack)).toFixed(0)} ms` : `prompt ${r.ppTokensPerSecond.toFixed(0)} t/s < ${(bestPp * (1 - o.ppSlack)).toFixed(0)} t/s`,
      });
    }
    pool = guarded;
  }

  const bestTg = Math.max(...pool.map((r) => r.tgTokensPerSecond));
  const tiedSet = pool.filter((r) => r.tgTokensPerSecond >= bestTg * (1 - o.tgTolerance));
  const minMem = Math.min(...tiedSet.map((r) => r.memory.peakRssBytes));
  const memClass = (r: ConfigResult) => (r.memory.peakRssBytes <= minMem * (1 + o.memoryTolerance) ? 0 : 1);
  const compare = (a: ConfigResult, b: ConfigResult) => {
    const at = tiedSet.includes(a) ? 0 : 1;
    const bt = tiedSet.includes(b) ? 0 : 1;
    if (at !== bt) return at - bt;
    if (at === 1) return b.tgTokensPerSecond - a.tgTokensPerSecond;
    return (
      memClass(a) - memClass(b) ||
      b.ppTokensPerSecond - a.ppTokensPerSecond ||
      a.config.threads - b.config.threads ||
      ttftOf(a) - ttftOf(b)
    );
  };
  const rankedPool = [...pool].sort(compare);
  const rest = ok.filter((r) => !pool.includes(r)).sort((a, b) => b.tgTokensPerSecond - a.tgTokensPerSecond);
  const best = rankedPool[0]!;

  const baseline = results.find((r) => r.isDefault && r.ok) ?? null;
  const speedup = baseline
    ? {
        tg: best.tgTokensPerSecond / baseline.tgTokensPerSecond,
        pp: best.ppTokensPerSecond / baseline.ppTokensPerSecond,
        ttft: best.ttftMs / baseline.ttftMs,
      }
    : null;
  const tiedIds = tiedSet.map((r) => r.id);
  const reason =
    `${best.label}: ${best.tgTokensPerSecond.toFixed(1)} generated tokens/s` +
    (tiedIds.length > 1 ? ` (tied with ${tiedIds.length - 1} other configuration${tiedIds.length > 2 ? 's' : ''} within ${Math.round(o.tgTolerance * 100)}%, chosen for memory then prompt speed)` : ' (fastest)') +
    `, ${best.ppTokensPerSecond.toFixed(1)} prompt tokens/s, TTFT ${best.ttftMs.toFixed(0)} ms, peak RSS ${(best.memory.peakRssBytes / 2 ** 20).toFixed(0)} MiB`;
  return { best, objective: o, ranking: [...rankedPool, ...rest], excluded, tied: tiedIds, reason, baseline, speedup };
}
