// A real (tiny) sweep on the synthetic tiny model, in worker processes, and its reports.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CSV_COLUMNS,
  MARKDOWN_COLUMNS,
  measureConfig,
  recommend,
  runSweep,
  sweepReportSchema,
  writeReports,
  type ReportFiles,
  type SweepEvent,
  type SweepReport,
} from '../../src/tuning/index.js';
import { TINY_MODEL } from '../helpers/models.js';
import { allText, findAll, parseXml } from './xml.js';

let dir: string;
let report: SweepReport;
let files: ReportFiles;
const events: SweepEvent[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'westfall-sweep-'));
  report = await runSweep({
    model: TINY_MODEL,
    threads: [1],
    batchSizes: [128, 512],
    flashAttention: ['on'],
    includeDefaults: false,
    repetitions: 1,
    promptTokens: 64,
    genTokens: 16,
    ttftPromptTokens: 16,
    progress: false,
    onEvent: (e) => events.push(e),
  });
  files = await writeReports(dir, report, recommend(report.results));
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runSweep on the tiny model', () => {
  it('measures every configuration', () => {
    expect(report.results.map((r) => r.id)).toEqual(['t1-b128-ub128-faon-gl0-kvf16-c4096', 't1-b512-ub512-faon-gl0-kvf16-c4096']);
    for (const r of report.results) {
      expect(r.ok, r.error ?? '').toBe(true);
      expect(r.ppTokensPerSecond).toBeGreaterThan(0);
      expect(r.tgTokensPerSecond).toBeGreaterThan(0);
      expect(r.ttftMs).toBeGreaterThan(0);
      expect(r.loadMs).toBeGreaterThan(0);
      expect(r.tg.n).toBe(1);
      expect(r.flashAttentionResolved).toBe('on');
      // From llama.cpp's own log in the worker: 2 layers × 4096 cells × (32 + 32) × 2 bytes = 1 MiB.
      expect(r.memory.kvBytesSource).toBe('engine');
      expect(r.memory.kvBytes).toBe(2 * 4096 * 64 * 2);
      expect(r.memory.computeBytes).toBeGreaterThan(0);
      expect(r.memory.modelBytes).toBeGreaterThan(1_000_000);
      expect(r.memory.peakRssBytes).toBeGreaterThan(r.memory.modelBytes);
    }
    expect(report.model.synthetic).toBe('tiny');
    expect(report.machine.logicalCores).toBeGreaterThan(0);
  });

  it('reports progress step by step with an ETA', () => {
    const start = events.find((e) => e.type === 'start');
    expect(start).toMatchObject({ configurations: 2, rounds: 1, steps: 10 });
    const steps = events.filter((e): e is Extract<SweepEvent, { type: 'step' }> => e.type === 'step');
    expect(steps.map((s) => s.done)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(steps.map((s) => s.step).slice(0, 5)).toEqual(['load', 'warmup', 'pp', 'tg', 'ttft']);
    expect(steps.at(-1)!.etaMs).toBe(0);
    expect(events.filter((e) => e.type === 'config-done').every((e) => e.type === 'config-done' && e.ok)).toBe(true);
  });

  it('writes JSON that validates against the report schema', async () => {
    const json = JSON.parse(await readFile(files.json, 'utf8')) as SweepReport & { recommendation: { id: string } };
    const { recommendation, ...rest } = json;
    expect(sweepReportSchema.parse(rest).results).toHaveLength(2);
    expect(report.results.map((r) => r.id)).toContain(recommendation.id);
  });

  it('writes CSV with the expected columns, one row per configuration', async () => {
    const lines = (await readFile(files.csv, 'utf8')).trimEnd().split('\n');
    expect(lines[0]!.split(',')).toEqual([...CSV_COLUMNS]);
    expect(lines).toHaveLength(3);
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      expect(cells).toHaveLength(CSV_COLUMNS.length);
      const row = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, cells[i]!]));
      expect(row.ok).toBe('true');
      expect(Number(row.tg_tokens_per_s)).toBeGreaterThan(0);
      expect(Number(row.pp_tokens_per_s)).toBeGreaterThan(0);
      expect(Number(row.kv_mib)).toBeCloseTo(1, 1);
    }
    expect(lines.slice(1).filter((l) => l.split(',')[CSV_COLUMNS.indexOf('recommended')] === 'true')).toHaveLength(1);
  });

  it('writes markdown with the table and the recommendation', async () => {
    const md = await readFile(files.markdown, 'utf8');
    const header = `| ${MARKDOWN_COLUMNS.join(' | ')} |`;
    expect(md).toContain(header);
    const tableRows = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith(header) && !l.startsWith('| ---'));
    expect(tableRows).toHaveLength(2);
    for (const row of tableRows) expect(row.split(' | ')).toHaveLength(MARKDOWN_COLUMNS.length);
    expect(md).toContain('## Recommendation');
    expect(md).toContain('![sweep chart](sweep.svg)');
  });

  it('draws a well-formed SVG chart with both metrics, labelled axes and every configuration', async () => {
    const svg = parseXml(await readFile(files.svg, 'utf8'));
    expect(svg.name).toBe('svg');
    expect(svg.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(Number(svg.attrs.width)).toBeGreaterThan(0);
    expect(svg.attrs.viewBox).toBe(`0 0 ${svg.attrs.width} ${svg.attrs.height}`);
    const bars = (metric: string) => findAll(svg, (n) => n.name === 'rect' && (n.attrs.class ?? '').split(' ').includes(`bar-${metric}`));
    expect(bars('tg')).toHaveLength(2);
    expect(bars('pp')).toHaveLength(2);
    for (const b of [...bars('tg'), ...bars('pp')]) {
      expect(Number(b.attrs.height)).toBeGreaterThan(0);
      expect(Number(b.attrs.y) + Number(b.attrs.height)).toBeLessThanOrEqual(Number(svg.attrs.height));
    }
    const text = allText(svg);
    expect(text).toContain('tokens/s');
    expect(text).toContain('configuration (threads, batch/micro-batch, flash attention)');
    expect(text).toContain('Generation speed');
    expect(text).toContain('Prompt processing speed');
    for (const r of report.results) expect(text).toContain(r.label);
    expect(text).toContain('★');
  });
});

describe('measureConfig in this process', () => {
  it('measures without a worker (no engine log: KV is estimated elsewhere)', async () => {
    const steps: string[] = [];
    const o = await measureConfig(
      {
        modelPath: TINY_MODEL,
        config: { threads: 1, batchSize: 64, ubatchSize: 64, gpuLayers: 0, flashAttention: 'off', kvCacheType: 'f16', contextSize: 512 },
        promptTokens: 100,
        genTokens: 8,
        ttftPromptTokens: 8,
        repetitions: 2,
        warmup: false,
        seed: 5,
        captureEngineLog: false,
      },
      (s) => steps.push(s),
    );
    expect(steps).toEqual(['load', 'pp', 'tg', 'ttft', 'pp', 'tg', 'ttft']);
    expect(o.pp).toHaveLength(2);
    expect(o.tg.every((x) => x > 0)).toBe(true);
    expect(o.buffers).toEqual([]);
    expect(o.flashAttentionResolved).toBe('off');
    expect(o.vocabSize).toBeGreaterThan(100_000);
  });
});
