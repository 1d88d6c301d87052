// Mutation fuzzing of saved conversation states (src/engine/prompt-cache.ts): a state file of the tiny
// model is damaged in many ways, and a fresh context must still answer a prompt that continues it, either
// from the state or by evaluating everything, never crash, hang or answer wrongly. Half the cases fix up
// the checksum after the damage, so that llama.cpp's own state reader sees the bad bytes (a file damaged
// by a bug rather than by the disk). Cases run in a child process, so an abort inside llama.cpp ends
// only the child; it is restarted for the next case.
//
//   npx tsx scripts/fuzz-state.ts [--cases 200] [--seed 1] [--timeout 120] [--json FILE]
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

export interface StateFuzzOptions {
  cases: number;
  seed: number;
  timeoutMs: number;
  log?: (line: string) => void;
}

export interface StateFuzzCase {
  index: number;
  kind: string;
  outcome: 'restored' | 'evaluated' | 'typed-error' | 'crash' | 'hang' | 'wrong';
  detail: string;
}

export interface StateFuzzReport {
  cases: StateFuzzCase[];
  failures: StateFuzzCase[];
  counts: Record<string, number>;
}

const PROMPT = 'A long note to remember: the garden needs water on Mondays, the bike needs new brakes, rent is due on the first, and the concert is on Friday. '.repeat(3);
const MORE = ' What should I do first?';
const GREEDY = { maxTokens: 8, ignoreEos: true, temperature: 0 } as const;

// mulberry32: consecutive seeds give unrelated sequences.
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Damages a valid state file; returns the new bytes and what was done. */
export function mutate(buf: Buffer, index: number, seed: number): { bytes: Buffer; kind: string } {
  const r = rng(seed * 1_000_003 + index * 7919);
  const int = (n: number) => Math.floor(r() * n);
  const headerLen = buf.readUInt32LE(8);
  const header = JSON.parse(buf.subarray(12, 12 + headerLen).toString('utf8')) as { tokens: number; dataBytes: number };
  const tokensAt = 12 + headerLen;
  const dataAt = tokensAt + header.tokens * 4;
  const end = buf.length - 4;
  let out = Buffer.from(buf);
  let kind: string;
  const fixCrc = index % 2 === 1;
  switch (int(6)) {
    case 0: {
      const at = int(buf.length);
      out[at] = int(256);
      kind = `byte ${at} set`;
      break;
    }
    case 1: {
      // The KV data itself: cell counts, positions, layer and type tags come first.
      const at = dataAt + (r() < 0.5 ? int(Math.min(256, header.dataBytes)) : int(header.dataBytes));
      for (let i = 0; i < 1 + int(8); i++) out[Math.min(end - 1, at + i)] = int(256);
      kind = `data bytes at ${at - dataAt} set`;
      break;
    }
    case 2: {
      const t = int(header.tokens);
      out.writeInt32LE([-1, 0x7fffffff, int(200_000), 151_000 + int(2000)][int(4)]!, tokensAt + t * 4);
      kind = `token ${t} replaced`;
      break;
    }
    case 3: {
      const cut = dataAt + int(header.dataBytes);
      out = Buffer.concat([out.subarray(0, cut), out.subarray(end)]);
      kind = `data cut at ${cut - dataAt}`;
      break;
    }
    case 4: {
      // The header's own numbers, consistent with the file's size or not.
      const h = { ...header, tokens: header.tokens + [-1, 1, -header.tokens, 1e6][int(4)]! } as Record<string, unknown>;
      const hb = Buffer.from(JSON.stringify({ ...JSON.parse(buf.subarray(12, 12 + headerLen).toString('utf8')), ...h }));
      const head = Buffer.from(out.subarray(0, 12));
      head.writeUInt32LE(hb.length, 8);
      out = Buffer.concat([head, hb, out.subarray(tokensAt)]);
      kind = `header tokens ${String(h.tokens)}`;
      break;
    }
    default: {
      // Another state's data under these tokens: a different length of the same model's cache.
      const keep = dataAt + int(header.dataBytes);
      out = Buffer.concat([out.subarray(0, keep), Buffer.alloc(int(4096), int(256)), out.subarray(end)]);
      kind = `data resized`;
      break;
    }
  }
  if (fixCrc && out.length >= 4) out.writeUInt32LE(zlib.crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return { bytes: out, kind: `${kind}${fixCrc ? ' (checksum fixed)' : ''}` };
}

// ---------------------------------------------------------------------------------------------------
// The child: answers cases over IPC

interface ChildCase {
  index: number;
  dir: string;
  /** The answer continuing the state, and the answer with everything evaluated in one go (a different
   * batch split rounds differently, and random weights turn that into other tokens). */
  expectRestored: string;
  expectFresh: string;
}

async function child(): Promise<void> {
  const { loadModel, PromptCache, isWestfallError } = await import('../src/index.js');
  const { TINY_MODEL } = await import('../tests/helpers/models.js');
  const model = await loadModel({ path: TINY_MODEL });
  process.send!({ ready: true });
  process.on('message', async (msg: ChildCase) => {
    try {
      const cache = new PromptCache({ dir: msg.dir, maxBytes: 2 ** 40, minTokens: 1 });
      await cache.open();
      const ctx = await model.createContext({ contextSize: 1024, threads: 1 });
      ctx.attachPromptCache(cache);
      try {
        const r = await ctx.generate(PROMPT + MORE, GREEDY).result;
        const restored = r.usage.restoredPromptTokens > 0;
        const outcome = r.text !== (restored ? msg.expectRestored : msg.expectFresh) ? 'wrong' : restored ? 'restored' : 'evaluated';
        process.send!({ index: msg.index, outcome, detail: `restored ${r.usage.restoredPromptTokens}, removed bad ${cache.stats().removedBad}` });
      } finally {
        ctx.dispose();
      }
    } catch (err) {
      process.send!({ index: msg.index, outcome: isWestfallError(err) ? 'typed-error' : 'wrong', detail: String((err as Error)?.message ?? err) });
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// The parent

export async function fuzzStates(options: StateFuzzOptions): Promise<StateFuzzReport> {
  const log = options.log ?? (() => {});
  const { loadModel, PromptCache } = await import('../src/index.js');
  const { TINY_MODEL } = await import('../tests/helpers/models.js');
  const work = mkdtempSync(join(tmpdir(), 'westfall-fuzz-state-'));
  try {
    // A valid state and the reference answers: from it, and with everything evaluated.
    const model = await loadModel({ path: TINY_MODEL });
    let expectRestored: string;
    let expectFresh: string;
    const source = join(work, 'source');
    try {
      const cache = new PromptCache({ dir: source, maxBytes: 2 ** 40, minTokens: 1 });
      await cache.open();
      const ctx = await model.createContext({ contextSize: 1024, threads: 1 });
      ctx.attachPromptCache(cache);
      await ctx.generate(PROMPT, GREEDY).result;
      await ctx.flushPromptCache();
      ctx.dispose();
      // The state holds the reply as well; a context that ran the same prompt alone gives the reference.
      const ref = await model.createContext({ contextSize: 1024, threads: 1 });
      await ref.generate(PROMPT, GREEDY).result;
      expectRestored = (await ref.generate(PROMPT + MORE, GREEDY).result).text;
      ref.dispose();
      const fresh = await model.createContext({ contextSize: 1024, threads: 1 });
      expectFresh = (await fresh.generate(PROMPT + MORE, GREEDY).result).text;
      fresh.dispose();
    } finally {
      model.dispose();
    }
    const [file] = readdirSync(source).filter((f) => f.endsWith('.wfkv'));
    if (!file) throw new Error('no state was saved');
    const original = readFileSync(join(source, file));

    const cases: StateFuzzCase[] = [];
    let proc: ChildProcess | null = null;
    let ready: Promise<void> | null = null;
    const startChild = () => {
      proc = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      ready = new Promise((resolve, reject) => {
        proc!.once('message', () => resolve());
        proc!.once('exit', (code, signal) => reject(new Error(`the fuzz child exited before it was ready (${code ?? signal})`)));
      });
    };
    // Case -1 is the undamaged file: it must be restored, or the fuzzer tests nothing.
    for (let index = -1; index < options.cases; index++) {
      if (!proc) startChild();
      await ready;
      const { bytes, kind } = index < 0 ? { bytes: original, kind: 'undamaged' } : mutate(original, index, options.seed);
      const dir = join(work, `case-${index}`);
      mkdirSync(dir);
      writeFileSync(join(dir, file), bytes);
      const p = proc!;
      const result = await new Promise<Omit<StateFuzzCase, 'index' | 'kind'>>((resolve) => {
        const timer = setTimeout(() => {
          p.kill('SIGKILL');
          resolve({ outcome: 'hang', detail: `no answer within ${options.timeoutMs} ms` });
        }, options.timeoutMs);
        const onMessage = (m: { index?: number; outcome: StateFuzzCase['outcome']; detail: string }) => {
          if (m.index !== index) return;
          cleanup();
          resolve({ outcome: m.outcome, detail: m.detail });
        };
        const onExit = (code: number | null, signal: string | null) => {
          cleanup();
          resolve({ outcome: 'crash', detail: `child exited: ${signal ?? code}` });
        };
        const cleanup = () => {
          clearTimeout(timer);
          p.off('message', onMessage);
          p.off('exit', onExit);
        };
        p.on('message', onMessage);
        p.once('exit', onExit);
        p.send({ index, dir, expectRestored, expectFresh } satisfies ChildCase);
      });
      if (result.outcome === 'crash' || result.outcome === 'hang') proc = null;
      // With the checksum fixed up, damage in the cache's values is invisible by design and may change the
      // answer; what must hold there is only that nothing crashes or hangs.
      const fixed = kind.endsWith('(checksum fixed)');
      const c = { index, kind, ...result, ...(fixed && result.outcome === 'wrong' ? { outcome: 'restored' as const, detail: `${result.detail}; answer differs (damage under a valid checksum)` } : {}) };
      if (index < 0) {
        if (c.outcome !== 'restored') throw new Error(`the undamaged state was not restored (${c.outcome}: ${c.detail})`);
        continue;
      }
      cases.push(c);
      if (c.outcome === 'crash' || c.outcome === 'hang' || c.outcome === 'wrong') log(`case ${index} (${kind}): ${c.outcome}: ${c.detail}`);
      rmSync(dir, { recursive: true, force: true });
    }
    (proc as ChildProcess | null)?.kill();
    const failures = cases.filter((c) => c.outcome === 'crash' || c.outcome === 'hang' || c.outcome === 'wrong');
    const counts: Record<string, number> = {};
    for (const c of cases) counts[c.outcome] = (counts[c.outcome] ?? 0) + 1;
    return { cases, failures, counts };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv.includes('--child')) {
  await child();
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { cases: { type: 'string', default: '200' }, seed: { type: 'string', default: '1' }, timeout: { type: 'string', default: '120' }, json: { type: 'string' } } });
  const report = await fuzzStates({ cases: Number(values.cases), seed: Number(values.seed), timeoutMs: Number(values.timeout) * 1000, log: (l) => console.log(l) });
  console.log(`${report.cases.length} cases, seed ${values.seed}: ${JSON.stringify(report.counts)}; ${report.failures.length} failures`);
  if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
  process.exitCode = report.failures.length > 0 ? 1 : 0;
}
