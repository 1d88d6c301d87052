// What happens when a conversation outgrows the context window, with the tiny model (1024-token context,
// two sequences: 512 tokens each): POST /api/llm/tokens counts with the model's template and tokenizer;
// 'drop_oldest' leaves the oldest turns out of the prompt (never the system prompt or the last question)
// and says how many; 'refuse' answers context_overflow; a chat's smaller window applies the same way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, StreamClient, startServer, type TestServer } from './helpers.js';

let server: TestServer;
let ws: StreamClient;

beforeAll(async () => {
  server = await startServer({ settings: { WESTFALL_PARALLEL: 2 } });
  ws = new StreamClient(server.wsUrl);
  await ws.opened();
}, 120_000);
afterAll(async () => {
  ws?.close();
  await server?.close();
});

const post = async (path: string, body: unknown) => {
  const r = await fetch(`${server.url}${path}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as any };
};

/** A conversation of `turns` question/answer pairs (about 40 tokens each) and a last question. */
function longChat(turns: number) {
  const msgs: { role: 'system' | 'user' | 'assistant'; content: string }[] = [{ role: 'system', content: 'You are terse.' }];
  for (let i = 0; i < turns; i++) {
    msgs.push({ role: 'user', content: `Question ${i}: tell me about the harbour, the boats and the lighthouse number ${i}.` });
    msgs.push({ role: 'assistant', content: `Answer ${i}: the harbour is calm, the boats are blue and lighthouse ${i} is white.` });
  }
  msgs.push({ role: 'user', content: 'And the last one?' });
  return msgs;
}

describe('context window', () => {
  it('counts a conversation with the model tokenizer; the count grows with the conversation', async () => {
    const one = await post('/api/llm/tokens', { messages: longChat(1) });
    expect(one.status).toBe(200);
    expect(one.body.contextTokens).toBe(server.manager.context!.info.contextSizePerSequence);
    expect(one.body.promptTokens).toBe(server.manager.model!.tokenizeChat(longChat(1), { reasoningFormat: 'auto' }).tokens.length);
    expect(one.body.droppedMessages).toBe(0);
    const three = await post('/api/llm/tokens', { messages: longChat(3) });
    expect(three.body.promptTokens).toBeGreaterThan(one.body.promptTokens);
    expect((await post('/api/llm/tokens', { messages: [] })).body.promptTokens).toBe(0);
    expect((await post('/api/llm/tokens', { messages: 'x' })).status).toBe(400);
  });

  it('drop_oldest leaves the oldest turns out and says how many; refuse answers context_overflow', async () => {
    const messages = longChat(20);
    const count = await post('/api/llm/tokens', { messages, maxTokens: 16 });
    expect(count.body.promptTokens).toBeGreaterThan(count.body.contextTokens);
    expect(count.body.droppedMessages).toBeGreaterThan(0);
    expect(count.body.droppedMessages % 2).toBe(0); // whole turns
    expect(count.body.keptTokens).toBeLessThanOrEqual(count.body.contextTokens - count.body.reserveTokens);

    ws.send({ type: 'chat', id: 'drop', messages, params: { maxTokens: 16 }, contextOverflow: 'drop_oldest' });
    const done = await ws.final('drop', 120_000);
    expect(done.type).toBe('done');
    expect((done as { droppedMessages?: number }).droppedMessages).toBe(count.body.droppedMessages);
    if (done.type === 'done') expect(done.usage.promptTokens).toBe(count.body.keptTokens);

    ws.send({ type: 'chat', id: 'refuse', messages, params: { maxTokens: 16 }, contextOverflow: 'refuse' });
    const refused = await ws.final('refuse');
    expect(refused.type).toBe('error');
    if (refused.type === 'error') {
      expect(refused.error.code).toBe('context_overflow');
      expect(refused.error.message).toMatch(/needs \d+ tokens; the window holds \d+/);
    }
    // Without a rule the engine's own check refuses it too (as before).
    const rest = await post('/api/llm/chat', { messages, params: { maxTokens: 16 } });
    expect(rest.status).toBe(400);
    expect(rest.body.error.code).toBe('context_overflow');
  }, 180_000);

  it("a chat's smaller window drops earlier; a last question too long for any window is refused", async () => {
    const messages = longChat(3);
    const full = await post('/api/llm/tokens', { messages, maxTokens: 16 });
    expect(full.body.droppedMessages).toBe(0);
    const small = await post('/api/llm/tokens', { messages, maxTokens: 16, contextTokens: 96 });
    expect(small.body.contextTokens).toBe(96);
    expect(small.body.droppedMessages).toBeGreaterThan(0);
    const r = await post('/api/llm/chat', { messages, params: { maxTokens: 8 }, contextOverflow: 'drop_oldest', contextTokens: 96 });
    expect(r.status).toBe(200);
    expect(r.body.droppedMessages).toBe(small.body.droppedMessages);

    const huge = [{ role: 'user', content: 'lighthouse '.repeat(800) }];
    const tooLong = await post('/api/llm/chat', { messages: huge, params: { maxTokens: 8 }, contextOverflow: 'drop_oldest' });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe('context_overflow');
    expect(tooLong.body.error.message).toContain('the last message needs');
  }, 180_000);
});
