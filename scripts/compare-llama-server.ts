// Side by side with llama-server built from the same tree (outside CI): for every template in
// models/templates, the tiny synthetic model carrying it answers the same greedy requests on our server
// and on llama-server (a plain request, tools with tool_choice auto, tools with tool_choice required),
// and the shapes of the replies are compared: status, reasoning present or not, tool calls present or
// not. Writes docs/benchmarks/chat-formats-vs-llama-server.md.
//   npx tsx scripts/compare-llama-server.ts [--only NAME] [--out FILE]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { configFrom } from '../src/config/index.js';
import { createApp, ModelManager } from '../src/server/index.js';
import { templateModel, templateNames } from '../tests/helpers/models.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { only: { type: 'string' }, out: { type: 'string', default: path.join(root, 'docs/benchmarks/chat-formats-vs-llama-server.md') } },
});
const bin = path.join(root, 'build/llama-tools/bin/llama-server');
if (!existsSync(bin)) spawnSync(process.execPath, [path.join(root, 'scripts/build-llama-tools.mjs'), 'llama-server'], { stdio: 'inherit' });

const TOKEN = 'compare-token-0123456789abcdef';
const TOOLS = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'The weather forecast', parameters: { type: 'object', properties: { days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['days'] } },
  },
];
const user = { role: 'user', content: 'What is the weather like?' };
const REQUESTS: Record<string, object> = {
  plain: { messages: [user], max_tokens: 24, temperature: 0, seed: 3 },
  auto: { messages: [user], max_tokens: 40, temperature: 0, seed: 3, tools: TOOLS, tool_choice: 'auto' },
  required: { messages: [user], max_tokens: 160, temperature: 0, seed: 3, tools: TOOLS, tool_choice: 'required', parallel_tool_calls: false, reasoning_budget_tokens: 0 },
};

interface Shape {
  status: number;
  reasoning: boolean;
  calls: boolean;
  finish: string;
}

async function ask(base: string, body: object): Promise<Shape> {
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'x', ...body }),
  });
  const json = (await res.json().catch(() => ({}))) as { choices?: { message: { reasoning_content?: string; tool_calls?: unknown[] }; finish_reason: string }[] };
  const c = json.choices?.[0];
  return { status: res.status, reasoning: !!c?.message.reasoning_content, calls: (c?.message.tool_calls?.length ?? 0) > 0, finish: c?.finish_reason ?? '-' };
}

async function waitHealthy(base: string, child: ChildProcess): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`llama-server exited with ${child.exitCode}`);
    const ok = await fetch(`${base}/health`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

const fmt = (s: Shape) => `${s.status}${s.reasoning ? ' R' : ''}${s.calls ? ' C' : ''} ${s.finish}`;
const config = configFrom({ WESTFALL_API_TOKEN: TOKEN, WESTFALL_CONTEXT_SIZE: 4096, WESTFALL_THREADS: 2, WESTFALL_PARALLEL: 1, WESTFALL_LOG_FILE: false, WESTFALL_DATA_DIR: path.join(tmpdir(), 'westfall-compare') });
const manager = ModelManager.fromConfig(config);
const app = createApp(config, { manager });
await app.listen({ host: '127.0.0.1', port: 0 });
const ours = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

const rows: string[] = [];
const same: Record<string, number> = { plain: 0, auto: 0, required: 0 };
let n = 0;
for (const template of templateNames().filter((t) => !values.only || t.includes(values.only))) {
  const model = await templateModel(template);
  await manager.load(model);
  const port = 18000 + Math.floor(Math.random() * 2000);
  const ls = spawn(bin, ['-m', model, '--jinja', '-c', '4096', '-t', '2', '-np', '1', '--port', String(port), '--host', '127.0.0.1', '--api-key', TOKEN], { stdio: 'ignore' });
  const lsBase = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(lsBase, ls);
    const cells: string[] = [];
    for (const [name, body] of Object.entries(REQUESTS)) {
      const a = await ask(ours, body);
      const b = await ask(lsBase, body);
      const match = a.status === b.status && a.reasoning === b.reasoning && a.calls === b.calls;
      if (match) same[name]!++;
      cells.push(`${fmt(a)} / ${fmt(b)}${match ? '' : ' ≠'}`);
    }
    rows.push(`| ${template} | ${cells.join(' | ')} |`);
    n++;
    console.error(rows.at(-1));
  } catch (err) {
    rows.push(`| ${template} | llama-server did not start: ${(err as Error).message} | | |`);
  } finally {
    ls.kill('SIGKILL');
  }
}
await app.close();

const report = `# Chat formats: our server and llama-server side by side

\`npx tsx scripts/compare-llama-server.ts\` — ${new Date().toISOString().slice(0, 10)}. llama-server built from the same llama.cpp
tree (\`--jinja\`, default reasoning format), each template on the tiny synthetic model (random weights, Qwen2
vocabulary); the same greedy requests to both. Cell: ours / llama-server — HTTP status, R = reasoning_content
present, C = tool_calls present, finish_reason; ≠ where the shapes differ.

Same shape: plain ${same.plain} of ${n}, tools auto ${same.auto} of ${n}, tools required ${same.required} of ${n}.
For tool_choice "required" ours removes the free text llama.cpp's grammar allows before the call (so a call
comes) and a reasoning budget of 0 closes forced-open thinking; llama-server keeps both, so "required" is where
the two are expected to differ.

| template | plain | tools auto | tools required |
| --- | --- | --- | --- |
${rows.join('\n')}
`;
mkdirSync(path.dirname(values.out!), { recursive: true });
writeFileSync(values.out!, report);
console.log(report);
