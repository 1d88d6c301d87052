#!/usr/bin/env node
// GPU check: CI has no GPU, so a GPU variant (cuda, vulkan) is checked by hand on a machine that has one
// (docs/variants.md). It selects the variant the way the app does, runs functional checks with every layer
// on the GPU, and measures the engine against llama-bench built in the same build tree
// (`node scripts/build-native.mjs --backend=cuda --llama-tools`), on the GPU and on the CPU, in one run.
// Needs the compiled dist/ (npm run build:ts) and zod; nothing else from node_modules.
//
//   node scripts/gpu-check.mjs [--backend=cuda] [--out=DIR] [--shapes=qwen2-0.5b,qwen2-3b] [--cpu-threads=N]
//                              [--no-bench] [--no-sweep]
//
// --backend=cpu is a rehearsal of the script itself on a machine without a GPU: the GPU-only assertions
// are reported as skipped. Exit code: 0 when every check passed, 1 otherwise.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(path.join(root, 'dist', p));

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'cuda' },
    out: { type: 'string', default: path.join(root, 'bench/results/gpu-check') },
    shapes: { type: 'string', default: 'qwen2-0.5b,qwen2-3b' },
    'cpu-threads': { type: 'string' },
    'no-bench': { type: 'boolean', default: false },
    'no-sweep': { type: 'boolean', default: false },
    worker: { type: 'string' },
  },
});

if (values.worker) {
  await benchWorker(JSON.parse(values.worker));
  process.exit(0);
}

const backend = values.backend;
const gpu = backend !== 'cpu';
const outDir = path.resolve(values.out);
const modelsDir = path.join(root, 'models');
const cpuThreads = Number(values['cpu-threads'] ?? Math.min(availableParallelism(), 8));
mkdirSync(outDir, { recursive: true });

const report = { backend, startedAt: new Date().toISOString(), checks: [], variant: null, devices: [], plans: [], bench: [], sweep: null };
const save = () => writeFileSync(path.join(outDir, 'gpu-check.json'), `${JSON.stringify(report, null, 2)}\n`);
const log = (s) => process.stdout.write(`${s}\n`);

async function check(name, fn, { gpuOnly = false } = {}) {
  if (gpuOnly && !gpu) {
    report.checks.push({ name, status: 'skipped', detail: 'GPU-only check (rehearsal on cpu)' });
    log(`SKIP ${name}`);
    return;
  }
  const t = performance.now();
  try {
    const detail = await fn();
    report.checks.push({ name, status: 'pass', ms: Math.round(performance.now() - t), ...(detail !== undefined ? { detail } : {}) });
    log(`PASS ${name}${detail !== undefined ? ` — ${(typeof detail === 'string' ? detail : JSON.stringify(detail)).replace(/\s+/g, ' ').slice(0, 160)}` : ''}`);
  } catch (err) {
    report.checks.push({ name, status: 'fail', error: err?.stack ?? String(err) });
    log(`FAIL ${name} — ${err?.message ?? err}`);
  }
  save();
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// ---------------------------------------------------------------------------------------------------
const { systemInfo, loadModel, setLogHandler } = await dist('index.js');
const { initNative } = await dist('engine/native.js');
const { generateTestModels, SYNTHETIC_FILES } = await dist('gguf/index.js');
const { autoModelSettings } = await dist('engine/memory.js');

// The variant the app would pick when told to use this backend (auto would also try the others).
const variant = await initNative({ backend });
report.variant = {
  selected: variant.selected ? { backend: variant.selected.backend, label: variant.selected.label } : null,
  attempts: variant.attempts.map((a) => ({ backend: a.backend, outcome: a.outcome, reason: a.reason, label: a.label })),
  probeMs: Math.round(variant.durationMs),
};
log(`variant: ${JSON.stringify(report.variant)}`);
const info = systemInfo();
report.devices = info.devices;
report.llamaCpp = info.llamaCppVersion;
report.cpuFeatures = info.cpuFeatures;
for (const d of info.devices) log(`device: ${d.type} ${d.name} (${d.description}) ${(d.memoryFree / 2 ** 30).toFixed(1)}/${(d.memoryTotal / 2 ** 30).toFixed(1)} GiB free`);

await check(`the ${backend} variant is selected`, () => {
  assert(variant.selected?.backend === backend, `selected ${variant.selected?.backend ?? 'nothing'}: ${variant.attempts.map((a) => `${a.backend}: ${a.reason}`).join('; ')}`);
  return variant.selected.label;
});
await check('a GPU device is visible with its memory', () => {
  const g = info.devices.filter((d) => d.type !== 'cpu');
  assert(g.length > 0, 'no GPU device');
  assert(g.every((d) => d.memoryTotal > 0 && d.memoryFree > 0 && d.memoryFree <= d.memoryTotal), 'device memory not reported');
  return g.map((d) => d.description || d.name).join(', ');
}, { gpuOnly: true });

const t0 = performance.now();
const models = await generateTestModels({ outDir: modelsDir, only: 'bench' });
const tinyPath = models.tiny?.path ?? path.join(modelsDir, SYNTHETIC_FILES.tiny);
const benchPath = models.bench?.path ?? path.join(modelsDir, SYNTHETIC_FILES.bench);
log(`models ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
if (!existsSync(tinyPath)) await generateTestModels({ outDir: modelsDir, only: 'tiny' });

// llama.cpp reports offloading in its log; the check reads it from there.
const engineLog = [];
setLogHandler((_level, message) => engineLog.push(message), 'info');
const offloaded = () => {
  const line = engineLog.findLast((l) => /offloaded \d+\/\d+ layers to GPU/.test(l));
  const m = line?.match(/offloaded (\d+)\/(\d+) layers/);
  return m ? { layers: Number(m[1]), of: Number(m[2]) } : null;
};

const gpuLayers = gpu ? -1 : 0;
let model;
await check('loads the tiny model with every layer offloaded, reporting progress', async () => {
  engineLog.length = 0;
  let last = 0;
  model = await loadModel({ path: tinyPath, gpuLayers, onProgress: (p) => (last = p) });
  assert(last === 1, `last progress ${last}`);
  const o = offloaded();
  if (gpu) assert(o && o.layers === o.of, `offload: ${JSON.stringify(o)}`);
  return o ?? 'cpu';
});
if (!model) {
  save();
  log('cannot continue without a model');
  process.exit(1);
}
const ctx = await model.createContext({ contextSize: 1024, sequences: 4 });
const run = async (prompt, params) => ctx.generate(prompt, { maxTokens: 16, ignoreEos: true, ...params }).result;

await check('greedy decoding is deterministic; the same seed gives the same tokens', async () => {
  // From an empty sequence each time: the same batches, so the same kernels (prefix reuse would change the
  // batch shapes, and GPU kernels for other shapes may round differently).
  const fresh = async (prompt, params) => {
    await ctx.clearSequence(0);
    return run(prompt, params);
  };
  const a = Array.from((await fresh('Once upon a time', { temperature: 0 })).tokens);
  const b = Array.from((await fresh('Once upon a time', { temperature: 0, seed: 9 })).tokens);
  assert(same(a, b), 'greedy differs between runs');
  const c = Array.from((await fresh('Once upon a time', { temperature: 1, seed: 42 })).tokens);
  const d = Array.from((await fresh('Once upon a time', { temperature: 1, seed: 42 })).tokens);
  assert(same(c, d), 'seeded sampling differs between runs');
  return `${a.length} tokens`;
});

await check('GPU and CPU agree on the greedy tokens (reported; random weights make near-ties)', async () => {
  const g = Array.from((await run('The capital of France is', { temperature: 0 })).tokens);
  const cpuModel = await loadModel({ path: tinyPath, gpuLayers: 0 });
  let c;
  try {
    const cpuCtx = await cpuModel.createContext({ contextSize: 256, threads: cpuThreads });
    c = Array.from((await cpuCtx.generate('The capital of France is', { maxTokens: 16, ignoreEos: true, temperature: 0 }).result).tokens);
  } finally {
    cpuModel.dispose();
  }
  let prefix = 0;
  while (prefix < g.length && g[prefix] === c[prefix]) prefix++;
  assert(prefix >= 1, `the first greedy token differs (gpu ${g[0]}, cpu ${c[0]})`);
  return `${prefix}/${g.length} leading tokens equal`;
}, { gpuOnly: true });

await check('abort mid-stream stops within a token; the context stays usable', async () => {
  const ac = new AbortController();
  const gen = ctx.generate('Tell me a long story', { maxTokens: 1000, ignoreEos: true, signal: ac.signal });
  let chunks = 0;
  for await (const _ of gen) if (++chunks === 3) ac.abort();
  const r = await gen.result;
  assert(r.stopReason === 'aborted', `stop reason ${r.stopReason}`);
  assert(r.usage.completionTokens < 10, `${r.usage.completionTokens} tokens after abort`);
  const next = await run('Hello', { maxTokens: 4 });
  assert(next.stopReason === 'max_tokens' && next.usage.completionTokens === 4, 'next generation failed');
  return `${r.usage.completionTokens} tokens`;
});

await check('abort during prompt evaluation', async () => {
  const ac = new AbortController();
  const gen = ctx.generate('lorem ipsum dolor sit amet '.repeat(150), { maxTokens: 4, signal: ac.signal });
  setImmediate(() => ac.abort());
  const r = await gen.result;
  assert(r.stopReason === 'aborted' && r.usage.completionTokens === 0, `${r.stopReason}, ${r.usage.completionTokens} tokens`);
  assert((await run('Hi', { maxTokens: 2 })).usage.completionTokens === 2, 'context unusable after abort');
});

await check('a JSON schema constrains random weights to valid JSON', async () => {
  const schema = {
    type: 'object',
    properties: { name: { type: 'string', maxLength: 8 }, age: { type: 'integer' }, ok: { type: 'boolean' } },
    required: ['name', 'age', 'ok'],
    additionalProperties: false,
  };
  const out = [];
  for (const seed of [1, 2, 3]) {
    const r = await ctx.generate('Give me JSON:', { jsonSchema: schema, maxTokens: 400, seed }).result;
    const v = JSON.parse(r.text);
    assert(Object.keys(v).sort().join() === 'age,name,ok' && Number.isInteger(v.age) && typeof v.ok === 'boolean', r.text);
    out.push(r.text);
  }
  return out[0];
});

await check('four sequences decode together in one batch and match their single-sequence greedy output', async () => {
  const prompts = ['One', 'Two words', 'Three little words', 'And now four words'];
  const alone = [];
  for (const p of prompts) alone.push(Array.from((await run(p, { temperature: 0 })).tokens));
  const together = await Promise.all(prompts.map((p) => run(p, { temperature: 0 })));
  const equal = together.filter((r, i) => same(Array.from(r.tokens), alone[i])).length;
  assert(together.every((r) => r.usage.completionTokens === 16), 'a sequence ended early');
  // Batched kernels may sum in another order than single-sequence ones; report rather than demand equality.
  return `${equal}/4 identical to their single-sequence run`;
});

await check('a second chat turn evaluates only the new tokens', async () => {
  const chat = ctx.createChatSession({ systemPrompt: 'You are a test.' });
  try {
    const r1 = await chat.send('First question', { maxTokens: 8, ignoreEos: true }).result;
    const r2 = await chat.send('Second question', { maxTokens: 8, ignoreEos: true }).result;
    assert(r2.usage.reusedPromptTokens >= r1.usage.promptTokens, `reused ${r2.usage.reusedPromptTokens} < ${r1.usage.promptTokens}`);
    return `turn 2: ${r2.usage.evaluatedPromptTokens} of ${r2.usage.promptTokens} prompt tokens evaluated`;
  } finally {
    chat.dispose();
  }
});

await check('state saved from the GPU context restores into a fresh one', async () => {
  const file = path.join(tmpdir(), `westfall-gpu-check-${process.pid}.state`);
  try {
    await ctx.clearSequence(0);
    const first = await run('Remember this sentence', { maxTokens: 8, temperature: 0 });
    await ctx.saveState(file, { sequence: 0 });
    const other = await model.createContext({ contextSize: 1024 });
    try {
      const tokens = await other.loadState(file);
      assert(tokens.length >= first.usage.promptTokens, `${tokens.length} tokens restored, the prompt alone had ${first.usage.promptTokens}`);
      // The restored cache is reused: the same tokens as a prompt need (almost) no evaluation.
      const cont = await other.generate(Array.from(tokens), { maxTokens: 4, ignoreEos: true, temperature: 0 }).result;
      assert(cont.usage.completionTokens === 4, 'no continuation after restore');
      assert(cont.usage.reusedPromptTokens >= tokens.length - 1, `only ${cont.usage.reusedPromptTokens} of ${tokens.length} restored tokens reused`);
      return `${tokens.length} tokens restored, ${cont.usage.reusedPromptTokens} reused`;
    } finally {
      other.dispose();
    }
  } finally {
    rmSync(file, { force: true });
  }
});

await check('embeddings are normalized and deterministic', async () => {
  const a = await model.embed('hello world');
  const b = await model.embed('hello world');
  const norm = Math.hypot(...a);
  assert(Math.abs(norm - 1) < 1e-3, `norm ${norm}`);
  assert(a.length === model.info.embeddingLength, `length ${a.length}`);
  let cos = 0;
  for (let i = 0; i < a.length; i++) cos += a[i] * b[i];
  assert(cos > 0.9999, `cosine ${cos}`);
  return `dim ${a.length}`;
});

await check('use after dispose is a typed error, not a crash', async () => {
  ctx.dispose();
  let code;
  try {
    ctx.generate('x');
  } catch (err) {
    code = err.code;
  }
  assert(code === 'disposed', `code ${code}`);
  model.dispose();
});

await check('50 load/unload cycles give the device memory back', async () => {
  const free = () => systemInfo().devices.filter((d) => d.type !== 'cpu').reduce((s, d) => s + d.memoryFree, 0);
  const before = free();
  for (let i = 0; i < 50; i++) {
    const m = await loadModel({ path: benchPath, gpuLayers: -1 });
    const c = await m.createContext({ contextSize: 2048 });
    await c.generate('hi', { maxTokens: 1 }).result;
    m.dispose();
  }
  const after = free();
  const lostMiB = (before - after) / 2 ** 20;
  assert(lostMiB < 64, `${lostMiB.toFixed(0)} MiB less free memory after the cycles`);
  return `free memory change ${(-lostMiB).toFixed(0)} MiB`;
}, { gpuOnly: true });

setLogHandler(null, 'error');

// Automatic settings from the GGUF and the device's free memory.
const { ensureSyntheticShape } = await dist('tuning/index.js');
const shapes = values.shapes.split(',').filter(Boolean);
const shapeFiles = {};
for (const s of shapes) {
  const t = performance.now();
  shapeFiles[s] = s === 'qwen2-0.5b' ? benchPath : (await ensureSyntheticShape(s, { modelsDir })).path;
  log(`${s}: ${path.basename(shapeFiles[s])} (${(statSync(shapeFiles[s]).size / 2 ** 30).toFixed(2)} GiB) ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
for (const s of shapes) {
  await check(`automatic settings for ${s} put every layer on the GPU`, async () => {
    const plan = await autoModelSettings(shapeFiles[s]);
    report.plans.push({ shape: s, gpuLayers: plan.gpuLayers, contextSize: plan.contextSize, reason: plan.reason });
    assert(plan.gpuLayers === plan.geometry.nLayer + 1 || plan.gpuLayers >= plan.geometry.nLayer, `planned ${plan.gpuLayers} of ${plan.geometry.nLayer} layers`);
    return { gpuLayers: plan.gpuLayers, contextSize: plan.contextSize };
  }, { gpuOnly: true });
}
save();

// ---------------------------------------------------------------------------------------------------
// Benchmarks: the engine (in its own process, so RSS and load time are its own) against llama-bench from
// the same build tree, with every layer on the GPU and with none (CPU, cpuThreads threads).
if (!values['no-bench']) {
  const llamaBench = findFile(path.join(root, backend === 'cpu' ? 'build' : `build-${backend}`), 'llama-bench');
  if (!llamaBench) log(`no llama-bench in build-${backend}/ (build with --llama-tools): engine figures only`);
  const placements = gpu ? [{ name: 'gpu', ngl: 99, gpuLayers: -1, threads: cpuThreads }, { name: 'cpu', ngl: 0, gpuLayers: 0, threads: cpuThreads }] : [{ name: 'cpu', ngl: 0, gpuLayers: 0, threads: cpuThreads }];
  for (const [i, s] of shapes.entries()) {
    // The CPU figures come from the smallest shape only: a larger model on the CPU takes minutes.
    for (const p of placements.filter((x) => i === 0 || x.name !== 'cpu')) {
      const row = { shape: s, placement: p.name, threads: p.threads };
      try {
        const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), `--worker=${JSON.stringify({ model: shapeFiles[s], gpuLayers: p.gpuLayers, threads: p.threads, backend })}`], {
          encoding: 'utf8',
          maxBuffer: 16 << 20,
          timeout: 240_000,
        });
        if (r.status !== 0) throw new Error(`worker exited ${r.status}: ${r.stderr.slice(-2000)}`);
        row.westfall = JSON.parse(r.stdout.trim().split('\n').at(-1));
      } catch (err) {
        row.westfallError = String(err.message ?? err);
      }
      if (llamaBench) {
        const r = spawnSync(llamaBench, ['-m', shapeFiles[s], '-t', String(p.threads), '-ngl', String(p.ngl), '-p', '512', '-n', '128', '-b', '512', '-ub', '512', '-r', '3', '-o', 'json'], {
          encoding: 'utf8',
          maxBuffer: 16 << 20,
          timeout: 240_000,
        });
        try {
          const rows = JSON.parse(r.stdout);
          row.llamaBench = {
            pp512: rows.find((x) => x.n_prompt === 512 && x.n_gen === 0).avg_ts,
            tg128: rows.find((x) => x.n_gen === 128 && x.n_prompt === 0).avg_ts,
          };
        } catch {
          row.llamaBenchError = `exit ${r.status}: ${(r.stderr ?? '').slice(-1500)}`;
        }
      }
      if (row.westfall && row.llamaBench) {
        row.ratio = { pp512: row.westfall.pp512 / row.llamaBench.pp512, tg128: row.westfall.tg128 / row.llamaBench.tg128 };
      }
      report.bench.push(row);
      log(`bench ${JSON.stringify(row)}`);
      save();
    }
  }
}

// The tuning sweep (`westfall bench`) over GPU layers and flash attention on the larger shape.
if (!values['no-sweep']) {
  const { runBenchCommand } = await dist('cli/commands/bench.js');
  const shape = shapes.at(-1);
  const sweepOut = path.join(outDir, 'sweep');
  const lines = [];
  const code = await runBenchCommand(
    ['--synthetic', shape, '--cache-dir', modelsDir, '--quick', '--threads', String(cpuThreads), '--gpu-layers', gpu ? '0,all' : '0', '--flash-attn', 'on,off', '--out', sweepOut, '--no-progress', '--data-dir', path.join(tmpdir(), `westfall-gpu-check-${process.pid}`)],
    { stdout: { write: (s) => lines.push(s) }, stderr: { write: (s) => lines.push(s) } },
  );
  report.sweep = { shape, exitCode: code, output: lines.join('') };
  log(lines.join(''));
}

report.finishedAt = new Date().toISOString();
save();
const failed = report.checks.filter((c) => c.status === 'fail');
writeFileSync(path.join(outDir, 'gpu-check.md'), markdown());
log(`\n${report.checks.length - failed.length}/${report.checks.length} checks passed or skipped; report in ${path.relative(process.cwd(), outDir) || '.'}/gpu-check.{json,md}`);
process.exit(failed.length === 0 ? 0 : 1);

// ---------------------------------------------------------------------------------------------------
function findFile(dir, name) {
  if (!existsSync(dir)) return null;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) stack.push(p);
      else if (e.name === name) return p;
    }
  }
  return null;
}

function markdown() {
  const f = (x, d = 1) => (typeof x === 'number' ? x.toFixed(d) : '—');
  const dev = report.devices.filter((d) => d.type !== 'cpu').map((d) => d.description || d.name).join(', ') || 'none';
  const rows = report.bench.map(
    (r) =>
      `| ${r.shape} | ${r.placement} | ${f(r.westfall?.pp512)} | ${f(r.llamaBench?.pp512)} | ${f(r.ratio?.pp512, 2)} | ${f(r.westfall?.tg128)} | ${f(r.llamaBench?.tg128)} | ${f(r.ratio?.tg128, 2)} | ${f(r.westfall?.ttft32Ms)} | ${f(r.westfall?.loadMs, 0)} | ${f(r.westfall?.peakRssMb, 0)} |`,
  );
  return [
    `# GPU check: ${report.backend}`,
    '',
    `${report.startedAt}; variant ${report.variant?.selected?.label ?? 'none'}; GPU: ${dev}; llama.cpp ${report.llamaCpp}.`,
    '',
    '## Checks',
    '',
    ...report.checks.map((c) => `- ${c.status.toUpperCase()} ${c.name}${c.detail ? ` — ${typeof c.detail === 'string' ? c.detail : JSON.stringify(c.detail)}` : ''}${c.error ? ` — ${c.error.split('\n')[0]}` : ''}`),
    '',
    '## Engine against llama-bench (same build tree, same run)',
    '',
    'pp512 and tg128 in tokens/s; TTFT for a 32-token prompt; load and peak RSS of the engine process.',
    '',
    '| model | placement | pp512 westfall | pp512 llama-bench | ratio | tg128 westfall | tg128 llama-bench | ratio | TTFT ms | load ms | RSS MiB |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

async function benchWorker({ model: modelPath, gpuLayers, threads, backend, flashAttention = 'auto' }) {
  const { loadModel, setLogHandler } = await dist('index.js');
  const { initNative } = await dist('engine/native.js');
  await initNative({ backend });
  setLogHandler(null, 'error');
  const vocab = 100_000;
  let state = 1;
  const rnd = () => ((state = (state * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const prompt = (n, seed) => {
    state = seed;
    return Array.from({ length: n }, () => 1000 + Math.floor(rnd() * vocab));
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const t0 = performance.now();
  const model = await loadModel({ path: modelPath, gpuLayers });
  const loadMs = performance.now() - t0;
  const ctx = await model.createContext({ contextSize: 4096, batchSize: 512, ubatchSize: 512, threads, flashAttention });
  await ctx.generate(prompt(8, 1), { maxTokens: 4, ignoreEos: true }).result;
  const pp = [];
  const tg = [];
  const ttft = [];
  for (let r = 0; r < 3; r++) {
    await ctx.clearSequence(0);
    const res = await ctx.generate(prompt(512, 10 + r), { maxTokens: 1, ignoreEos: true }).result;
    pp.push((512 * 1000) / res.timings.promptMs);
  }
  for (let r = 0; r < 3; r++) {
    await ctx.clearSequence(0);
    const res = await ctx.generate(prompt(1, 20 + r), { maxTokens: 128, ignoreEos: true, seed: r }).result;
    tg.push(res.timings.generationTokensPerSecond);
  }
  // llama-bench's tg does not sample at all; greedy is the nearest engine path (no sampling chain).
  const tgGreedy = [];
  for (let r = 0; r < 3; r++) {
    await ctx.clearSequence(0);
    const res = await ctx.generate(prompt(1, 20 + r), { maxTokens: 128, ignoreEos: true, temperature: 0 }).result;
    tgGreedy.push(res.timings.generationTokensPerSecond);
  }
  for (let r = 0; r < 5; r++) {
    await ctx.clearSequence(0);
    const t = performance.now();
    for await (const _ of ctx.generate(prompt(32, 30 + r), { maxTokens: 1, ignoreEos: true })) {
      ttft.push(performance.now() - t);
      break;
    }
  }
  model.dispose();
  process.stdout.write(`${JSON.stringify({ loadMs, pp512: median(pp), tg128: median(tg), tg128Greedy: median(tgGreedy), ttft32Ms: median(ttft), peakRssMb: process.resourceUsage().maxRSS / 1024 })}\n`);
}
