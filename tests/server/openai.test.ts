// The OpenAI-compatible routes, exercised with the official `openai` npm client, unchanged.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletionChunkSchema, chatCompletionSchema, completionSchema, embeddingListSchema } from '../../src/server/index.js';
import { AUTH, TOKEN, startServer, type TestServer } from './helpers.js';

describe('OpenAI-compatible /v1 with the openai client', () => {
  let server: TestServer;
  let client: OpenAI;
  beforeAll(async () => {
    server = await startServer();
    client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: TOKEN, maxRetries: 0, timeout: 30_000 });
  });
  afterAll(() => server.close());

  it('lists and retrieves the loaded model', async () => {
    const list = await client.models.list();
    expect(list.data.map((m) => m.id)).toEqual(['tiny-qwen2']);
    expect(list.data[0]!.object).toBe('model');
    const m = await client.models.retrieve('tiny-qwen2');
    expect(m.id).toBe('tiny-qwen2');
    await expect(client.models.retrieve('gpt-4')).rejects.toMatchObject({ status: 404 });
  });

  it('chat completion (non-stream) with usage', async () => {
    const r = await client.chat.completions.create({
      model: 'tiny-qwen2',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: [{ type: 'text', text: 'Say hi' }] },
      ],
      max_tokens: 8,
      temperature: 0,
    });
    chatCompletionSchema.parse(r);
    expect(r.object).toBe('chat.completion');
    expect(r.model).toBe('tiny-qwen2');
    expect(r.choices[0]!.message.role).toBe('assistant');
    expect(r.choices[0]!.message.content!.length).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(r.choices[0]!.finish_reason);
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens).toBeLessThanOrEqual(8);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
  });

  it('chat completion stream with include_usage', async () => {
    const stream = await client.chat.completions.create({
      model: 'tiny-qwen2',
      messages: [{ role: 'user', content: 'Count to five' }],
      max_tokens: 12,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    for (const c of chunks) chatCompletionChunkSchema.parse(c);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(text.length).toBeGreaterThan(0);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(['stop', 'length']).toContain(finish!.choices[0]!.finish_reason);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBeGreaterThan(0);
    expect(last.usage!.completion_tokens).toBeLessThanOrEqual(12);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it('stream and non-stream give the same text for greedy sampling', async () => {
    const params = { model: 'tiny-qwen2', messages: [{ role: 'user' as const, content: 'Repeat after me' }], max_tokens: 10, temperature: 0, seed: 1 };
    const whole = await client.chat.completions.create(params);
    const stream = await client.chat.completions.create({ ...params, stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe(whole.choices[0]!.message.content);
  });

  it('raw SSE ends with data: [DONE] and carries usage without include_usage', async () => {
    const res = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'tiny-qwen2', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const body = await res.text();
    const events = body.split('\n\n').filter(Boolean);
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const final = JSON.parse(events.at(-2)!.slice(6));
    expect(final.choices[0].finish_reason).not.toBeNull();
    expect(final.usage.completion_tokens).toBeGreaterThan(0);
  });

  it('text completion, non-stream and stream', async () => {
    const r = await client.completions.create({ model: 'tiny-qwen2', prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
    completionSchema.parse(r);
    expect(r.object).toBe('text_completion');
    expect(r.choices[0]!.text.length).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens).toBeLessThanOrEqual(8);

    const echo = await client.completions.create({ model: 'tiny-qwen2', prompt: 'Once upon a time', max_tokens: 4, temperature: 0, echo: true });
    expect(echo.choices[0]!.text.startsWith('Once upon a time')).toBe(true);

    const stream = await client.completions.create({ model: 'tiny-qwen2', prompt: 'Once upon a time', max_tokens: 8, temperature: 0, stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const c of stream) {
      text += c.choices[0]?.text ?? '';
      finish = c.choices[0]?.finish_reason ?? finish;
    }
    expect(text).toBe(r.choices[0]!.text);
    expect(['stop', 'length']).toContain(finish);
  });

  it('embeddings (the client asks for base64 by default; float on request)', async () => {
    const r = await client.embeddings.create({ model: 'tiny-qwen2', input: ['hello world', 'goodbye'] });
    expect(r.data).toHaveLength(2);
    const v = r.data[0]!.embedding;
    expect(v).toHaveLength(64);
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    expect(norm).toBeCloseTo(1, 3);
    expect(r.usage.prompt_tokens).toBeGreaterThan(0);
    expect(r.data[1]!.embedding).not.toEqual(v);

    const f = await client.embeddings.create({ model: 'tiny-qwen2', input: 'hello world', encoding_format: 'float' });
    embeddingListSchema.parse(f);
    f.data[0]!.embedding.forEach((x, i) => expect(x).toBeCloseTo(v[i]!, 5));
  });

  it('response_format json_schema constrains the reply to the schema; tools are accepted', async () => {
    const r = await client.chat.completions.create({
      model: 'tiny-qwen2',
      messages: [{ role: 'user', content: 'Answer in JSON' }],
      max_tokens: 32,
      temperature: 0,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'], additionalProperties: false } },
      },
    });
    const parsed = JSON.parse(r.choices[0]!.message.content!) as { ok: unknown };
    expect(typeof parsed.ok).toBe('boolean');

    const withTools = await client.chat.completions.create({
      model: 'tiny-qwen2',
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
      max_tokens: 4,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    });
    // the tool definitions are rendered into the prompt by the model's template
    expect(withTools.usage!.prompt_tokens).toBeGreaterThan(r.usage!.prompt_tokens + 20);
  });

  it('errors arrive in OpenAI shape as the client’s typed errors', async () => {
    const bad = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong-key-0000000000', maxRetries: 0 });
    const authErr = await bad.models.list().catch((e: unknown) => e);
    expect(authErr).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((authErr as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('unauthorized');

    const invalid = await client.chat.completions.create({ model: 'tiny-qwen2', messages: [], max_tokens: 4 }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(OpenAI.BadRequestError);
    const e = invalid as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.status).toBe(400);
    expect(e.param).toBe('messages');
    expect(e.type).toBe('invalid_request_error');

    const overflow = await client.chat.completions
      .create({ model: 'tiny-qwen2', messages: [{ role: 'user', content: 'word '.repeat(3000) }], max_tokens: 4 })
      .catch((x: unknown) => x);
    expect(overflow).toBeInstanceOf(OpenAI.BadRequestError);
    expect((overflow as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('context_overflow');
  });
});
