// Grammars and JSON schemas that hang or abort llama.cpp are refused with a 400 before they reach it, on
// every route, and the backend keeps answering; tight but valid schemas still work under any seed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, startServer, type TestServer } from './helpers.js';

const REVERSED = 'root ::= "a"{2,1}';
const EMPTY_RANGE = { type: 'object', properties: { age: { type: 'integer', minimum: 10, maximum: 3 } }, required: ['age'] };
const messages = [{ role: 'user', content: 'How old?' }];

describe('grammar and schema requests against a real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: r.status, body: (await r.json()) as any };
  };

  const expectHealthy = async () => {
    const r = await fetch(`${server.url}/health`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { status: string }).status).toBe('ok');
  };

  it('POST /api/llm/chat with a reversed repetition in params.grammar → 400, and the backend still answers', async () => {
    const r = await post('/api/llm/chat', { messages, params: { grammar: REVERSED, maxTokens: 4 } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('invalid_request');
    expect(r.body.error.message).toContain('params.grammar: grammar error at line 1, column 13: repetition {2,1}: the minimum 2 is greater than the maximum 1');
    await expectHealthy();
  });

  it('POST /api/llm/chat with an empty integer range in params.jsonSchema → 400', async () => {
    const r = await post('/api/llm/chat', { messages, params: { jsonSchema: EMPTY_RANGE, maxTokens: 4 } });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('params.jsonSchema: properties.age: minimum 10 is greater than maximum 3');
    await expectHealthy();
  });

  it('POST /v1/chat/completions with an empty range in response_format → 400 in OpenAI shape, streamed or not', async () => {
    for (const stream of [false, true]) {
      const r = await post('/v1/chat/completions', {
        model: 'tiny-qwen2',
        messages,
        max_tokens: 4,
        stream,
        response_format: { type: 'json_schema', json_schema: { name: 'age', schema: EMPTY_RANGE } },
      });
      expect(r.status).toBe(400);
      expect(r.body.error.type).toBe('invalid_request_error');
      expect(r.body.error.message).toContain('properties.age: minimum 10 is greater than maximum 3');
      await expectHealthy();
    }
  });

  it('POST /v1/chat/completions with a reversed length range in a tool → 400', async () => {
    const r = await post('/v1/chat/completions', {
      model: 'tiny-qwen2',
      messages,
      max_tokens: 4,
      tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { s: { type: 'string', minLength: 5, maxLength: 2 } } } } }],
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('properties.s: minLength 5 is greater than maxLength 2');
    await expectHealthy();
  });

  it('a valid but tight schema (integer 3..3) answers 3 under 20 different seeds at temperature 1', async () => {
    const schema = { type: 'integer', minimum: 3, maximum: 3 };
    // The chat format's grammar lets the answer sit in bounded whitespace or a ```json fence; room for all
    // of it, so that every seed must end the answer itself.
    const value = (content: string) => JSON.parse(content.trim().replace(/^```json\s*([\s\S]*?)\s*```$/, '$1')) as unknown;
    for (let seed = 1; seed <= 20; seed++) {
      if (seed % 2 === 0) {
        const r = await post('/api/llm/chat', { messages, params: { jsonSchema: schema, temperature: 1, seed, maxTokens: 160 } });
        const why = `seed ${seed}: ${JSON.stringify(r.body)}`;
        expect(r.status, why).toBe(200);
        expect(r.body.stopReason, why).toBe('eos');
        expect(value(r.body.message.content), why).toBe(3);
      } else {
        const r = await post('/v1/chat/completions', {
          model: 'tiny-qwen2',
          messages,
          temperature: 1,
          seed,
          max_tokens: 160,
          response_format: { type: 'json_schema', json_schema: { name: 'n', schema } },
        });
        const why = `seed ${seed}: ${JSON.stringify(r.body)}`;
        expect(r.status, why).toBe(200);
        expect(r.body.choices[0].finish_reason, why).toBe('stop');
        expect(value(r.body.choices[0].message.content), why).toBe(3);
      }
    }
    await expectHealthy();
  }, 900_000);
});

// Found by scripts/fuzz-grammar.ts: a grammar no token of the vocabulary satisfies (a token id past its
// end) failed in the native sampler with a code outside the catalog, answered as 500 native_error.
describe('a grammar the vocabulary cannot satisfy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('answers 400 grammar_error, not 500, and the backend still answers', async () => {
    const headers = { ...AUTH, 'content-type': 'application/json' };
    const r = await fetch(`${server.url}/api/llm/chat`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ messages, params: { grammar: 'root ::= <[999999999]>', maxTokens: 4 } }),
    });
    const body = (await r.json()) as { error: { type: string; code: string } };
    expect(r.status).toBe(400);
    expect(body.error).toMatchObject({ type: 'invalid_request_error', code: 'grammar_error' });
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
  });
});
