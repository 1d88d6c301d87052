// Function calling on /v1/chat/completions with the official `openai` client, in the model's own format
// (the test model carries Qwen2.5's template): llama.cpp's format grammar constrains a call to the
// functions' JSON schemas, so even the random-weight test model returns well-formed tool_calls.
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletionChunkSchema, chatCompletionSchema } from '../../src/server/index.js';
import { TOKEN, startServer, type TestServer } from './helpers.js';

// What these tests cost is the calls: every token of a call is constrained by the grammar, and with random
// weights the token picked without it is nearly always refused, so each token sends the whole 151k-token
// vocabulary through the grammar (about 80 ms on an idle 2-core machine). A call is 60-85 tokens, 5-8 s
// there; an answer (tool_choice auto or none) is about 1 ms a token. With both cores of such a machine
// busy elsewhere, one call took over 40 s, so the client waits 90 s for a reply and each test's limit is
// 90 s per call it makes: limits for a stalled test, not a speed requirement.
const PER_CALL_MS = 90_000;
const forCalls = (calls: number) => Math.max(60_000, calls * PER_CALL_MS);

const tools: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather in a city',
      parameters: {
        type: 'object',
        properties: { city: { type: 'string', maxLength: 12 }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
        required: ['city', 'unit'],
        additionalProperties: false,
      },
    },
  },
  {
    type: 'function',
    function: {
      name: 'add',
      description: 'Adds two integers',
      parameters: { type: 'object', properties: { a: { type: 'integer' }, b: { type: 'integer' } }, required: ['a', 'b'], additionalProperties: false },
    },
  },
];

function expectValidCall(call: { id: string; type: string; function: { name: string; arguments: string } }) {
  expect(call.type).toBe('function');
  expect(call.id).toMatch(/^call_/);
  const args = JSON.parse(call.function.arguments) as Record<string, unknown>;
  if (call.function.name === 'get_weather') {
    expect(Object.keys(args).sort()).toEqual(['city', 'unit']);
    expect(typeof args.city).toBe('string');
    expect(['celsius', 'fahrenheit']).toContain(args.unit);
  } else {
    expect(call.function.name).toBe('add');
    expect(Number.isInteger(args.a) && Number.isInteger(args.b)).toBe(true);
  }
}

describe('/v1 function calling with the openai client', () => {
  let server: TestServer;
  let client: OpenAI;
  beforeAll(async () => {
    server = await startServer();
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: TOKEN, maxRetries: 0, timeout: PER_CALL_MS });
  });
  afterAll(() => server.close());

  const ask = (extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming>) =>
    client.chat.completions.create({ model: 'tiny-qwen2', messages: [{ role: 'user', content: 'What is the weather in Paris?' }], max_tokens: 200, tools, parallel_tool_calls: false, ...extra });

  it('tool_choice "required": the reply is a call matching a function schema, finish_reason tool_calls', async () => {
    for (const seed of [1, 2, 3]) {
      const r = await ask({ tool_choice: 'required', seed });
      chatCompletionSchema.parse(r);
      const choice = r.choices[0]!;
      expect(choice.finish_reason).toBe('tool_calls');
      expect(choice.message.tool_calls!.length).toBeGreaterThanOrEqual(1);
      for (const call of choice.message.tool_calls!) expectValidCall(call as never);
    }
  }, forCalls(3));

  it('a named tool_choice forces that function', async () => {
    const r = await ask({ tool_choice: { type: 'function', function: { name: 'add' } }, seed: 4 });
    const calls = r.choices[0]!.message.tool_calls!;
    expect(calls.map((c) => (c as { function: { name: string } }).function.name)).toEqual(['add']);
    expectValidCall(calls[0] as never);
  }, forCalls(1));

  // Usually four answers (about 0.1 s each: the lazy grammar waits for a <tool_call> that random weights
  // rarely write); any seed that does start a call pays for one.
  it('tool_choice "auto": either an answer or valid calls, never a malformed call', async () => {
    for (const seed of [5, 6, 7, 8]) {
      const r = await ask({ tool_choice: 'auto', seed, max_tokens: 120 });
      const choice = r.choices[0]!;
      if (choice.finish_reason === 'tool_calls') {
        for (const call of choice.message.tool_calls!) expectValidCall(call as never);
      } else {
        expect(choice.message.tool_calls).toBeUndefined();
        expect(typeof choice.message.content).toBe('string');
        expect(choice.message.content!.startsWith('<tool_call>')).toBe(false);
      }
    }
  }, forCalls(4));

  it('streams calls as tool_calls deltas that the client assembles', async () => {
    const request = { model: 'tiny-qwen2', messages: [{ role: 'user' as const, content: 'Add 2 and 3' }], max_tokens: 300, tools, tool_choice: 'required' as const, parallel_tool_calls: false, seed: 9 };
    const stream = await client.chat.completions.create({ ...request, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    for (const c of chunks) chatCompletionChunkSchema.parse(c);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(content).toBe('');
    // Each call: a first delta with its id and name, then argument fragments only.
    const deltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    const assembled: { id: string; type: string; function: { name: string; arguments: string } }[] = [];
    for (const d of deltas) {
      if (d.id) {
        expect(d.index).toBe(assembled.length);
        expect(d.function!.name).toBeTruthy();
        assembled.push({ id: d.id, type: d.type!, function: { name: d.function!.name!, arguments: d.function!.arguments ?? '' } });
      } else {
        expect(d.function!.name).toBeUndefined();
        assembled[d.index]!.function.arguments += d.function!.arguments ?? '';
      }
    }
    expect(assembled.length).toBeGreaterThanOrEqual(1);
    expect(deltas.length).toBeGreaterThan(assembled.length); // the arguments came in pieces
    for (const call of assembled) expectValidCall(call);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0]!.finish_reason).toBe('tool_calls');
    expect(chunks.at(-1)!.usage!.completion_tokens).toBeGreaterThan(0);

    // The SDK's stream helper assembles the same calls; the same request without streaming gives them too.
    const runner = client.chat.completions.stream(request);
    const final = await runner.finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe('tool_calls');
    const args = (c: { function: { arguments: string } }) => JSON.parse(c.function.arguments) as unknown;
    expect(final.choices[0]!.message.tool_calls!.map((c) => args(c as never))).toEqual(assembled.map(args));
    const whole = await client.chat.completions.create(request);
    expect(whole.choices[0]!.message.tool_calls!.map((c) => args(c as never))).toEqual(assembled.map(args));
  }, forCalls(3));

  it('an answer streams as text while tools are offered', async () => {
    const request = { model: 'tiny-qwen2', messages: [{ role: 'user' as const, content: 'Say something' }], max_tokens: 16, tools, tool_choice: 'none' as const, temperature: 0 };
    const stream = await client.chat.completions.create({ ...request, stream: true });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    const plain = await client.chat.completions.create(request);
    expect(text).toBe(plain.choices[0]!.message.content);
    expect(chunks.some((c) => c.choices[0]?.delta.tool_calls)).toBe(false);
  });

  it('a tool result goes back to the model, which then answers', async () => {
    const first = await ask({ tool_choice: { type: 'function', function: { name: 'get_weather' } }, seed: 11 });
    const call = first.choices[0]!.message.tool_calls![0]! as { id: string; function: { name: string; arguments: string } };
    const messages: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'What is the weather in Paris?' },
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: call.function }] },
      { role: 'tool', tool_call_id: call.id, content: JSON.stringify({ temperature: 18, sky: 'clear' }) },
    ];
    const second = await client.chat.completions.create({ model: 'tiny-qwen2', messages, tools, tool_choice: 'none', max_tokens: 8 });
    expect(second.choices[0]!.message.content!.length).toBeGreaterThan(0);
    // The call and the result are part of the prompt (the template renders both).
    const bare = await client.chat.completions.create({ model: 'tiny-qwen2', messages: [messages[0]!], tools, tool_choice: 'none', max_tokens: 1 });
    expect(second.usage!.prompt_tokens).toBeGreaterThan(bare.usage!.prompt_tokens + 20);
  }, forCalls(1));

  it('bad tool requests are 400s naming the field', async () => {
    const unknown = await ask({ tool_choice: { type: 'function', function: { name: 'nope' } } }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unknown as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tool_choice');

    const noTools = await client.chat.completions
      .create({ model: 'tiny-qwen2', messages: [{ role: 'user', content: 'x' }], tool_choice: 'required', max_tokens: 2 })
      .catch((e: unknown) => e);
    expect(noTools).toBeInstanceOf(OpenAI.BadRequestError);

    const badName = await ask({ tools: [{ type: 'function', function: { name: 'get weather', parameters: { type: 'object' } } }] }).catch((e: unknown) => e);
    expect(badName).toBeInstanceOf(OpenAI.BadRequestError);
    expect((badName as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('tools.0.function.name');

    // The server is still fine.
    expect((await ask({ tool_choice: 'required', seed: 1 })).choices[0]!.finish_reason).toBe('tool_calls');
  }, forCalls(1));
});
