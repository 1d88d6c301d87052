// Fast route tests with app.inject: errors, validation, limits, security, health, metrics, logging.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ModelManager, errorBodySchema, healthResponseSchema, openAIErrorBodySchema, readyResponseSchema, systemResponseSchema } from '../../src/server/index.js';
import { createApp } from '../../src/server/index.js';
import { AUTH, TINY_MODEL, TOKEN, logCapture, testConfig } from './helpers.js';

const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };

describe('HTTP service without a model', () => {
  let app: FastifyInstance;
  const log = logCapture('debug'); // requests are logged at debug
  beforeAll(async () => {
    app = createApp(testConfig({ WESTFALL_BODY_LIMIT: 4096, WESTFALL_ALLOWED_ORIGINS: 'app://westfall' }), { logger: log.logger });
    await app.ready();
  });
  afterAll(() => app.close());

  it('GET /health answers without a token', async () => {
    const r = await app.inject({ url: '/health' });
    expect(r.statusCode).toBe(200);
    const body = healthResponseSchema.parse(r.json());
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.model.state).toBe('none');
    expect(r.headers['x-request-id']).toBeTruthy();
  });

  it('GET /health/ready is 503 with the reason when no model is loaded', async () => {
    const r = await app.inject({ url: '/health/ready' });
    expect(r.statusCode).toBe(503);
    const body = errorBodySchema.parse(r.json());
    expect(body.error.code).toBe('model_not_loaded');
    expect(body.error.details).toEqual({ state: 'none' });
  });

  it('chat without a model is 503 model_not_loaded', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/llm/chat', headers: JSON_HEADERS, payload: { messages: [{ role: 'user', content: 'hi' }] } });
    expect(r.statusCode).toBe(503);
    expect(r.json().error.code).toBe('model_not_loaded');
    const v1 = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: JSON_HEADERS, payload: { model: 'x', messages: [{ role: 'user', content: 'hi' }] } });
    expect(v1.statusCode).toBe(503);
    expect(openAIErrorBodySchema.parse(v1.json()).error.code).toBe('model_not_loaded');
    const models = await app.inject({ url: '/v1/models', headers: AUTH });
    expect(models.json()).toEqual({ object: 'list', data: [] });
  });

  describe('errors', () => {
    it('unknown routes are 404 in the error shape (OpenAI shape under /v1)', async () => {
      const r = await app.inject({ url: '/does/not/exist', headers: AUTH });
      expect(r.statusCode).toBe(404);
      expect(errorBodySchema.parse(r.json()).error).toMatchObject({ type: 'not_found_error', code: 'not_found' });
      const v1 = await app.inject({ url: '/v1/nothing', headers: AUTH });
      expect(v1.statusCode).toBe(404);
      expect(openAIErrorBodySchema.parse(v1.json()).error).toEqual({ message: 'no route GET /v1/nothing', type: 'not_found_error', param: null, code: 'not_found' });
    });

    it('malformed JSON is 400 invalid_json', async () => {
      const r = await app.inject({ method: 'POST', url: '/api/llm/chat', headers: JSON_HEADERS, payload: '{"messages": [' });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.code).toBe('invalid_json');
      const empty = await app.inject({ method: 'POST', url: '/api/llm/chat', headers: JSON_HEADERS, payload: '' });
      expect(empty.statusCode).toBe(400);
      expect(empty.json().error.code).toBe('invalid_json');
    });

    it('a body over the limit is 413', async () => {
      const big = JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(10_000) }] });
      const r = await app.inject({ method: 'POST', url: '/api/llm/chat', headers: JSON_HEADERS, payload: big });
      expect(r.statusCode).toBe(413);
      expect(r.json().error.code).toBe('payload_too_large');
    });

    it('a body that is not JSON is 415', async () => {
      const r = await app.inject({ method: 'POST', url: '/api/llm/chat', headers: { ...AUTH, 'content-type': 'text/xml' }, payload: '<a/>' });
      expect(r.statusCode).toBe(415);
      expect(r.json().error.code).toBe('unsupported_media_type');
    });

    it('validation errors name every bad field', async () => {
      const r = await app.inject({
        method: 'POST',
        url: '/api/llm/chat',
        headers: JSON_HEADERS,
        payload: { messages: [{ role: 'robot', content: 5 }], params: { temperature: -1, maxTokens: 'many', bogus: true }, extra: 1 },
      });
      expect(r.statusCode).toBe(400);
      const body = errorBodySchema.parse(r.json());
      expect(body.error.code).toBe('invalid_request');
      const paths = (body.error.details as { fields: { path: string }[] }).fields.map((f) => f.path).sort();
      expect(paths).toEqual(['(root)', 'messages.0.content', 'messages.0.role', 'params', 'params.maxTokens', 'params.temperature'].sort());
      expect(body.error.message).toContain('params.temperature');
      expect(r.body).not.toMatch(/at .*\.ts:\d+/); // no stack
    });

    it('OpenAI validation errors carry the first bad field as param', async () => {
      const r = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: JSON_HEADERS, payload: { model: 'm', messages: [], temperature: 5 } });
      expect(r.statusCode).toBe(400);
      const body = openAIErrorBodySchema.parse(r.json());
      expect(body.error.type).toBe('invalid_request_error');
      expect(['messages', 'temperature']).toContain(body.error.param);
      expect(body.error.message).toContain('temperature');
      expect(body.error.message).toContain('messages');
      const n = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: JSON_HEADERS, payload: { model: 'm', messages: [{ role: 'user', content: 'x' }], n: 2 } });
      expect(n.statusCode).toBe(400);
      expect(n.json().error.param).toBe('n');
    });

    it('stays up after bad requests', async () => {
      expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
    });
  });

  describe('security', () => {
    it('requires the bearer token on /api and /v1 (401 without or with a wrong one)', async () => {
      for (const url of ['/api/system', '/v1/models']) {
        const none = await app.inject({ url });
        expect(none.statusCode).toBe(401);
        expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
        const wrong = await app.inject({ url, headers: { authorization: 'Bearer not-the-token-000000' } });
        expect(wrong.statusCode).toBe(401);
        const basic = await app.inject({ url, headers: { authorization: `Basic ${TOKEN}` } });
        expect(basic.statusCode).toBe(401);
        const ok = await app.inject({ url, headers: AUTH });
        expect(ok.statusCode).toBe(200);
      }
      expect((await app.inject({ url: '/api/system' })).json().error.code).toBe('unauthorized');
      expect((await app.inject({ url: '/v1/models' })).json().error).toMatchObject({ type: 'authentication_error', code: 'unauthorized', param: null });
    });

    it('does not take the token from the query string on plain HTTP', async () => {
      const r = await app.inject({ url: `/api/system?token=${TOKEN}` });
      expect(r.statusCode).toBe(401);
    });

    it('rejects a Host that is not loopback (DNS rebinding) with 403', async () => {
      for (const host of ['evil.example', 'evil.example:8756', '127.0.0.1.evil.example', '192.168.1.5:8756', 'localhost.evil']) {
        const r = await app.inject({ url: '/health', headers: { host } });
        expect(r.statusCode, host).toBe(403);
        expect(r.json().error.code).toBe('forbidden_host');
      }
      const authed = await app.inject({ url: '/api/system', headers: { ...AUTH, host: 'evil.example' } });
      expect(authed.statusCode).toBe(403);
      for (const host of ['127.0.0.1', '127.0.0.1:8756', 'localhost:1234', 'LOCALHOST', '[::1]:8756']) {
        const r = await app.inject({ url: '/health', headers: { host } });
        expect(r.statusCode, host).toBe(200);
      }
    });

    it('rejects foreign Origins with 403 and gives CORS headers only to allowed ones', async () => {
      const foreign = await app.inject({ url: '/api/system', headers: { ...AUTH, origin: 'https://evil.example' } });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.json().error.code).toBe('forbidden_origin');
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
      const otherPort = await app.inject({ url: '/health', headers: { host: '127.0.0.1:8756', origin: 'http://127.0.0.1:9999' } });
      expect(otherPort.statusCode).toBe(403);

      const same = await app.inject({ url: '/api/system', headers: { ...AUTH, host: '127.0.0.1:8756', origin: 'http://localhost:8756' } });
      expect(same.statusCode).toBe(200);
      expect(same.headers['access-control-allow-origin']).toBe('http://localhost:8756');
      const configured = await app.inject({ url: '/api/system', headers: { ...AUTH, origin: 'app://westfall' } });
      expect(configured.statusCode).toBe(200);
      expect(configured.headers['access-control-allow-origin']).toBe('app://westfall');
    });

    it('answers CORS preflights for allowed origins without a token', async () => {
      const r = await app.inject({
        method: 'OPTIONS',
        url: '/api/llm/chat',
        headers: { origin: 'app://westfall', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      expect(r.statusCode).toBe(204);
      expect(r.headers['access-control-allow-origin']).toBe('app://westfall');
      expect(r.headers['access-control-allow-headers']).toContain('authorization');
      const evil = await app.inject({ method: 'OPTIONS', url: '/api/llm/chat', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      expect(evil.statusCode).toBe(403);
    });
  });

  it('GET /api/system reports the engine build, memory and model state', async () => {
    const r = await app.inject({ url: '/api/system', headers: AUTH });
    expect(r.statusCode).toBe(200);
    const body = systemResponseSchema.parse(r.json());
    expect(body.engine.backend).toBeTruthy();
    expect(body.engine.devices.length).toBeGreaterThan(0);
    expect(body.memory.totalBytes).toBeGreaterThan(0);
    expect(body.model.state).toBe('none');
    expect(body.scheduler.capacity).toBe(2);
  });

  it('GET /metrics is Prometheus text with request counts by route and status', async () => {
    await app.inject({ url: '/health' });
    await app.inject({ url: '/api/system' }); // 401
    const r = await app.inject({ url: '/metrics' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain');
    expect(r.body).toMatch(/westfall_http_requests_total\{method="GET",route="\/health",status="200"\} [1-9]/);
    expect(r.body).toMatch(/westfall_http_requests_total\{method="GET",route="\/api\/system",status="401"\} [1-9]/);
    expect(r.body).toMatch(/westfall_http_requests_total\{method="GET",route="unmatched",status="404"\} [1-9]/);
    expect(r.body).toContain('westfall_model_state{state="none"} 1');
    expect(r.body).toContain('westfall_queue_depth 0');
    expect(r.body).toContain('westfall_time_to_first_token_seconds');
    expect(r.body).toContain('westfall_generation_tokens_per_second');
    expect(r.body).toMatch(/westfall_process_memory_bytes\{kind="rss"\} \d+/);
  });

  it('logs with request ids and without secrets', async () => {
    await app.inject({ url: `/api/system?token=${TOKEN}&x=1`, headers: { ...AUTH, 'x-request-id': 'req-abc-123' } });
    const all = log.raw.join('\n');
    expect(all).not.toContain(TOKEN);
    const incoming = log.lines.find((l) => l.reqId === 'req-abc-123' && l.msg === 'incoming request') as { req: { url: string } } | undefined;
    expect(incoming).toBeDefined();
    expect(incoming!.req.url).toBe('/api/system?token=%5Bredacted%5D&x=1');
    log.logger.info({ headers: { authorization: `Bearer ${TOKEN}` }, password: 'hunter2', config: { apiToken: TOKEN } }, 'secret test');
    expect(log.raw.join('\n')).not.toContain(TOKEN);
    expect(log.raw.join('\n')).not.toContain('hunter2');
  });
});

describe('HTTP service with the tiny model', () => {
  let app: FastifyInstance;
  let manager: ModelManager;
  beforeAll(async () => {
    const config = testConfig();
    manager = ModelManager.fromConfig(config);
    await manager.load(TINY_MODEL);
    app = createApp(config, { manager });
    await app.ready();
  });
  afterAll(() => app.close());

  it('GET /health/ready is 200 with the model', async () => {
    const r = await app.inject({ url: '/health/ready' });
    expect(r.statusCode).toBe(200);
    const body = readyResponseSchema.parse(r.json());
    expect(body.model.id).toBe('tiny-qwen2');
    expect(body.model.architecture).toBe('qwen2');
  });

  it('POST /api/llm/chat answers with text, usage and timings', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/llm/chat',
      headers: JSON_HEADERS,
      payload: { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }], params: { maxTokens: 8, temperature: 0, ignoreEos: true } },
    });
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body.model).toBe('tiny-qwen2');
    expect(body.message.role).toBe('assistant');
    expect(body.message.content.length).toBeGreaterThan(0);
    expect(body.stopReason).toBe('max_tokens');
    expect(body.usage.completionTokens).toBe(8);
    expect(body.usage.promptTokens).toBeGreaterThan(5);
    expect(body.timings.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    // greedy is deterministic
    const again = await app.inject({
      method: 'POST',
      url: '/api/llm/chat',
      headers: JSON_HEADERS,
      payload: { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello' }], params: { maxTokens: 8, temperature: 0, ignoreEos: true } },
    });
    expect(again.json().message.content).toBe(body.message.content);
  });

  it('a prompt larger than the context is 400 context_overflow', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/llm/chat',
      headers: JSON_HEADERS,
      payload: { messages: [{ role: 'user', content: 'word '.repeat(3000) }], params: { maxTokens: 4 } },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().error.code).toBe('context_overflow');
    expect(manager.stats().running).toBe(0);
  });

  it('counts generated and prompt tokens in /metrics', async () => {
    const r = await app.inject({ url: '/metrics' });
    expect(r.body).toMatch(/westfall_generated_tokens_total\{kind="chat"\} (1[6-9]|[2-9]\d)/);
    expect(r.body).toMatch(/westfall_prompt_tokens_total\{kind="chat"\} [1-9]/);
    expect(r.body).toMatch(/westfall_time_to_first_token_seconds_count\{kind="chat"\} 2/);
    expect(r.body).toContain('westfall_model_loaded 1');
  });
});
