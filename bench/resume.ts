// npm run bench:resume — long conversations and resuming them, through /v1 with streaming, on the Q4_0
// Qwen2.5-0.5B-shaped model: `westfall serve` and llama-server from the same tree, in this run.
//   - time to first token at turns 1, 10 and 20 of one conversation (~60-word messages, 64-token replies);
//   - after a restart, the next message of that conversation against a fresh chat's;
//   - a new chat sharing a long system prompt and tool definitions with an earlier one, against the same
//     request with cache_prompt false (everything evaluated).
//   tsx bench/resume.ts [--threads 2] [--turns 20] [--reply 64] [--repeats 3] [--think 2500] [--servers westfall,llama-server]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MODELS_DIR, SYNTHETIC_FILES, generateTestModels } from '../src/gguf/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    turns: { type: 'string', default: '20' },
    reply: { type: 'string', default: '64' },
    servers: { type: 'string', default: 'westfall,llama-server' },
    repeats: { type: 'string', default: '3' },
    think: { type: 'string', default: '2500' },
    out: { type: 'string', default: path.join(root, 'docs/benchmarks/resume.md') },
  },
});
const THREADS = Number(values.threads);
const TURNS = Number(values.turns);
const REPLY = Number(values.reply);
// Each figure is the median over this many conversations (other words each time): one request's time to
// first token on a shared 2-core machine moves by tens of percent from one minute to the next.
const REPEATS = Math.max(1, Number(values.repeats));
// Between requests, as a person reads the reply: both servers do work after a reply (llama-server copies the
// prompt into its RAM cache, Westfall writes the conversation state after a quiet moment), and measured
// back to back that work lands on the other server's next request.
const THINK_MS = Math.max(0, Number(values.think));
const CONTEXT = 4096;
const PARALLEL = 4;
const TOKEN = 'westfall-bench-token-0123456789';

// Deterministic ~60-word messages from a small vocabulary: English-like, distinct per turn.
const WORDS = (
  'budget rent groceries train ticket salary savings holiday garden project deadline meeting report invoice client ' +
  'weekend dinner recipe lentils soup bread market bicycle repair winter coat gift sister birthday concert music ' +
  'playlist piano lesson timer hours billable week month plan review notes question answer idea summary draft'
).split(' ');
function message(turn: number, words = 60): string {
  let x = turn * 7919 + 17;
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(WORDS[x % WORDS.length]!);
  }
  return `Turn ${turn}: ${out.join(' ')}.`;
}

const TOOLS = ['add_transaction', 'month_budget', 'start_timer', 'stop_timer', 'time_report', 'play_music', 'find_songs', 'vault_lookup'].map((name, i) => ({
  type: 'function',
  function: {
    name,
    description: `Tool ${i + 1} of the assistant: ${message(100 + i, 25)}`,
    parameters: { type: 'object', properties: { query: { type: 'string', description: message(200 + i, 10) }, amount: { type: 'number' } }, required: ['query'] },
  },
}));
const SYSTEM = `You are Westfall, a private assistant on the user's own computer. ${message(300, 120)}`;

interface Server {
  name: string;
  base: string;
  headers: Record<string, string>;
  start(): Promise<void>;
  stop(): Promise<void>;
  pid(): number | undefined;
}

/** CPU time a process has used, in clock ticks (Linux); null elsewhere or once it is gone. */
function cpuTicks(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

/** The think time, then until no server has used any CPU for 300 ms (at most 30 s more). */
async function settle(servers: Server[]): Promise<void> {
  await new Promise((r) => setTimeout(r, THINK_MS));
  const pids = servers.map((s) => s.pid()).filter((p): p is number => p !== undefined);
  const total = () => pids.reduce((n, p) => n + (cpuTicks(p) ?? 0), 0);
  let last = total();
  let quiet = 0;
  for (let waited = 0; quiet < 3 && waited < 30_000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
    const now = total();
    quiet = now === last ? quiet + 1 : 0;
    last = now;
  }
}

async function waitReady(url: string, proc: ChildProcess): Promise<void> {
  for (let i = 0; i < 1200; i++) {
    if (proc.exitCode !== null) throw new Error(`${url}: the server exited (${proc.exitCode})`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not become ready`);
}

function stopProcess(proc: ChildProcess | null): Promise<void> {
  if (!proc || proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

function westfall(modelPath: string): Server {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'westfall-bench-resume-'));
  const port = 18766;
  let proc: ChildProcess | null = null;
  return {
    name: 'westfall',
    base: `http://127.0.0.1:${port}`,
    headers: { authorization: `Bearer ${TOKEN}` },
    async start() {
      proc = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/index.ts'), 'serve', '--model', modelPath, '--port', String(port), '--parallel', String(PARALLEL), '--context-size', String(CONTEXT), '--data-dir', dataDir, '--log-level', 'warn'], {
        cwd: root,
        env: { ...process.env, WESTFALL_API_TOKEN: TOKEN, WESTFALL_THREADS: String(THREADS) },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      await waitReady(`${this.base}/health/ready`, proc);
    },
    stop: () => stopProcess(proc),
    pid: () => proc?.pid,
  };
}

function llamaServer(modelPath: string): Server {
  const bin = path.join(root, 'build/llama-tools/bin/llama-server');
  if (!existsSync(bin)) spawnSync(process.execPath, [path.join(root, 'scripts/build-llama-tools.mjs'), 'llama-server'], { stdio: 'inherit' });
  const port = 18767;
  let proc: ChildProcess | null = null;
  return {
    name: 'llama-server',
    base: `http://127.0.0.1:${port}`,
    headers: {},
    async start() {
      proc = spawn(bin, ['-m', modelPath, '-t', String(THREADS), '-c', String(CONTEXT), '-np', String(PARALLEL), '-kvu', '--jinja', '--host', '127.0.0.1', '--port', String(port)], { stdio: ['ignore', 'ignore', 'ignore'] });
      await waitReady(`${this.base}/health`, proc);
    },
    stop: () => stopProcess(proc),
    pid: () => proc?.pid,
  };
}

interface Turn {
  ttftMs: number;
  content: string;
  promptTokens: number;
  cachedTokens: number | null;
  /** Prompt processing as the server timed it. */
  serverPromptMs: number | null;
}

type Msg = { role: string; content: string };

async function send(s: Server, messages: Msg[], extra: Record<string, unknown> = {}): Promise<Turn> {
  const t0 = performance.now();
  const res = await fetch(`${s.base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...s.headers },
    body: JSON.stringify({ messages, max_tokens: REPLY, ignore_eos: true, temperature: 0, stream: true, stream_options: { include_usage: true }, ...extra }),
  });
  if (!res.ok || !res.body) throw new Error(`${s.name}: HTTP ${res.status} ${await res.text()}`);
  let first = 0;
  let content = '';
  let promptTokens = 0;
  let cachedTokens: number | null = null;
  let serverPromptMs: number | null = null;
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const data = buf.slice(0, i).split('\n').find((l) => l.startsWith('data: '))?.slice(6);
      buf = buf.slice(i + 2);
      if (!data || data === '[DONE]') continue;
      const json = JSON.parse(data) as {
        choices?: { delta?: { content?: string; reasoning_content?: string; tool_calls?: unknown } }[];
        usage?: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens?: number } };
        timings?: { cache_n?: number; promptMs?: number; prompt_ms?: number };
      };
      const d = json.choices?.[0]?.delta;
      if (d && (d.content || d.reasoning_content || d.tool_calls)) {
        if (!first) first = performance.now();
        content += d.content ?? '';
      }
      if (json.timings) serverPromptMs = json.timings.promptMs ?? json.timings.prompt_ms ?? null;
      if (json.usage) {
        promptTokens = json.usage.prompt_tokens;
        cachedTokens = json.usage.prompt_tokens_details?.cached_tokens ?? json.timings?.cache_n ?? null;
      }
    }
  }
  return { ttftMs: first - t0, content, promptTokens, cachedTokens, serverPromptMs };
}

interface Result {
  name: string;
  turns: Turn[];
  afterLong: Turn;
  resume: Turn;
  fresh: Turn;
  sharedWith: Turn;
  sharedWithout: Turn;
}

// The servers run side by side and take turns request by request (an idle one waits on a condition
// variable and takes no CPU), so a slow minute on a shared machine lands on all of them alike.
async function measureAll(servers: Server[]): Promise<Result[]> {
  for (const s of servers) {
    console.error(`${s.name}: starting`);
    await s.start();
    await send(s, [{ role: 'user', content: message(999) }]); // the first request of a process pays one-time costs
  }
  const results = servers.map((s) => ({ name: s.name, convs: [] as { history: Msg[]; turns: Turn[] }[], afterLong: [] as Turn[] }));
  for (let rep = 0; rep < REPEATS; rep++) {
    // Each conversation on fresh processes: a new chat after a long one also pays for moving the long one
    // out of the KV cache (both servers do: parking, llama-server's RAM cache), ~150 ms that is not turn 1's.
    if (rep > 0) {
      for (const s of servers) {
        await s.stop();
        await s.start();
        await send(s, [{ role: 'user', content: message(999) }]);
      }
    }
    for (const r of results) r.convs.push({ history: [], turns: [] });
    for (let t = 1; t <= TURNS; t++) {
      for (const [i, s] of servers.entries()) {
        const c = results[i]!.convs[rep]!;
        c.history.push({ role: 'user', content: message(t + 1000 * rep) });
        await settle(servers);
        const turn = await send(s, c.history);
        c.history.push({ role: 'assistant', content: turn.content });
        c.turns.push(turn);
        console.error(`${s.name}: conversation ${rep + 1}, turn ${t}: ${turn.ttftMs.toFixed(0)} ms to first token (server: prompt ${turn.serverPromptMs?.toFixed(0) ?? '?'} ms), ${turn.promptTokens} prompt tokens (${turn.cachedTokens ?? '?'} cached)`);
      }
    }
    // A new chat right after the long one, in the same process: the long one is moved out of the KV cache
    // first (parking; llama-server's RAM cache), which turn 1 of a fresh process does not pay.
    for (const [i, s] of servers.entries()) {
      await settle(servers);
      const turn = await send(s, [{ role: 'user', content: message(700 + rep) }]);
      results[i]!.afterLong.push(turn);
      console.error(`${s.name}: conversation ${rep + 1}, a new chat after it: ${turn.ttftMs.toFixed(0)} ms to first token`);
    }
  }
  // After a restart, the first message is either the next one of a saved conversation or a new chat's:
  // each is measured as the first request of a fresh process.
  const restart = async () => {
    for (const s of servers) {
      await s.stop();
      await s.start();
    }
  };
  const out: Result[] = [];
  const resumes: Turn[][] = servers.map(() => []);
  const freshes: Turn[][] = servers.map(() => []);
  for (let rep = 0; rep < REPEATS; rep++) {
    await restart();
    for (const [i, s] of servers.entries()) {
      await settle(servers);
      const c = results[i]!.convs[rep]!;
      c.history.push({ role: 'user', content: message(TURNS + 1 + 1000 * rep) });
      resumes[i]!.push(await send(s, c.history));
    }
    await restart();
    for (const [i, s] of servers.entries()) {
      await settle(servers);
      freshes[i]!.push(await send(s, [{ role: 'user', content: message(500 + rep) }]));
    }
  }
  // A new chat with the same system prompt and tools as an earlier one.
  const chat = (n: number) => [{ role: 'system', content: SYSTEM }, { role: 'user', content: message(n) }];
  for (const [i, s] of servers.entries()) {
    await send(s, chat(600), { tools: TOOLS });
    await settle(servers);
    const sharedWithout = await send(s, chat(601), { tools: TOOLS, cache_prompt: false });
    await settle(servers);
    const sharedWith = await send(s, chat(602), { tools: TOOLS });
    const resume = median(resumes[i]!);
    const fresh = median(freshes[i]!);
    console.error(`${s.name}: after a restart: next message ${resume.ttftMs.toFixed(0)} ms (${resume.promptTokens} tokens, ${resume.cachedTokens ?? '?'} cached), fresh chat ${fresh.ttftMs.toFixed(0)} ms`);
    console.error(`${s.name}: new chat with shared system prompt and tools: ${sharedWith.ttftMs.toFixed(0)} ms (${sharedWith.cachedTokens ?? '?'} of ${sharedWith.promptTokens} cached); all evaluated: ${sharedWithout.ttftMs.toFixed(0)} ms`);
    const convs = results[i]!.convs;
    const turns = convs[0]!.turns.map((_, t) => median(convs.map((c) => c.turns[t]!)));
    out.push({ name: s.name, turns, afterLong: median(results[i]!.afterLong), resume, fresh, sharedWith, sharedWithout });
  }
  return out;
}

/** The turn with the median time to first token. */
function median(turns: Turn[]): Turn {
  return [...turns].sort((a, b) => a.ttftMs - b.ttftMs)[turns.length >> 1]!;
}

const modelPath = path.join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.bench);
await generateTestModels({ outDir: DEFAULT_MODELS_DIR, only: 'bench', log: (l) => console.error(l) });
const wanted = values.servers.split(',');
const servers = [westfall(modelPath), llamaServer(modelPath)].filter((s) => wanted.includes(s.name));
let results: Result[];
try {
  results = await measureAll(servers);
} finally {
  for (const s of servers) await s.stop();
}

const at = (r: Result, t: number) => r.turns[Math.min(t, r.turns.length) - 1]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
const lines = [
  '# Resuming conversations',
  '',
  `\`npm run bench:resume\` on ${new Date().toISOString().slice(0, 10)}: ${cpus()[0]?.model.trim() ?? 'CPU'}, ${THREADS} threads; ${path.basename(modelPath)}; ` +
    `context ${CONTEXT}, ${PARALLEL} sequences; ${REPEATS} /v1 conversations of ${TURNS} turns (~60-word messages, ${REPLY}-token replies, greedy), streamed; ` +
    `time to first token measured by the client; each figure is the median over the ${REPEATS} conversations; ` +
    `before each request ${THINK_MS / 1000} s of reading time, then until both servers are idle.`,
  '',
  '| | ' + results.map((r) => r.name).join(' | ') + ' |',
  '|---|' + results.map(() => '---:|').join(''),
  `| turn 1 | ${results.map((r) => ms(at(r, 1).ttftMs)).join(' | ')} |`,
  `| turn 10 | ${results.map((r) => ms(at(r, 10).ttftMs)).join(' | ')} |`,
  `| turn ${TURNS} (${results.map((r) => at(r, TURNS).promptTokens).join(' / ')} prompt tokens) | ${results.map((r) => ms(at(r, TURNS).ttftMs)).join(' | ')} |`,
  `| **turn ${TURNS} / turn 1** (goal ≤ 1.5) | ${results.map((r) => ratio(at(r, TURNS).ttftMs, at(r, 1).ttftMs)).join(' | ')} |`,
  `| a new chat right after turn ${TURNS}, same process | ${results.map((r) => ms(r.afterLong.ttftMs)).join(' | ')} |`,
  `| after a restart: next message (${results.map((r) => r.resume.promptTokens).join(' / ')} tokens; cached ${results.map((r) => r.resume.cachedTokens ?? '?').join(' / ')}) | ${results.map((r) => ms(r.resume.ttftMs)).join(' | ')} |`,
  `| after a restart: a new chat | ${results.map((r) => ms(r.fresh.ttftMs)).join(' | ')} |`,
  `| **resume / fresh** (goal ≤ 1.5) | ${results.map((r) => ratio(r.resume.ttftMs, r.fresh.ttftMs)).join(' | ')} |`,
  `| new chat, shared system prompt + tools (${results.map((r) => `${r.sharedWith.cachedTokens ?? '?'} of ${r.sharedWith.promptTokens}`).join(' / ')} cached) | ${results.map((r) => ms(r.sharedWith.ttftMs)).join(' | ')} |`,
  `| the same, cache_prompt false | ${results.map((r) => ms(r.sharedWithout.ttftMs)).join(' | ')} |`,
  `| **shared / all evaluated** | ${results.map((r) => ratio(r.sharedWith.ttftMs, r.sharedWithout.ttftMs)).join(' | ')} |`,
  '',
  'Every turn, in ms to first token (medians): ',
  '',
  ...results.map((r) => `- ${r.name}: ${r.turns.map((t) => t.ttftMs.toFixed(0)).join(', ')}`),
  '',
];
console.log(lines.join('\n'));
if (values.out) writeFileSync(values.out, lines.join('\n'));
