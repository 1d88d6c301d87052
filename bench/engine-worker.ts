// One engine's measurements, run in its own process so that load time and peak RSS are its own.
//   tsx bench/engine-worker.ts <westfall|westfall-4k-pages|node-llama-cpp> <model> <threads> <vocab size>
// westfall-4k-pages: our engine with huge pages off (hugePages: false), to show what they are worth.
// Prints one JSON line: { loadMs, pp512, tg128, ttft32Ms, peakRssMb }.
import { Rng } from '../src/gguf/index.js';

const [engine, modelPath, threadsArg, vocabArg] = process.argv.slice(2);
const vocab = Number(vocabArg ?? 32000);
const threads = Number(threadsArg ?? 2);
const REPS = 3;
// TTFT is one ~0.1 s prompt: single runs swing by ±5% on a busy 2-core machine, so it gets more repetitions.
const TTFT_REPS = 11;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function promptTokens(n: number, vocab: number, seed: number): number[] {
  const rng = new Rng(seed);
  // Ordinary (non-special) token ids: the first 100k ids of the qwen2 vocabulary are all text pieces.
  return Array.from({ length: n }, () => 1000 + Math.floor(rng.nextFloat() * Math.min(vocab - 2000, 100_000)));
}

interface Figures {
  loadMs: number;
  pp512: number;
  tg128: number;
  ttft32Ms: number;
}

async function westfall(): Promise<Figures> {
  const { loadModel, setLogHandler } = await import('../src/index.js');
  setLogHandler(null, 'error');
  const t0 = performance.now();
  const model = await loadModel({ path: modelPath!, hugePages: engine !== 'westfall-4k-pages' });
  const loadMs = performance.now() - t0;
  const ctx = await model.createContext({ contextSize: 4096, batchSize: 512, ubatchSize: 512, threads });
  await ctx.generate(promptTokens(8, vocab, 1), { maxTokens: 4, ignoreEos: true }).result; // warm-up

  const pp: number[] = [];
  for (let r = 0; r < REPS; r++) {
    await ctx.clearSequence(0);
    const res = await ctx.generate(promptTokens(512, vocab, 10 + r), { maxTokens: 1, ignoreEos: true }).result;
    pp.push((512 * 1000) / res.timings.promptMs);
  }
  const tg: number[] = [];
  for (let r = 0; r < REPS; r++) {
    await ctx.clearSequence(0);
    // Default sampler chain (top-k, top-p, temperature, dist): generation speed includes sampling.
    const res = await ctx.generate(promptTokens(1, vocab, 20 + r), { maxTokens: 128, ignoreEos: true, seed: r }).result;
    tg.push(res.timings.generationTokensPerSecond);
  }
  const ttft: number[] = [];
  for (let r = 0; r < TTFT_REPS; r++) {
    await ctx.clearSequence(0);
    const t = performance.now();
    const gen = ctx.generate(promptTokens(32, vocab, 30 + r), { maxTokens: 1, ignoreEos: true });
    for await (const _ of gen) {
      ttft.push(performance.now() - t);
      break;
    }
  }
  model.dispose();
  return { loadMs, pp512: median(pp), tg128: median(tg), ttft32Ms: median(ttft) };
}

async function nodeLlamaCpp(): Promise<Figures> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const t0 = performance.now();
  const model = await llama.loadModel({ modelPath: modelPath!, gpuLayers: 0 });
  const loadMs = performance.now() - t0;
  const context = await model.createContext({ contextSize: 4096, batchSize: 512, threads });
  const seq = context.getSequence();
  type Tok = Parameters<typeof seq.evaluateWithoutGeneratingNewTokens>[0];
  const sampling = { temperature: 0.7, topK: 40, topP: 0.9 };
  for await (const _ of seq.evaluate(promptTokens(8, vocab, 1) as Tok, sampling)) break; // warm-up

  const pp: number[] = [];
  for (let r = 0; r < REPS; r++) {
    await seq.clearHistory();
    const t = performance.now();
    await seq.evaluateWithoutGeneratingNewTokens(promptTokens(512, vocab, 10 + r) as Tok);
    pp.push((512 * 1000) / (performance.now() - t));
  }
  const tg: number[] = [];
  for (let r = 0; r < REPS; r++) {
    await seq.clearHistory();
    let n = 0;
    let tFirst = 0;
    for await (const _ of seq.evaluate(promptTokens(1, vocab, 20 + r) as Tok, sampling)) {
      if (++n === 1) tFirst = performance.now();
      if (n === 128) break;
    }
    tg.push(((n - 1) * 1000) / (performance.now() - tFirst));
  }
  const ttft: number[] = [];
  for (let r = 0; r < TTFT_REPS; r++) {
    await seq.clearHistory();
    const t = performance.now();
    for await (const _ of seq.evaluate(promptTokens(32, vocab, 30 + r) as Tok, sampling)) {
      ttft.push(performance.now() - t);
      break;
    }
  }
  await model.dispose();
  return { loadMs, pp512: median(pp), tg128: median(tg), ttft32Ms: median(ttft) };
}

const figures = engine === 'node-llama-cpp' ? await nodeLlamaCpp() : await westfall();
const peakRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ ...figures, peakRssMb })}\n`);
process.exit(0);
