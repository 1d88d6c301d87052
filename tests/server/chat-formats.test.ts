// Every real chat template of the pinned llama.cpp tree (models/templates/*.jinja), each on the tiny
// synthetic model carrying it, through a real listening server: a plain request, tools with tool_choice
// auto and required, and a follow-up with a tool result all answer 200 in the right shape; "required"
// always yields a call whose arguments validate against the tool's schema; a streamed reply assembles
// to the same message as the same request without streaming. (A side-by-side check with llama-server
// built from the same tree is scripts/compare-llama-server.ts, outside CI.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletionChunkSchema, chatCompletionSchema } from '../../src/server/index.js';
import { templateModel, templateNames } from '../helpers/models.js';
import { AUTH, startServer, type TestServer } from './helpers.js';

const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The weather forecast',
      parameters: { type: 'object', properties: { days: { type: 'integer', minimum: 1, maximum: 7 } }, required: ['days'], additionalProperties: false },
    },
  },
];

interface Message {
  role: string;
  content: string | null;
  reasoning_content?: string;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
}

function expectValidCall(c: NonNullable<Message['tool_calls']>[number]) {
  expect(c.type).toBe('function');
  expect(c.id).toBeTruthy();
  expect(c.function.name).toBe('get_weather');
  const args = JSON.parse(c.function.arguments) as { days?: unknown };
  expect(Object.keys(args)).toEqual(['days']);
  expect(Number.isInteger(args.days) && (args.days as number) >= 1 && (args.days as number) <= 7).toBe(true);
}

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ load: false, settings: { WESTFALL_CONTEXT_SIZE: 4096 } });
});
afterAll(() => server?.close());

async function post(body: object): Promise<{ status: number; json: { choices: { message: Message; finish_reason: string }[]; warning?: string } }> {
  const res = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as never };
}

/** The message a streaming client assembles from the deltas. */
async function postStream(body: object): Promise<{ message: Message; finish: string | null }> {
  const res = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ ...body, stream: true }),
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  const message: Message = { role: 'assistant', content: '' };
  let finish: string | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const chunk = chatCompletionChunkSchema.parse(JSON.parse(line.slice(6)));
    const choice = chunk.choices[0];
    if (!choice) continue;
    const d = choice.delta;
    if (d.content) message.content += d.content;
    if (d.reasoning_content) message.reasoning_content = (message.reasoning_content ?? '') + d.reasoning_content;
    for (const t of d.tool_calls ?? []) {
      message.tool_calls ??= [];
      const call = (message.tool_calls[t.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
      if (t.id) call.id = t.id;
      if (t.function.name) call.function.name += t.function.name;
      if (t.function.arguments) call.function.arguments += t.function.arguments;
    }
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  return { message, finish };
}

const user = { role: 'user', content: 'What is the weather like?' };

describe.each(templateNames())('%s', (template) => {
  beforeAll(async () => {
    await server.manager.load(await templateModel(template));
  }, 120_000);

  it('answers plain, with tools (auto, required) and after a tool result, in the right shape', async () => {
    const base = { model: 'x', max_tokens: 24, seed: 3, temperature: 0 };
    const plain = await post({ ...base, messages: [user] });
    expect(plain.status, JSON.stringify(plain.json)).toBe(200);
    chatCompletionSchema.parse(plain.json);
    const pm = plain.json.choices[0]!.message;
    expect(pm.tool_calls).toBeUndefined();
    expect(typeof pm.content).toBe('string');
    // Streamed, the same request ends in the same way, every chunk in OpenAI's shape.
    const streamed = await postStream({ ...base, messages: [user] });
    expect(streamed.finish).toBe(plain.json.choices[0]!.finish_reason);
    expect(streamed.message.tool_calls).toBeUndefined();

    const auto = await post({ ...base, max_tokens: 40, messages: [user], tools: TOOLS, tool_choice: 'auto' });
    expect(auto.status, JSON.stringify(auto.json)).toBe(200);
    chatCompletionSchema.parse(auto.json);
    for (const c of auto.json.choices[0]!.message.tool_calls ?? []) expectValidCall(c);

    // A thinking template may open its thinking block itself: a budget of 0 closes it at once.
    const required = { ...base, max_tokens: 160, messages: [user], tools: TOOLS, tool_choice: 'required', parallel_tool_calls: false, reasoning_budget_tokens: 0 };
    const req = await post(required);
    expect(req.status, JSON.stringify(req.json)).toBe(200);
    chatCompletionSchema.parse(req.json);
    const rm = req.json.choices[0]!.message;
    expect(req.json.choices[0]!.finish_reason, JSON.stringify(req.json)).toBe('tool_calls');
    expect(rm.tool_calls!.length).toBeGreaterThanOrEqual(1);
    for (const c of rm.tool_calls!) expectValidCall(c);
    const reqStreamed = await postStream(required);
    expect(reqStreamed.finish).toBe('tool_calls');
    for (const c of reqStreamed.message.tool_calls!) expectValidCall(c);

    const call = rm.tool_calls![0]!;
    const followUp = await post({
      ...base,
      messages: [
        user,
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '{"temperature": 18}' },
      ],
      tools: TOOLS,
    });
    expect(followUp.status, JSON.stringify(followUp.json)).toBe(200);
    chatCompletionSchema.parse(followUp.json);
  }, 240_000);
});
