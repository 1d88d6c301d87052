// Prompt and generation speed of each build variant on one model, each variant in its own process (the
// engine loads one variant per process), same settings, printed as a markdown table and JSON.
//
//   npx tsx scripts/bench-variants.ts [--model models/tiny-qwen2.gguf] [--variants cpu,vulkan]
//        [--gpu-layers 99] [--prompt 128] [--gen 64] [--reps 3] [--rounds 1] [--threads N] [--json out.json]
//
// --rounds N runs the variants alternately N times and keeps each one's best round: on a shared machine
// the slowest rounds measure the neighbours, not the engine.
//
// Vulkan on a machine without a GPU runs on Mesa's lavapipe when VK_ICD_FILENAMES points at
// lvp_icd.*.json and GGML_VK_VISIBLE_DEVICES=0 (set here when no GPU device node exists).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: a } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/tiny-qwen2.gguf' },
    variants: { type: 'string', default: 'cpu,vulkan' },
    'gpu-layers': { type: 'string', default: '99' },
    prompt: { type: 'string', default: '128' },
    gen: { type: 'string', default: '64' },
    reps: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '1' },
    threads: { type: 'string' },
    json: { type: 'string' },
    child: { type: 'boolean', default: false },
  },
});

interface Row {
  variant: string;
  device: string;
  gpuLayers: number;
  offloaded: string;
  loadMs: number;
  promptTps: number;
  genTps: number;
  ttftMs: number;
}

function lavapipeIcd(): string | null {
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d'];
  for (const d of dirs) {
    try {
      const f = readdirSync(d).find((x) => /^lvp_icd.*\.json$/.test(x));
      if (f) return path.join(d, f);
    } catch {
      // next
    }
  }
  return null;
}

async function child(): Promise<void> {
  const { loadModel } = await import('../src/engine/model.js');
  const { setLogHandler } = await import('../src/engine/system.js');
  const { native, selectedVariant } = await import('../src/engine/native.js');
  native();
  const v = selectedVariant()!;
  const logs: string[] = [];
  setLogHandler((_l, m) => logs.push(m), 'info');
  const gpuLayers = v.backend === 'cpu' ? 0 : Number(a['gpu-layers']);
  const t0 = performance.now();
  const model = await loadModel({ path: a.model!, gpuLayers });
  const loadMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  const off = logs.map((l) => /offloaded (\d+\/\d+) layers/.exec(l)).find(Boolean)?.[1] ?? '0';
  setLogHandler(null);
  const ctx = await model.createContext({ contextSize: 1024, ...(a.threads ? { threads: Number(a.threads) } : {}) });
  const promptTokens = Int32Array.from({ length: Number(a.prompt) }, (_, i) => 1000 + ((i * 7919) % 20000));
  const reps = Number(a.reps);
  let pp = 0;
  let tg = 0;
  let ttft = 0;
  for (let r = 0; r <= reps; r++) {
    await ctx.clearSequence(0);
    const g = ctx.generate(promptTokens, { maxTokens: Number(a.gen), temperature: 0, ignoreEos: true, sequence: 0 });
    const res = await g.result;
    if (r === 0) continue; // warm-up (Vulkan compiles pipelines on first use)
    pp += res.timings.promptTokensPerSecond / reps;
    tg += res.timings.generationTokensPerSecond / reps;
    ttft += res.timings.timeToFirstTokenMs / reps;
  }
  const dev = (await import('../src/engine/system.js')).systemInfo().devices.find((d) => d.type !== 'cpu') ?? { description: 'CPU' };
  const row: Row = { variant: `${v.backend} (${v.label})`, device: dev.description, gpuLayers, offloaded: off, loadMs, promptTps: pp, genTps: tg, ttftMs: ttft };
  process.stdout.write(`@@ROW${JSON.stringify(row)}\n`);
  ctx.dispose();
  model.dispose();
}

function parent(): void {
  const rows: Row[] = [];
  const gpuNodes = existsSync('/dev/dri') || existsSync('/dev/nvidia0');
  const lvp = lavapipeIcd();
  const best = new Map<string, Row>();
  for (let round = 0; round < Number(a.rounds); round++)
  for (const variant of a.variants!.split(',')) {
    const env: NodeJS.ProcessEnv = { ...process.env, WESTFALL_BACKEND: variant, WESTFALL_VARIANT_CACHE: path.join('.scratch', 'bench-variant-probes.json') };
    if (variant === 'vulkan' && !gpuNodes && lvp && !env.VK_ICD_FILENAMES) {
      env.VK_ICD_FILENAMES = lvp;
      env.GGML_VK_VISIBLE_DEVICES ??= '0'; // ggml skips CPU-type Vulkan devices unless named
    }
    const argv = process.argv.slice(2).filter((x) => x !== '--child');
    const r = spawnSync(process.execPath, [...process.execArgv, process.argv[1]!, ...argv, '--child'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = r.stdout.split('\n').find((l) => l.startsWith('@@ROW'));
    if (!line) {
      process.stderr.write(`${variant}: no result (exit ${r.status})\n`);
      continue;
    }
    const row = JSON.parse(line.slice(5)) as Row;
    const prev = best.get(variant);
    if (!prev || row.genTps > prev.genTps) best.set(variant, row);
  }
  rows.push(...best.values());
  const base = rows.find((r) => r.variant.startsWith('cpu'));
  const lines = [
    `model ${a.model}, prompt ${a.prompt} tokens, ${a.gen} generated, mean of ${a.reps} after a warm-up, best of ${a.rounds} round(s)`,
    '',
    '| variant | device | layers offloaded | load ms | prompt tok/s | generation tok/s | TTFT ms | gen vs cpu |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.variant} | ${r.device} | ${r.offloaded} | ${r.loadMs.toFixed(0)} | ${r.promptTps.toFixed(1)} | ${r.genTps.toFixed(1)} | ${r.ttftMs.toFixed(1)} | ${base ? (r.genTps / base.genTps).toFixed(2) : '-'} |`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (a.json) writeFileSync(a.json, JSON.stringify({ model: a.model, prompt: Number(a.prompt), gen: Number(a.gen), reps: Number(a.reps), rows }, null, 2));
}

if (a.child) await child();
else parent();
