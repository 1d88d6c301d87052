// Measures one configuration in this process: load time, prompt processing (pp) and generation (tg)
// speed, time to first token, and memory. Run by the sweep's worker process (one process per
// configuration and repetition round, so that RSS and load time are its own) or in-process.
import { Rng } from '../gguf/index.js';
import { loadModel, setLogHandler, type Context, type Model } from '../engine/index.js';
import { contextOptionsSchema } from '../engine/options.js';
import type { EngineBuffer, KvCacheType, SweepConfig } from './types.js';

export interface MeasureJob {
  modelPath: string;
  config: SweepConfig;
  /** Prompt length for pp (tokens). */
  promptTokens: number;
  /** Tokens generated for tg. */
  genTokens: number;
  /** Prompt length for the time-to-first-token measurement. */
  ttftPromptTokens: number;
  repetitions: number;
  warmup: boolean;
  seed: number;
  /** Route llama.cpp's log here to read its buffer sizes (process-wide: only in a dedicated process). */
  captureEngineLog: boolean;
}

export type MeasureStep = 'load' | 'warmup' | 'pp' | 'tg' | 'ttft';

export interface MeasureOutcome {
  loadMs: number[];
  pp: number[];
  tg: number[];
  ttftMs: number[];
  rssBeforeBytes: number;
  rssEndBytes: number;
  peakRssBytes: number;
  modelBytes: number;
  vocabSize: number;
  buffers: EngineBuffer[];
  kvTypes: { k: string; v: string } | null;
  flashAttentionResolved: 'on' | 'off' | null;
}

/** Whether the engine's createContext accepts a KV-cache element type (typeK / typeV). */
export function engineSupportsKvCacheType(): boolean {
  const shape = (contextOptionsSchema as unknown as { shape?: Record<string, unknown> }).shape ?? {};
  return 'typeK' in shape && 'typeV' in shape;
}

const WORDS = (
  'the of and to in is that it was for on are with as his they be at one have this from or had by hot word but what some we can ' +
  'out other were all there when up use your how said an each she which do their time if will way about many then them write would ' +
  'like so these her long make thing see him two has look more day could go come did number sound no most people my over know water ' +
  'than call first who may down side been now find any new work part take get place made live where after back little only round man ' +
  'year came show every good me give our under name very through just form sentence great think say help low line differ turn cause ' +
  'much mean before move right boy old too same tell does set three want air well also play small end put home read hand port large ' +
  'spell add even land here must big high such follow act why ask men change went light kind off need house picture try us again animal'
).split(' ');

/** Ordinary English text tokenized by the model itself, cut to exactly `n` tokens (no special tokens inside). */
export function promptTokens(model: Model, n: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  let words = Math.max(16, Math.ceil(n * 1.2));
  for (let attempt = 0; attempt < 8; attempt++) {
    const parts: string[] = [];
    for (let i = 0; i < words; i++) {
      const w = WORDS[rng.nextU32() % WORDS.length]!;
      parts.push(i % 12 === 0 ? w[0]!.toUpperCase() + w.slice(1) : w);
      if (i % 12 === 11) parts[parts.length - 1] += '.';
    }
    const tokens = model.tokenize(parts.join(' '), { addSpecial: true, parseSpecial: false });
    if (tokens.length >= n) return tokens.slice(0, n);
    words *= 2;
  }
  throw new Error(`could not build a ${n}-token prompt with this tokenizer`);
}

const MIB = 1024 * 1024;
const BUFFER_PATTERNS: [EngineBuffer['kind'], RegExp][] = [
  ['model', /(\S+) model buffer size =\s*([\d.]+) MiB/],
  ['kv', /(\S+) KV buffer size =\s*([\d.]+) MiB/],
  ['compute', /(\S+) compute buffer size =\s*([\d.]+) MiB/],
  ['output', /(\S+)\s+output buffer size =\s*([\d.]+) MiB/],
];

/** Reads buffer sizes, KV types and the flash-attention decision from llama.cpp's log lines. */
export class EngineLogReader {
  readonly buffers: EngineBuffer[] = [];
  kvTypes: { k: string; v: string } | null = null;
  flashAttention: 'on' | 'off' | null = null;

  line(message: string): void {
    for (const [kind, re] of BUFFER_PATTERNS) {
      const m = re.exec(message);
      if (m) {
        this.buffers.push({ kind, device: m[1]!, bytes: Math.round(Number(m[2]) * MIB) });
        return;
      }
    }
    const kv = /K \((\w+)\):.*V \((\w+)\):/.exec(message);
    if (kv && message.includes('llama_kv_cache')) this.kvTypes = { k: kv[1]!, v: kv[2]! };
    if (/Flash Attention enabled/.test(message)) this.flashAttention = 'on';
    else if (/Flash Attention not supported/.test(message)) this.flashAttention = 'off';
  }
}

function rss(): number {
  return process.memoryUsage.rss();
}

export async function measureConfig(job: MeasureJob, onStep: (step: MeasureStep) => void = () => {}): Promise<MeasureOutcome> {
  const c = job.config;
  const log = new EngineLogReader();
  let peak = rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss());
  }, 20);
  sampler.unref();
  const out: MeasureOutcome = {
    loadMs: [],
    pp: [],
    tg: [],
    ttftMs: [],
    rssBeforeBytes: 0,
    rssEndBytes: 0,
    peakRssBytes: 0,
    modelBytes: 0,
    vocabSize: 0,
    buffers: [],
    kvTypes: null,
    flashAttentionResolved: c.flashAttention === 'auto' ? null : c.flashAttention,
  };
  let model: Model | undefined;
  try {
    if (job.captureEngineLog) setLogHandler((_level, message) => log.line(message), 'info');
    out.rssBeforeBytes = rss();
    const t0 = performance.now();
    model = await loadModel({ path: job.modelPath, gpuLayers: c.gpuLayers });
    const kv: Record<string, KvCacheType> = c.kvCacheType === 'f16' && !engineSupportsKvCacheType() ? {} : { typeK: c.kvCacheType, typeV: c.kvCacheType };
    const ctx: Context = await model.createContext({
      contextSize: c.contextSize,
      batchSize: c.batchSize,
      ubatchSize: c.ubatchSize,
      threads: c.threads,
      threadsBatch: c.threads,
      flashAttention: c.flashAttention,
      sequences: 1,
      ...kv,
    } as Parameters<Model['createContext']>[0]);
    out.loadMs.push(performance.now() - t0);
    out.modelBytes = model.info.tensorSizeBytes;
    out.vocabSize = model.info.vocabSize;
    await new Promise((r) => setImmediate(r)); // let the last log lines arrive
    if (job.captureEngineLog) setLogHandler(null, 'error');
    onStep('load');

    const contextRoom = ctx.info.contextSizePerSequence - 1;
    const clamp = (n: number) => Math.max(1, Math.min(n, contextRoom));
    if (job.warmup) {
      await ctx.generate(promptTokens(model, clamp(Math.min(32, job.promptTokens)), job.seed), { maxTokens: 8, ignoreEos: true, seed: 1 }).result;
      await ctx.clearSequence(0);
      onStep('warmup');
    }

    const ppLen = clamp(job.promptTokens);
    const genPrompt = clamp(8);
    const genLen = Math.max(2, Math.min(job.genTokens, contextRoom - genPrompt));
    const ttftLen = clamp(job.ttftPromptTokens);
    for (let r = 0; r < job.repetitions; r++) {
      await ctx.clearSequence(0);
      const res = await ctx.generate(promptTokens(model, ppLen, job.seed + 100 + r), { maxTokens: 1, ignoreEos: true }).result;
      out.pp.push((res.usage.evaluatedPromptTokens * 1000) / Math.max(res.timings.promptMs, 1e-6));
      onStep('pp');

      // Default sampler chain (top-k 40, top-p 0.9, temperature 0.7): tg includes sampling, as a user sees it.
      await ctx.clearSequence(0);
      const g = await ctx.generate(promptTokens(model, genPrompt, job.seed + 200 + r), { maxTokens: genLen, ignoreEos: true, seed: r + 1 }).result;
      out.tg.push(g.timings.generationTokensPerSecond);
      onStep('tg');

      // Wall time from the call to the first streamed chunk: what a client waits for on a short prompt.
      await ctx.clearSequence(0);
      const tokens = promptTokens(model, ttftLen, job.seed + 300 + r);
      const t = performance.now();
      const gen = ctx.generate(tokens, { maxTokens: 1, ignoreEos: true });
      let first = Number.NaN;
      for await (const _chunk of gen) {
        first = performance.now() - t;
        break;
      }
      await gen.result.catch(() => undefined);
      out.ttftMs.push(first);
      onStep('ttft');
    }
    out.rssEndBytes = rss();
  } finally {
    clearInterval(sampler);
    if (job.captureEngineLog) setLogHandler(null, 'error');
    model?.dispose();
  }
  out.peakRssBytes = Math.max(peak, out.rssEndBytes);
  out.buffers = log.buffers;
  out.kvTypes = log.kvTypes;
  if (out.flashAttentionResolved === null) out.flashAttentionResolved = log.flashAttention;
  return out;
}
