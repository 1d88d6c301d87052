// Mutation fuzzing of GGUF loading: single-byte changes of the tiny test model, each loaded (and, if it
// loads, used for a short generation) in a child process, so that an abort inside llama.cpp ends only the
// child. Every outcome must be a load and an answer, or a typed WestfallError; a signal, an untyped error
// or a hang is a finding.
//
//   npx tsx scripts/fuzz-gguf.ts [--cases 300] [--seed 1] [--model PATH] [--timeout 120] [--keep DIR] [--json FILE]
//   npx tsx scripts/fuzz-gguf.ts --sweep     every byte of every metadata value set to 0x00 and 0xFF
//
// Offsets are biased towards the header (metadata and tensor table), where llama.cpp asserts, and within
// it towards the structural fields: lengths, counts, value types, tensor shapes, types and offsets.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// ---------------------------------------------------------------------------------------------------
// The layout of a valid GGUF file, as byte ranges with labels

export interface Field {
  start: number;
  end: number;
  label: string;
  /** A length, count, type tag, shape or offset, as opposed to text or numbers of the payload. */
  structural: boolean;
  /** A metadata value of its own (not an array item): hyperparameters, token ids, short strings. */
  value?: boolean;
}

export interface GgufLayout {
  fields: Field[];
  headerSize: number;
  fileSize: number;
}

const SCALAR_SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
/** Items of a long array whose fields are recorded one by one; the rest are one range. */
const ARRAY_EDGE = 16;

/** Walks a valid GGUF buffer and returns its fields. Throws on a file it cannot follow. */
export function ggufLayout(buf: Buffer): GgufLayout {
  const fields: Field[] = [];
  let pos = 0;
  const add = (len: number, label: string, structural: boolean, value = false) => {
    if (pos + len > buf.length) throw new Error(`layout runs past the end at ${label}`);
    fields.push({ start: pos, end: pos + len, label, structural, ...(value ? { value } : {}) });
    pos += len;
  };
  const u64 = () => Number(buf.readBigUInt64LE(pos));
  add(4, 'magic', true);
  add(4, 'version', true);
  const nTensors = u64();
  add(8, 'tensor count', true);
  const nKv = u64();
  add(8, 'metadata count', true);

  const value = (type: number, label: string, record: boolean, top = false): void => {
    if (type === 8) {
      const len = u64();
      if (record) {
        add(8, `${label} length`, true);
        add(len, label, false, top && len <= 64);
      } else pos += 8 + len;
      return;
    }
    if (type === 9) {
      const itemType = buf.readUInt32LE(pos);
      add(4, `${label} item type`, true);
      const n = u64();
      add(8, `${label} count`, true);
      for (let i = 0; i < n; i++) {
        const edge = i < ARRAY_EDGE || i >= n - ARRAY_EDGE;
        const start = pos;
        value(itemType, `${label}[${i}]`, edge && record);
        if (!edge && i === ARRAY_EDGE) fields.push({ start, end: start, label: `${label}[${ARRAY_EDGE}..]`, structural: false });
        // The middle of a long array is one range, extended as it is walked.
        if (!edge) fields[fields.length - 1]!.end = pos;
      }
      return;
    }
    const size = SCALAR_SIZES[type];
    if (size === undefined) throw new Error(`unknown value type ${type} in ${label}`);
    if (record) add(size, label, false, top);
    else pos += size;
  };

  for (let i = 0; i < nKv; i++) {
    const keyLen = u64();
    add(8, `key ${i} length`, true);
    const key = buf.toString('utf8', pos, pos + keyLen);
    add(keyLen, `key '${key}'`, false);
    const type = buf.readUInt32LE(pos);
    add(4, `type of '${key}'`, true);
    value(type, `'${key}'`, true, true);
  }
  for (let i = 0; i < nTensors; i++) {
    const nameLen = u64();
    add(8, `tensor ${i} name length`, true);
    const name = buf.toString('utf8', pos, pos + nameLen);
    add(nameLen, `tensor '${name}' name`, false);
    const nDims = buf.readUInt32LE(pos);
    add(4, `tensor '${name}' dimension count`, true);
    for (let d = 0; d < nDims; d++) add(8, `tensor '${name}' dimension ${d}`, true);
    add(4, `tensor '${name}' type`, true);
    add(8, `tensor '${name}' offset`, true);
  }
  return { fields, headerSize: pos, fileSize: buf.length };
}

// ---------------------------------------------------------------------------------------------------
// Mutations

export interface Mutation {
  offset: number;
  from: number;
  to: number;
  /** The field the byte belongs to. */
  field: string;
}

/** mulberry32: small, fast, and the same sequence everywhere for a seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function fieldAt(layout: GgufLayout, offset: number): string {
  if (offset >= layout.headerSize) return 'tensor data';
  // Fields are in file order.
  let lo = 0;
  let hi = layout.fields.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const f = layout.fields[mid]!;
    if (offset < f.start) hi = mid - 1;
    else if (offset >= f.end) lo = mid + 1;
    else return f.label;
  }
  return 'header padding';
}

/** `count` single-byte mutations of `buf`, each changing the byte it names. */
export function makeMutations(buf: Buffer, layout: GgufLayout, count: number, seed: number): Mutation[] {
  const random = rng(seed);
  const structural = layout.fields.filter((f) => f.structural && f.end > f.start);
  const small = layout.fields.filter((f) => !f.structural && f.end > f.start && f.end - f.start <= 256);
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
  const inField = (f: Field) => f.start + Math.floor(random() * (f.end - f.start));
  const out: Mutation[] = [];
  while (out.length < count) {
    const r = random();
    let offset: number;
    // Where llama.cpp trusts the file most: lengths, counts, types, shapes, offsets.
    if (r < 0.5) offset = inField(pick(structural));
    // Keys, short strings and scalar values (hyperparameters, token ids, tensor names).
    else if (r < 0.7) offset = inField(pick(small));
    else if (r < 0.9) offset = Math.floor(random() * layout.headerSize);
    else offset = Math.floor(random() * layout.fileSize);
    const v = random();
    // The issue's finding was bytes set to 0; 0xFF and random bytes reach other branches.
    const to = v < 0.5 ? 0 : v < 0.75 ? 0xff : Math.floor(random() * 256);
    const from = buf[offset]!;
    if (to === from) continue;
    out.push({ offset, from, to, field: fieldAt(layout, offset) });
  }
  return out;
}

/**
 * Every byte of every metadata value of its own (hyperparameters, token ids, short strings) set to 0x00
 * and to 0xFF: deterministic, and where llama.cpp's asserts on hyperparameters live.
 */
export function makeSweep(buf: Buffer, layout: GgufLayout): Mutation[] {
  const out: Mutation[] = [];
  for (const f of layout.fields) {
    if (!f.value) continue;
    for (let offset = f.start; offset < f.end; offset++) {
      for (const to of [0x00, 0xff]) {
        if (buf[offset] !== to) out.push({ offset, from: buf[offset]!, to, field: f.label });
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// The child: loads one file per message and answers with the outcome

type Stage = 'load' | 'context' | 'generate';

export type ChildResult =
  | { outcome: 'ok'; text: string }
  | { outcome: 'typed'; stage: Stage; code: string; message: string }
  | { outcome: 'untyped'; stage: Stage; message: string };

async function childMain(): Promise<void> {
  const { loadModel, isWestfallError } = await import('../src/index.js');
  process.on('message', (msg: { id: number; path: string }) => {
    void (async () => {
      let stage: Stage = 'load';
      let result: ChildResult;
      try {
        const model = await loadModel({ path: msg.path });
        try {
          stage = 'context';
          const ctx = await model.createContext({ contextSize: 128, batchSize: 64, threads: 1 });
          try {
            stage = 'generate';
            const r = await ctx.generate('Hello, world', { maxTokens: 4, temperature: 1, seed: 1 }).result;
            result = { outcome: 'ok', text: r.text };
          } finally {
            await ctx[Symbol.asyncDispose]();
          }
        } finally {
          await model[Symbol.asyncDispose]();
        }
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        result = isWestfallError(err)
          ? { outcome: 'typed', stage, code: err.code, message }
          : { outcome: 'untyped', stage, message };
      }
      process.send!({ id: msg.id, result });
    })();
  });
  process.send!({ ready: true });
}

// ---------------------------------------------------------------------------------------------------
// The parent

export type CaseOutcome =
  | ChildResult
  | { outcome: 'crash'; signal: string | null; exitCode: number | null; stderr: string }
  | { outcome: 'hang'; stderr: string };

export interface CaseReport {
  index: number;
  mutation: Mutation;
  result: CaseOutcome;
  ms: number;
}

export interface FuzzOptions {
  cases?: number;
  seed?: number;
  model?: string;
  /** Seconds a case may take before it counts as a hang; 0: wait for ever (the caller bounds the run). */
  timeoutSeconds?: number;
  /** Where to keep the mutants that crashed or hung. */
  keepDir?: string;
  /** The deterministic sweep of metadata values (makeSweep) instead of random mutations. */
  sweep?: boolean;
  /** These mutations instead (a reproduction, or a targeted experiment). */
  mutations?: Mutation[];
  onCase?: (c: CaseReport) => void;
}

export interface FuzzReport {
  model: string;
  seed: number;
  cases: CaseReport[];
  counts: Record<CaseOutcome['outcome'], number>;
  failures: CaseReport[];
}

const SELF = fileURLToPath(import.meta.url);

class Worker {
  child: ChildProcess;
  stderr = '';
  ready: Promise<void>;
  #pending: { id: number; resolve: (r: CaseOutcome) => void } | null = null;
  exited = false;

  constructor() {
    this.child = fork(SELF, ['--child'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString('utf8')).slice(-8192);
    });
    let onReady!: () => void;
    let onFail!: (e: Error) => void;
    this.ready = new Promise<void>((res, rej) => {
      onReady = res;
      onFail = rej;
    });
    this.child.on('message', (m: { ready?: boolean; id?: number; result?: ChildResult }) => {
      if (m.ready) onReady();
      else if (this.#pending && m.id === this.#pending.id) {
        const p = this.#pending;
        this.#pending = null;
        p.resolve(m.result!);
      }
    });
    this.child.on('exit', (exitCode, signal) => {
      this.exited = true;
      onFail(new Error(`the fuzz child exited before it was ready (${signal ?? exitCode}): ${this.stderr.slice(-2000)}`));
      if (this.#pending) {
        const p = this.#pending;
        this.#pending = null;
        // Let the last stderr bytes (llama.cpp's GGML_ASSERT line) arrive before reporting.
        this.child.stderr!.once('close', () => p.resolve({ outcome: 'crash', signal, exitCode, stderr: this.stderr }));
        if (this.child.stderr!.closed) p.resolve({ outcome: 'crash', signal, exitCode, stderr: this.stderr });
      }
    });
  }

  run(id: number, path: string, timeoutSeconds: number): Promise<CaseOutcome> {
    this.stderr = '';
    return new Promise<CaseOutcome>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      this.#pending = {
        id,
        resolve: (r) => {
          if (timer) clearTimeout(timer);
          resolve(r);
        },
      };
      if (timeoutSeconds > 0) {
        timer = setTimeout(() => {
          const p = this.#pending;
          this.#pending = null;
          this.child.kill('SIGKILL');
          p?.resolve({ outcome: 'hang', stderr: this.stderr });
        }, timeoutSeconds * 1000);
      }
      this.child.send({ id, path });
    });
  }

  stop(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

export async function defaultModel(): Promise<string> {
  const { DEFAULT_MODELS_DIR, SYNTHETIC_FILES, generateTestModels } = await import('../src/gguf/index.js');
  const path = join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.tiny);
  if (!existsSync(path)) await generateTestModels({ outDir: DEFAULT_MODELS_DIR, only: 'tiny' });
  return path;
}

export async function runFuzz(options: FuzzOptions = {}): Promise<FuzzReport> {
  const model = options.model ?? (await defaultModel());
  const seed = options.seed ?? 1;
  const original = readFileSync(model);
  const layout = ggufLayout(original);
  const mutations =
    options.mutations ??
    (options.sweep ? makeSweep(original, layout).slice(0, options.cases ?? Infinity) : makeMutations(original, layout, options.cases ?? 300, seed));
  const dir = mkdtempSync(join(tmpdir(), 'westfall-fuzz-'));
  const counts: FuzzReport['counts'] = { ok: 0, typed: 0, untyped: 0, crash: 0, hang: 0 };
  const cases: CaseReport[] = [];
  let worker: Worker | null = null;
  try {
    for (const [index, mutation] of mutations.entries()) {
      const buf = Buffer.from(original);
      buf[mutation.offset] = mutation.to;
      // A fresh name per case: a crashed child may still map the previous file.
      const path = join(dir, `case-${index}.gguf`);
      writeFileSync(path, buf);
      if (!worker || worker.exited) {
        worker = new Worker();
        await worker.ready;
      }
      const started = performance.now();
      const result = await worker.run(index, path, options.timeoutSeconds ?? 0);
      const report: CaseReport = { index, mutation, result, ms: Math.round(performance.now() - started) };
      counts[result.outcome]++;
      cases.push(report);
      options.onCase?.(report);
      if ((result.outcome === 'crash' || result.outcome === 'hang') && options.keepDir) {
        mkdirSync(options.keepDir, { recursive: true });
        writeFileSync(join(options.keepDir, `seed${seed}-case${index}-off${mutation.offset}.gguf`), buf);
      }
      if (result.outcome === 'hang') worker = null;
      rmSync(path, { force: true });
    }
  } finally {
    worker?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const failures = cases.filter((c) => c.result.outcome === 'crash' || c.result.outcome === 'hang' || c.result.outcome === 'untyped');
  return { model, seed, cases, counts, failures };
}

export function describeCase(c: CaseReport): string {
  const m = c.mutation;
  const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;
  // Mutated names and strings carry NULs and control bytes into the messages.
  const clean = (t: string) => t.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const head = `#${c.index} offset ${m.offset} (${clean(m.field)}) ${hex(m.from)}→${hex(m.to)}`;
  const r = c.result;
  switch (r.outcome) {
    case 'ok':
      return `${head}: ok`;
    case 'typed':
      return `${head}: ${r.code} at ${r.stage}: ${clean(r.message.slice(0, 200))}`;
    case 'untyped':
      return `${head}: UNTYPED error at ${r.stage}: ${clean(r.message.slice(0, 200))}`;
    case 'crash': {
      const lines = r.stderr.split('\n').filter((l) => /GGML_ASSERT|error|abort|terminate|what\(\)/i.test(l));
      return `${head}: CRASH (${r.signal ?? `exit ${r.exitCode}`})\n    ${(lines.length ? lines : r.stderr.split('\n')).slice(-6).join('\n    ')}`;
    }
    case 'hang':
      return `${head}: HANG\n    ${r.stderr.split('\n').slice(-4).join('\n    ')}`;
  }
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const sweep = argv.includes('--sweep');
  const cases = Number(arg('cases') ?? (sweep ? Infinity : 300));
  const seed = Number(arg('seed') ?? 1);
  const timeoutSeconds = Number(arg('timeout') ?? 120);
  const json = arg('json');
  const verbose = argv.includes('--verbose');
  const started = performance.now();
  const report = await runFuzz({
    cases,
    seed,
    timeoutSeconds,
    sweep,
    ...(arg('model') ? { model: arg('model')! } : {}),
    ...(arg('keep') ? { keepDir: arg('keep')! } : {}),
    onCase: (c) => {
      if (verbose || c.result.outcome !== 'ok') process.stdout.write(`${describeCase(c)}\n`);
    },
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  const typedCodes = new Map<string, number>();
  for (const c of report.cases) if (c.result.outcome === 'typed') typedCodes.set(c.result.code, (typedCodes.get(c.result.code) ?? 0) + 1);
  process.stdout.write(
    `\n${report.cases.length} cases (seed ${seed}, ${seconds} s): ${report.counts.ok} ok, ${report.counts.typed} typed errors ` +
      `(${[...typedCodes].map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}), ${report.counts.untyped} untyped errors, ` +
      `${report.counts.crash} crashes, ${report.counts.hang} hangs\n`,
  );
  for (const c of report.failures) process.stdout.write(`${describeCase(c)}\n`);
  if (json) writeFileSync(json, JSON.stringify(report, null, 2));
  process.exitCode = report.failures.length > 0 ? 1 : 0;
}

const invoked = process.argv[1] ? pathToFileURL(process.argv[1]).href === import.meta.url : false;
if (invoked && process.argv.includes('--child')) void childMain();
else if (invoked) await main(process.argv.slice(2));
