// Small robust statistics for benchmark samples: medians rather than means, because one interrupted
// repetition on a busy machine should not move the result.

export interface SampleSummary {
  median: number;
  min: number;
  max: number;
  n: number;
  /** (max - min) / median: how much the repetitions disagree; 0 for a single sample. */
  relativeSpread: number;
}

export function median(xs: readonly number[]): number {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(xs: readonly number[]): SampleSummary {
  const v = xs.filter((x) => Number.isFinite(x));
  if (v.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0, relativeSpread: Number.NaN };
  const m = median(v);
  const min = Math.min(...v);
  const max = Math.max(...v);
  return { median: m, min, max, n: v.length, relativeSpread: m > 0 ? (max - min) / m : 0 };
}
