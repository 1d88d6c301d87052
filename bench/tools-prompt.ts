// What offering the tools costs a chat, and why a reply can come back empty (issue 17, item 6: "tools on
// by default cost an 11 s empty reply on a small model"). Three measurements:
//  1. prompt tokens of a first message with and without the tool definitions, per chat template;
//  2. time to first token on the Qwen2.5-0.5B-shaped Q4_0 model: no tools, tools cold, and a second new
//     chat with tools (its system prompt and tool definitions copied from the first chat's cache);
//  3. a thinking template (Qwen3.5's, on the tiny random model) with maxTokens 512: thinking without a
//     cap (what the agent did) against the agent's cap (thinkingCap: a quarter of maxTokens kept for the answer).
//   npx tsx bench/tools-prompt.ts [--threads 2] [--out docs/benchmarks/tools-prompt.md]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatGenerateParams, loadModel } from '../src/engine/index.js';
import { DEFAULT_MODELS_DIR, SYNTHETIC_FILES, generateTestModels } from '../src/gguf/index.js';
import { DEFAULT_SYSTEM_PROMPT, thinkingCap } from '../src/tools/agent.js';
import { createToolServices, nativeToolOptions, ReplyReader } from '../src/tools/index.js';
import { templateModel } from '../tests/helpers/models.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { threads: { type: 'string', default: '2' }, out: { type: 'string', default: path.join(root, 'docs/benchmarks/tools-prompt.md') } },
});
const threads = Number(values.threads);
const lines: string[] = [];
const say = (l = '') => {
  console.log(l);
  lines.push(l);
};

const dir = mkdtempSync(path.join(tmpdir(), 'westfall-tools-prompt-'));
const services = createToolServices(dir, { startReminders: false });
const registry = services.registry;
const messages = (text: string) => [
  { role: 'system', content: DEFAULT_SYSTEM_PROMPT },
  { role: 'user', content: text },
];
const withTools = { ...nativeToolOptions(registry, 'auto', true) };

say('# Tools in the prompt (bench/tools-prompt.ts)');
say();
say(`${registry.names.length} tools offered (every tool of the registry, as the app's chat does by default).`);
say();
say('## 1. Prompt tokens of a first message ("Hi")');
say();
say('| template | without tools | with tools | added |');
say('|---|---:|---:|---:|');
for (const t of ['Qwen-Qwen3-0.6B', 'Qwen3.5-4B', 'Qwen-Qwen2.5-7B-Instruct']) {
  const m = await loadModel({ path: await templateModel(t) });
  try {
    const a = m.tokenizeChat(messages('Hi'), {}).tokens.length;
    const b = m.tokenizeChat(messages('Hi'), withTools).tokens.length;
    say(`| ${t} | ${a} | ${b} | ${b - a} |`);
  } finally {
    m.dispose();
  }
}

say();
say(`## 2. Time to first token, Qwen2.5-0.5B-shaped Q4_0 model, ${threads} threads, CPU`);
say();
await generateTestModels({ outDir: DEFAULT_MODELS_DIR, only: 'bench', log: (l) => console.error(l) });
{
  const model = await loadModel({ path: path.join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.bench) });
  const ctx = await model.createContext({ contextSize: 8192, threads, sequences: 4 });
  const ttft = async (label: string, msgs: { role: string; content: string }[], format: object, cachePrompt: boolean) => {
    const chat = model.tokenizeChat(msgs, format);
    const gen = ctx.generate(chat.tokens, { maxTokens: 1, temperature: 0, cachePrompt, ...formatGenerateParams(chat.chatFormat) });
    for await (const _ of gen);
    const r = await gen.result;
    say(`| ${label} | ${chat.tokens.length} | ${r.usage.reusedPromptTokens} | ${Math.round(r.timings.timeToFirstTokenMs)} |`);
  };
  say('| request | prompt tokens | reused from cache | time to first token (ms) |');
  say('|---|---:|---:|---:|');
  await ttft('no tools, nothing cached', messages('Hi, what can you do?'), {}, false);
  await ttft('tools, nothing cached (first chat after start)', messages('Hi, what can you do?'), withTools, true);
  await ttft('tools, a second new chat (prefix from the first)', messages('How much did I spend on groceries in March?'), withTools, true);
  // How long thinking takes when it runs to maxTokens (512) on this model.
  const chat = model.tokenizeChat(messages('Hi'), {});
  const gen = ctx.generate(chat.tokens, { maxTokens: 128, temperature: 0.8, seed: 1, ignoreEos: true });
  for await (const _ of gen);
  const tps = (await gen.result).timings.generationTokensPerSecond;
  say();
  say(`Generation: ${tps.toFixed(1)} tokens/s, so 512 tokens of thinking take ${(512 / tps).toFixed(1)} s on this model and machine.`);
  ctx.dispose();
  model.dispose();
}

say();
say('## 3. A thinking template with maxTokens 512 (Qwen3.5 template, tiny random model)');
say();
{
  const model = await loadModel({ path: await templateModel('Qwen3.5-4B') });
  const ctx = await model.createContext({ contextSize: 8192, threads });
  say('| thinking budget | stop | thinking chars | answer chars | calls |');
  say('|---|---|---:|---:|---:|');
  for (const [label, budget] of [
    ['none (before)', null],
    [`thinkingCap(512) = ${thinkingCap(512, null)} tokens (now)`, thinkingCap(512, null)],
  ] as const) {
    const chat = model.tokenizeChat(messages('Start a timer on my Garden project'), { ...withTools, enableThinking: true });
    const gen = ctx.generate(chat.tokens, { maxTokens: 512, temperature: 0.8, seed: 7, ...formatGenerateParams(chat.chatFormat, budget === null ? null : { tokens: budget }) });
    const reader = new ReplyReader('native', chat.chatFormat);
    for await (const c of gen) reader.push(c.text);
    const r = await gen.result;
    const { reply } = reader.finish();
    say(`| ${label} | ${r.stopReason} | ${reply.reasoning.length} | ${reply.content.trim().length} | ${reply.calls.length} |`);
  }
  ctx.dispose();
  model.dispose();
}

services.close();
rmSync(dir, { recursive: true, force: true });
mkdirSync(path.dirname(values.out!), { recursive: true });
writeFileSync(values.out!, `${lines.join('\n')}\n`);
console.error(`written to ${values.out}`);
