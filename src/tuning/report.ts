// The sweep's results as JSON (everything, for the UI), CSV (one row per configuration, for
// spreadsheets) and markdown (for people), plus the chart; writeReports puts all four in a folder.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeObjective, type Recommendation } from './recommend.js';
import { sweepChartSvg } from './svg.js';
import type { ConfigResult, SweepReport } from './types.js';

export const CSV_COLUMNS = [
  'id',
  'label',
  'threads',
  'batch_size',
  'ubatch_size',
  'gpu_layers',
  'flash_attention',
  'flash_attention_resolved',
  'kv_cache_type',
  'context_size',
  'ok',
  'error',
  'is_default',
  'recommended',
  'pp_tokens_per_s',
  'pp_min',
  'pp_max',
  'tg_tokens_per_s',
  'tg_min',
  'tg_max',
  'ttft_ms',
  'load_ms',
  'rss_delta_mib',
  'peak_rss_mib',
  'model_mib',
  'kv_mib',
  'kv_source',
  'compute_mib',
  'repetitions',
] as const;

const mib = (b: number | null) => (b === null ? '' : (b / 2 ** 20).toFixed(1));
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '');

function csvField(v: string | number | boolean): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(report: SweepReport, recommendedId: string | null = null): string {
  const rows = report.results.map((r) => {
    const c = r.config;
    const row: Record<(typeof CSV_COLUMNS)[number], string | number | boolean> = {
      id: r.id,
      label: r.label,
      threads: c.threads,
      batch_size: c.batchSize,
      ubatch_size: c.ubatchSize,
      gpu_layers: c.gpuLayers,
      flash_attention: c.flashAttention,
      flash_attention_resolved: r.flashAttentionResolved ?? '',
      kv_cache_type: c.kvCacheType,
      context_size: c.contextSize,
      ok: r.ok,
      error: r.error ?? '',
      is_default: r.isDefault,
      recommended: r.id === recommendedId,
      pp_tokens_per_s: f(r.ppTokensPerSecond),
      pp_min: f(r.pp.min),
      pp_max: f(r.pp.max),
      tg_tokens_per_s: f(r.tgTokensPerSecond),
      tg_min: f(r.tg.min),
      tg_max: f(r.tg.max),
      ttft_ms: f(r.ttftMs),
      load_ms: f(r.loadMs),
      rss_delta_mib: mib(r.memory.rssDeltaBytes),
      peak_rss_mib: mib(r.memory.peakRssBytes),
      model_mib: mib(r.memory.modelBytes),
      kv_mib: mib(r.memory.kvBytes),
      kv_source: r.memory.kvBytesSource,
      compute_mib: mib(r.memory.computeBytes),
      repetitions: r.tg.n,
    };
    return CSV_COLUMNS.map((k) => csvField(row[k])).join(',');
  });
  return `${[CSV_COLUMNS.join(','), ...rows].join('\n')}\n`;
}

export const MARKDOWN_COLUMNS = ['configuration', 'pp t/s', 'tg t/s', 'TTFT ms', 'load ms', 'peak RSS MiB', 'RSS Δ MiB', 'KV MiB', 'compute MiB', 'tg spread'] as const;

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function markdownTable(results: readonly ConfigResult[], recommendedId: string | null = null): string {
  const header = `| ${MARKDOWN_COLUMNS.join(' | ')} |`;
  const sep = `| ${MARKDOWN_COLUMNS.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`;
  const rows = results.map((r) => {
    const name = `${r.id === recommendedId ? '**★ ' : ''}${r.label}${r.id === recommendedId ? '**' : ''}`;
    if (!r.ok) return `| ${mdCell(name)} | failed: ${mdCell(r.error ?? 'unknown error')} |${' |'.repeat(MARKDOWN_COLUMNS.length - 2)}`;
    return `| ${[
      mdCell(name),
      r.ppTokensPerSecond.toFixed(1),
      r.tgTokensPerSecond.toFixed(1),
      r.ttftMs.toFixed(1),
      r.loadMs.toFixed(0),
      mib(r.memory.peakRssBytes),
      mib(r.memory.rssDeltaBytes),
      `${mib(r.memory.kvBytes)}${r.memory.kvBytesSource === 'estimate' ? ' (est.)' : ''}`,
      mib(r.memory.computeBytes) || '—',
      `${(r.tg.relativeSpread * 100).toFixed(0)}%`,
    ].join(' | ')} |`;
  });
  return [header, sep, ...rows].join('\n');
}

export function toMarkdown(report: SweepReport, rec: Recommendation | null, opts: { chartFile?: string | null } = {}): string {
  const m = report.machine;
  const s = report.settings;
  const lines = [
    `# Tuning sweep: ${report.model.name ?? report.model.key}`,
    '',
    `- Model: \`${path.basename(report.model.path)}\` (${report.model.architecture}, ${(report.model.parameterCount / 1e9).toFixed(2)}B parameters, ${mib(report.model.fileSizeBytes)} MiB${report.model.synthetic ? `, synthetic ${report.model.synthetic} shape with random weights` : ''})`,
    `- Machine: ${m.cpu}, ${m.logicalCores} logical cores, ${(m.totalMemoryBytes / 2 ** 30).toFixed(0)} GiB; ${m.platform}-${m.arch}, Node ${m.node}; engine backend ${m.backend}${m.gpuOffload ? ' (GPU offload available)' : ' (no GPU offload)'}`,
    `- Measured: prompt processing of ${s.promptTokens} tokens (pp), ${s.genTokens} generated tokens with sampling (tg; ${s.sampling}), ` +
      `time to first token on a ${s.ttftPromptTokens}-token prompt (TTFT, wall clock to the first streamed chunk), model load + context creation time, memory.`,
    `- Method: ${s.warmup ? 'a warm-up generation, then ' : ''}${s.repetitions} round${s.repetitions === 1 ? '' : 's'} over all configurations in rotated order` +
      `${s.isolation === 'process' ? ', each configuration in a fresh process' : ', in one process'}; figures are medians over the rounds, "tg spread" is (max − min) / median.`,
    `- Started ${report.createdAt}; took ${(report.durationMs / 1000).toFixed(0)} s for ${report.results.length} configurations; ` +
      `system load average (1 min) ${report.systemLoad.before[0]?.toFixed(2) ?? '?'} before, ${report.systemLoad.after[0]?.toFixed(2) ?? '?'} after.`,
    '',
    markdownTable(report.results, rec?.best.id ?? null),
    '',
    'KV MiB is llama.cpp\'s own KV buffer size when its log was captured, else an estimate from the GGUF geometry (est.). Peak RSS includes Node.js itself (~50 MiB).',
  ];
  if (opts.chartFile) lines.push('', `![sweep chart](${opts.chartFile})`);
  if (rec) {
    lines.push('', '## Recommendation', '', rec.reason, '', `Objective: ${describeObjective(rec.objective)}.`);
    if (rec.baseline && rec.speedup) {
      lines.push(
        '',
        `Against the engine ${rec.baseline.label}, measured in the same run: generation ${rec.speedup.tg.toFixed(2)}×, ` +
          `prompt processing ${rec.speedup.pp.toFixed(2)}×, time to first token ${rec.speedup.ttft.toFixed(2)}× (lower is better).`,
      );
    }
    if (rec.excluded.length > 0) lines.push('', `Excluded by the latency guard: ${rec.excluded.map((e) => `${e.id} (${e.reason})`).join('; ')}.`);
  }
  if (report.notes.length > 0) lines.push('', '## Notes', '', ...report.notes.map((n) => `- ${n}`));
  return `${lines.join('\n')}\n`;
}

export interface ReportFiles {
  json: string;
  csv: string;
  markdown: string;
  svg: string;
}

/** Writes sweep.json, sweep.csv, sweep.md and sweep.svg into `dir`. */
export async function writeReports(dir: string, report: SweepReport, rec: Recommendation | null, baseName = 'sweep'): Promise<ReportFiles> {
  await mkdir(dir, { recursive: true });
  const files: ReportFiles = {
    json: path.join(dir, `${baseName}.json`),
    csv: path.join(dir, `${baseName}.csv`),
    markdown: path.join(dir, `${baseName}.md`),
    svg: path.join(dir, `${baseName}.svg`),
  };
  const recommendedId = rec?.best.id ?? null;
  const json = {
    ...report,
    recommendation: rec
      ? { id: rec.best.id, label: rec.best.label, reason: rec.reason, objective: describeObjective(rec.objective), speedup: rec.speedup, tied: rec.tied, excluded: rec.excluded }
      : null,
  };
  await writeFile(files.json, `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(files.csv, toCsv(report, recommendedId));
  await writeFile(files.markdown, toMarkdown(report, rec, { chartFile: path.basename(files.svg) }));
  await writeFile(files.svg, sweepChartSvg(report, { recommendedId }));
  return files;
}
