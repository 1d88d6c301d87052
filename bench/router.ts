// npm run bench:router — the cost of going through our router to a remote OpenAI-compatible upstream,
// against calling that upstream directly. Both servers are `westfall serve` in their own processes: the
// upstream has the model; the router has none and a provider (added through /api/providers, as a user
// would) pointing at the upstream. Runs alternate direct / routed (the order swapped every pair, so a
// machine that slows down or speeds up during the run weighs on both alike); each run streams N tokens
// over /v1 SSE. Reported: median time to first token and decode tokens/s of each, and their ratio.
// Two upstreams: the model (the bench GGUF on this machine's CPU, sharing its cores with the router) and a
// synthetic OpenAI server in its own process that takes no CPU to "generate" (a first token after 50 ms,
// then one every --interval-ms), so the router's own cost is all that differs.
//   tsx bench/router.ts [--upstream both|model|synthetic] [--model bench|tiny] [--tokens 128] [--reps 9]
//                       [--threads 1] [--interval-ms 5]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_MODELS_DIR, SYNTHETIC_FILES, generateTestModels } from '../src/gguf/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'bench' },
    upstream: { type: 'string', default: 'both' },
    'interval-ms': { type: 'string', default: '5' },
    'serve-synthetic': { type: 'string' },
    tokens: { type: 'string', default: '128' },
    reps: { type: 'string', default: '9' },
    threads: { type: 'string', default: '1' },
    out: { type: 'string', default: path.join(root, 'docs/benchmarks/router.md') },
  },
});
const N = Number(values.tokens);
const REPS = Number(values.reps);
const THREADS = Number(values.threads);
const UPSTREAM_KEY = 'sk-bench-upstream-0123456789abcdef';
const ROUTER_TOKEN = 'westfall-bench-router-0123456789';
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Run {
  /** The router's own time before the first token (its Server-Timing header), routed runs only. */
  routerMs: number | null;
  ttftMs: number;
  tokensPerSecond: number;
  completionTokens: number;
}

let nonce = 0;
// A distinct opening per request, so no run is answered from a prompt cached by an earlier one.
const messages = () => [{ role: 'user', content: `Request ${++nonce} ${Math.random().toString(36).slice(2)}: write a long story about a lighthouse keeper.` }];

async function stream(base: string, token: string, model: string): Promise<Run> {
  const t0 = performance.now();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ model, messages: messages(), max_tokens: N, ignore_eos: true, temperature: 0.7, stream: true, stream_options: { include_usage: true } }),
  });
  if (!res.ok || !res.body) throw new Error(`${base}: HTTP ${res.status} ${await res.text()}`);
  const timing = /router;dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '');
  const routerMs = timing ? Number(timing[1]) : null;
  let first = 0;
  let last = 0;
  let completion = 0;
  let buf = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const data = buf.slice(0, i).split('\n').find((l) => l.startsWith('data: '))?.slice(6);
      buf = buf.slice(i + 2);
      if (!data || data === '[DONE]') continue;
      const json = JSON.parse(data) as { choices?: { delta?: { content?: string } }[]; usage?: { completion_tokens: number }; error?: unknown };
      if (json.error) throw new Error(`${base}: ${JSON.stringify(json.error)}`);
      if (json.choices?.[0]?.delta?.content) {
        const now = performance.now();
        if (!first) first = now;
        last = now;
      }
      if (json.usage) completion = json.usage.completion_tokens;
    }
  }
  return { routerMs, ttftMs: first - t0, tokensPerSecond: ((completion - 1) * 1000) / (last - first), completionTokens: completion };
}

function serve(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/index.ts'), 'serve', ...args, '--log-level', 'warn'], {
    cwd: root,
    env: { ...process.env, WESTFALL_THREADS: String(THREADS), ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitReady(url: string, child: ChildProcess, token: string, check: (body: any) => boolean = () => true): Promise<void> {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      if (r.ok && check(await r.json())) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} not ready in time`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (child.exitCode === null) child.kill('SIGKILL');
}

const INTERVAL = Number(values['interval-ms']);

/** The synthetic upstream (child process): OpenAI's /v1/models and streaming /v1/chat/completions. */
function serveSynthetic(port: number): void {
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${UPSTREAM_KEY}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"bad key"}}');
      return;
    }
    if (req.method === 'GET' && req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'synthetic', object: 'model', created: 0, owned_by: 'bench' }] }));
      return;
    }
    let body = '';
    req.on('data', (c) => (body += String(c)));
    req.on('end', () => {
      const max = (JSON.parse(body) as { max_tokens?: number }).max_tokens ?? 16;
      const base = { id: 'chatcmpl-synthetic', object: 'chat.completion.chunk', created: 0, model: 'synthetic' };
      const send = (delta: object, finish: string | null = null, extra: object = {}) =>
        res.write(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...extra })}\n\n`);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      send({ role: 'assistant', content: '' });
      let n = 0;
      let timer: NodeJS.Timeout;
      const tick = () => {
        if (res.destroyed) return;
        if (n < max) {
          send({ content: ` word${n}` });
          n++;
          timer = setTimeout(tick, INTERVAL);
          return;
        }
        send({}, 'length');
        res.write(`data: ${JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 20, completion_tokens: max, total_tokens: 20 + max } })}\n\n`);
        res.end('data: [DONE]\n\n');
      };
      // "Prompt processing".
      timer = setTimeout(tick, 50);
      res.on('close', () => clearTimeout(timer));
    });
  });
  server.listen(port, '127.0.0.1');
}

if (values['serve-synthetic']) {
  serveSynthetic(Number(values['serve-synthetic']));
} else {
  await main();
}

async function scenario(kind: 'model' | 'synthetic', upPort: number, routerPort: number, work: string): Promise<string[]> {
  let upstream: ChildProcess;
  let modelId: string;
  let what: string;
  const upBase = `http://127.0.0.1:${upPort}`;
  if (kind === 'model') {
    const file = values.model === 'tiny' ? SYNTHETIC_FILES.tiny : SYNTHETIC_FILES.bench;
    modelId = file.replace(/\.gguf$/, '');
    what = `\`westfall serve\` with ${file} (${THREADS} decode thread(s), on this machine's CPU: the router's work competes with the decoding)`;
    upstream = serve(['--model', path.join(DEFAULT_MODELS_DIR, file), '--port', String(upPort), '--data-dir', path.join(work, `up-${kind}`), '--context-size', '2048', '--parallel', '1'], { WESTFALL_API_TOKEN: UPSTREAM_KEY });
  } else {
    modelId = 'synthetic';
    what = `a synthetic OpenAI server in its own process (first token after 50 ms, then one every ${INTERVAL} ms; no CPU spent generating)`;
    upstream = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--serve-synthetic', String(upPort), '--interval-ms', String(INTERVAL)], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const router = serve(['--port', String(routerPort), '--data-dir', path.join(work, `router-${kind}`), '--parallel', '1'], { WESTFALL_API_TOKEN: ROUTER_TOKEN });
  const routerBase = `http://127.0.0.1:${routerPort}`;
  try {
    await waitReady(`${upBase}/v1/models`, upstream, UPSTREAM_KEY, (b) => b.data.some((m: { id: string; westfall?: { state?: string } }) => m.id === modelId && (m.westfall?.state ?? 'ready') === 'ready'));
    await waitReady(`${routerBase}/api/providers`, router, ROUTER_TOKEN);
    const add = await fetch(`${routerBase}/api/providers`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ROUTER_TOKEN}` },
      body: JSON.stringify({ name: 'bench', baseUrl: upBase, apiKey: UPSTREAM_KEY }),
    });
    const provider = (await add.json()) as { health: { state: string; models: string[] } };
    if (add.status !== 201 || provider.health.state !== 'ok') throw new Error(`adding the provider failed: ${JSON.stringify(provider)}`);
    const direct = () => stream(upBase, UPSTREAM_KEY, modelId);
    const routed = () => stream(routerBase, ROUTER_TOKEN, `bench/${modelId}`);
    // Warm-up: both paths once (connections, the model's first batches).
    await direct();
    await routed();
    const d: Run[] = [];
    const r: Run[] = [];
    for (let i = 0; i < REPS; i++) {
      if (i % 2 === 0) {
        d.push(await direct());
        r.push(await routed());
      } else {
        r.push(await routed());
        d.push(await direct());
      }
      process.stderr.write(`${kind} rep ${i + 1}/${REPS}: direct ${d.at(-1)!.ttftMs.toFixed(1)} ms, ${d.at(-1)!.tokensPerSecond.toFixed(1)} tok/s; routed ${r.at(-1)!.ttftMs.toFixed(1)} ms, ${r.at(-1)!.tokensPerSecond.toFixed(1)} tok/s\n`);
    }
    const dm = { ttft: median(d.map((x) => x.ttftMs)), tps: median(d.map((x) => x.tokensPerSecond)) };
    const rm = { ttft: median(r.map((x) => x.ttftMs)), tps: median(r.map((x) => x.tokensPerSecond)) };
    // Per pair, the routed run over the direct one: the median of those ratios is robust to drifting load.
    const ttftRatio = median(r.map((x, i) => x.ttftMs / d[i]!.ttftMs));
    const tpsRatio = median(r.map((x, i) => x.tokensPerSecond / d[i]!.tokensPerSecond));
    const ttftDelta = median(r.map((x, i) => x.ttftMs - d[i]!.ttftMs));
    const own = r.map((x) => x.routerMs).filter((x): x is number => x !== null);
    const pct = (x: number) => `${x >= 1 ? '+' : ''}${((x - 1) * 100).toFixed(1)}%`;
    return [
      `## Upstream: ${kind === 'model' ? 'a model' : 'synthetic'}`,
      '',
      `Upstream: ${what}. ${N} tokens per run, ${REPS} pairs of runs.`,
      '',
      '| path | time to first token (median) | decode tokens/s (median) |',
      '|---|---|---|',
      `| upstream directly | ${dm.ttft.toFixed(1)} ms | ${dm.tps.toFixed(2)} |`,
      `| through the router | ${rm.ttft.toFixed(1)} ms | ${rm.tps.toFixed(2)} |`,
      `| routed / direct (median of pairs) | ${pct(ttftRatio)} (${ttftDelta >= 0 ? '+' : ''}${ttftDelta.toFixed(1)} ms) | ${pct(tpsRatio)} |`,
      '',
      own.length > 0
        ? `The router's own work before the first token (its Server-Timing header: all but the wait for the upstream): median ${median(own).toFixed(2)} ms, at most ${Math.max(...own).toFixed(2)} ms.`
        : '',
      '',
      '<details><summary>Each pair</summary>',
      '',
      '| pair | direct TTFT ms | routed TTFT ms | direct tok/s | routed tok/s |',
      '|---|---|---|---|---|',
      ...d.map((x, i) => `| ${i + 1} | ${x.ttftMs.toFixed(1)} | ${r[i]!.ttftMs.toFixed(1)} | ${x.tokensPerSecond.toFixed(2)} | ${r[i]!.tokensPerSecond.toFixed(2)} |`),
      '',
      '</details>',
      '',
    ];
  } finally {
    await stop(router);
    await stop(upstream);
  }
}

async function main(): Promise<void> {
  await generateTestModels();
  const work = mkdtempSync(path.join(tmpdir(), 'westfall-bench-router-'));
  const kinds = values.upstream === 'both' ? (['synthetic', 'model'] as const) : ([values.upstream as 'model' | 'synthetic'] as const);
  const sections: string[] = [];
  let port = 18801;
  for (const kind of kinds) {
    sections.push(...(await scenario(kind, port, port + 1, work)));
    port += 2;
  }
  const lines = [
    '# Router overhead: a remote provider through Westfall vs the upstream directly',
    '',
    `Measured by \`npm run bench:router\` (bench/router.ts) on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}.`,
    'The router is `westfall serve` in its own process with no model and one provider pointing at the upstream',
    '(added through /api/providers); the client streams over /v1 SSE from a third process, alternating direct and',
    'routed runs (order swapped every pair). Time to first token: request sent to first content token received;',
    'tokens/s: completion tokens after the first over the time from first to last.',
    '',
    ...sections,
  ];
  mkdirSync(path.dirname(values.out!), { recursive: true });
  writeFileSync(values.out!, `${lines.join('\n')}\n`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
