// The WebSocket protocol against a real listening server with the `ws` client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { WS_SUBPROTOCOL } from '../../src/server/index.js';
import { AUTH, StreamClient, TOKEN, eventually, startServer, type TestServer } from './helpers.js';

const chat = (id: string, params: Record<string, unknown> = {}, content = 'Tell me a story.') => ({
  type: 'chat',
  id,
  messages: [{ role: 'user', content }],
  params: { maxTokens: 16, temperature: 0, ignoreEos: true, ...params },
});

/** Upgrade attempt; resolves with the HTTP status of a refused upgrade, or 101. */
function upgradeStatus(url: string, options: { headers?: Record<string, string>; protocols?: string[] } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.on('error', (err) => reject(err));
  });
}

describe('WebSocket /api/llm/stream', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: { WESTFALL_PARALLEL: 2 } });
  });
  afterAll(() => server.close());

  it('streams tokens, then done with usage, timings and stopReason', async () => {
    const c = new StreamClient(server.wsUrl);
    await c.opened();
    c.send(chat('a'));
    const done = await c.final('a');
    expect(c.invalid).toEqual([]);
    expect(done.type).toBe('done');
    if (done.type !== 'done') return;
    const tokens = c.of('a').filter((m) => m.type === 'token');
    expect(tokens.length).toBeGreaterThan(0);
    expect(c.of('a').at(-1)).toBe(done); // done comes last
    expect(done.stopReason).toBe('max_tokens');
    expect(done.usage.completionTokens).toBe(16);
    expect(done.usage.promptTokens).toBeGreaterThan(0);
    expect(done.timings.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(tokens.map((t) => (t.type === 'token' ? t.text : '')).join('').length).toBeGreaterThan(0);
    c.close();
  });

  it('cancels a generation: done with stopReason aborted, well before maxTokens', async () => {
    const c = new StreamClient(server.wsUrl);
    await c.opened();
    // A long generation (cancelled almost at once, so the test stays fast).
    c.send(chat('long', { maxTokens: 900 }));
    await c.waitFor(() => c.of('long').some((m) => m.type === 'token'));
    c.send({ type: 'cancel', id: 'long' });
    const done = await c.final('long');
    expect(done.type).toBe('done');
    if (done.type !== 'done') return;
    expect(done.stopReason).toBe('aborted');
    expect(done.usage.completionTokens).toBeLessThan(900);
    await eventually(() => server.manager.stats().running === 0);
    c.close();
  });

  it('cancels during prompt processing or in the queue', async () => {
    const c = new StreamClient(server.wsUrl);
    await c.opened();
    c.send(chat('now', { maxTokens: 900 }, 'word '.repeat(600)));
    c.send({ type: 'cancel', id: 'now' });
    const done = await c.final('now');
    expect(done.type).toBe('done');
    if (done.type === 'done') {
      expect(done.stopReason).toBe('aborted');
      expect(done.usage.completionTokens).toBeLessThan(5);
    }
    c.close();
  });

  it('runs two requests in flight on one socket, told apart by id', async () => {
    const c = new StreamClient(server.wsUrl);
    await c.opened();
    c.send(chat('one', { maxTokens: 24 }, 'First question'));
    c.send(chat('two', { maxTokens: 12 }, 'Second question'));
    const [d1, d2] = await Promise.all([c.final('one'), c.final('two')]);
    expect(d1.type).toBe('done');
    expect(d2.type).toBe('done');
    if (d1.type !== 'done' || d2.type !== 'done') return;
    expect(d1.usage.completionTokens).toBe(24);
    expect(d2.usage.completionTokens).toBe(12);
    expect(c.of('one').filter((m) => m.type === 'token').length).toBeGreaterThan(0);
    expect(c.of('two').filter((m) => m.type === 'token').length).toBeGreaterThan(0);
    c.close();
  });

  it('refuses a duplicate id in flight and reports invalid messages with the fields', async () => {
    const c = new StreamClient(server.wsUrl);
    await c.opened();
    c.send(chat('dup', { maxTokens: 900 }));
    c.send(chat('dup'));
    const err = await c.waitFor(() => c.of('dup').find((m) => m.type === 'error'));
    expect(err.type === 'error' && err.error.code).toBe('invalid_request');
    c.send({ type: 'cancel', id: 'dup' });
    await c.waitFor(() => c.of('dup').find((m) => m.type === 'done'));

    c.send({ type: 'chat', id: 'bad', messages: [{ role: 'user' }], params: { temperature: 'hot' } });
    const bad = await c.final('bad');
    expect(bad.type).toBe('error');
    if (bad.type === 'error') {
      expect(bad.error.code).toBe('invalid_request');
      const paths = (bad.error.details as { fields: { path: string }[] }).fields.map((f) => f.path);
      expect(paths).toEqual(expect.arrayContaining(['messages.0.content', 'params.temperature']));
    }
    c.ws.send('not json');
    const notJson = await c.waitFor(() => c.messages.find((m) => m.type === 'error' && m.id === undefined && m.error.code === 'invalid_json'));
    expect(notJson).toBeTruthy();
    c.send({ type: 'dance' });
    await c.waitFor(() => c.messages.find((m) => m.type === 'error' && m.id === undefined && m.error.code === 'invalid_request'));
    // the socket still works
    c.send(chat('after'));
    expect((await c.final('after')).type).toBe('done');
    c.close();
  });

  it('a client that disconnects mid-stream stops its generation and leaves the server healthy', async () => {
    const c = new StreamClient(server.wsUrl);
    await c.opened();
    c.send(chat('gone', { maxTokens: 900 }));
    await c.waitFor(() => c.of('gone').some((m) => m.type === 'token'));
    c.ws.terminate();
    await eventually(() => server.manager.stats().running === 0, 5000);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/westfall_generations_total\{kind="chat",stop_reason="aborted"\} [1-9]/);
    const health = await fetch(`${server.url}/health/ready`);
    expect(health.status).toBe(200);
    const c2 = new StreamClient(server.wsUrl);
    await c2.opened();
    c2.send(chat('next'));
    expect((await c2.final('next')).type).toBe('done');
    c2.close();
  });

  describe('upgrade security', () => {
    it('refuses an upgrade without or with a wrong token (401)', async () => {
      expect(await upgradeStatus(server.wsUrl)).toBe(401);
      expect(await upgradeStatus(server.wsUrl, { headers: { authorization: 'Bearer wrong-token-000000000' } })).toBe(401);
      expect(await upgradeStatus(`${server.wsUrl}?token=wrong`)).toBe(401);
    });

    it('accepts the token as header, ?token= or a bearer.<token> subprotocol', async () => {
      expect(await upgradeStatus(server.wsUrl, { headers: AUTH })).toBe(101);
      expect(await upgradeStatus(`${server.wsUrl}?token=${TOKEN}`)).toBe(101);
      const c = new StreamClient(server.wsUrl, { headers: {}, protocols: [WS_SUBPROTOCOL, `bearer.${TOKEN}`] });
      await c.opened();
      expect(c.ws.protocol).toBe(WS_SUBPROTOCOL); // the token is never echoed back
      c.send(chat('p'));
      expect((await c.final('p')).type).toBe('done');
      c.close();
    });

    it('refuses a foreign Origin and a rebinding Host (403) even with the token', async () => {
      expect(await upgradeStatus(server.wsUrl, { headers: { ...AUTH, origin: 'https://evil.example' } })).toBe(403);
      expect(await upgradeStatus(server.wsUrl, { headers: { ...AUTH, host: `evil.example:${server.port}` } })).toBe(403);
      expect(await upgradeStatus(server.wsUrl, { headers: { ...AUTH, origin: `http://localhost:${server.port}` } })).toBe(101);
    });
  });
});
