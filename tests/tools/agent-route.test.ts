// POST /api/agent/chat through the server's ModelManager with the synthetic model: events stream as
// Server-Sent Events, a call of a tool that writes data waits for the app's answer at
// /api/agent/confirmations/:id, and the conversation is saved.
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelManager } from '../../src/server/index.js';
import { defineTool, ToolRegistry, type ToolServices } from '../../src/tools/index.js';
import { TINY_MODEL } from '../helpers/models.js';
import { json, makeApp, makeServices, tempDir } from './helpers.js';
import { openSse } from './sse.js';

let services: ToolServices;
let manager: ModelManager;
let app: FastifyInstance;
let base: string;
let cleanup: () => void;
const volume: number[] = [];

beforeAll(async () => {
  const t = tempDir('westfall-agent-route-');
  cleanup = t.cleanup;
  services = makeServices(join(t.dir, 'data'));
  manager = new ModelManager({ contextSize: 4096, gpuLayers: 0, threads: 2, parallel: 1, queueLimit: 4, sampling: { temperature: 0.7, topP: 0.9, topK: 40, maxTokens: 256 } });
  await manager.load(TINY_MODEL);
  const registry = new ToolRegistry([
    defineTool({
      name: 'set_volume',
      description: 'Change the speaker volume.',
      input: z.object({ level: z.number().int().min(0).max(10) }).strict(),
      mutates: true,
      handler: (a) => {
        volume.push(a.level);
        return { volume: a.level };
      },
    }),
    ...services.registry.subset(['music_now_playing']).list(),
  ]);
  app = await makeApp({ ...services, registry }, { manager });
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
  await manager.close();
  services.close();
  cleanup();
});

const chatBody = (extra: object) => ({
  message: 'Turn it up to eleven',
  toolChoice: { name: 'set_volume' },
  maxSteps: 2,
  params: { maxTokens: 64, temperature: 0.8, seed: 3 },
  ...extra,
});

describe('POST /api/agent/chat', () => {
  it('streams the run; the app approves the write; the call runs and the conversation is saved', async () => {
    const sse = await openSse(`${base}/api/agent/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chatBody({})),
    });
    expect(sse.status).toBe(200);
    const call = await sse.next('tool_call', 120_000);
    expect(call.data.call.name).toBe('set_volume');
    expect(call.data.mutates).toBe(true);
    const ask = await sse.next('confirmation_required', 10_000);
    expect(ask.data.confirmation.call.id).toBe(call.data.call.id);
    const pending = (await (await fetch(`${base}/api/agent/confirmations`)).json()) as { confirmations: { id: string }[] };
    expect(pending.confirmations.map((c: { id: string }) => c.id)).toEqual([ask.data.confirmation.id]);
    const answer = await fetch(`${base}/api/agent/confirmations/${ask.data.confirmation.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ approved: true }),
    });
    expect(answer.status).toBe(200);
    const result = await sse.next('tool_result', 10_000);
    expect(result.data).toMatchObject({ ok: true, name: 'set_volume', result: { volume: call.data.call.arguments.level } });
    expect(volume).toEqual([call.data.call.arguments.level]);
    const done = await sse.next('done', 120_000);
    expect(done.data.result).toMatchObject({ steps: 2, toolCalls: 1, mode: 'native' });
    sse.close();
    const saved = json(await app.inject({ method: 'GET', url: `/api/conversations/${done.data.result.conversationId}` }));
    expect(saved.messages.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
    expect(saved.messages[2].content).toBe(JSON.stringify({ volume: call.data.call.arguments.level }));
  }, 300_000);

  it('without streaming: a declined write is not run and the model is told', async () => {
    const before = volume.length;
    const onRequested = (r: { id: string }) => {
      void app.inject({ method: 'POST', url: `/api/agent/confirmations/${r.id}`, payload: { approved: false } });
    };
    services.confirmations.on('requested', onRequested);
    try {
      const res = await app.inject({ method: 'POST', url: '/api/agent/chat', payload: chatBody({ stream: false }) });
      expect(res.statusCode).toBe(200);
      const body = json(res);
      expect(volume).toHaveLength(before);
      const toolResult = body.events.find((e: { type: string }) => e.type === 'tool_result');
      expect(toolResult).toMatchObject({ ok: false, result: { error: { code: 'declined' } } });
      expect(body.messages.find((m: { role: string }) => m.role === 'tool').content).toContain('declined');
    } finally {
      services.confirmations.off('requested', onRequested);
    }
  }, 300_000);

  it('validates the request before streaming', async () => {
    const bad = await app.inject({ method: 'POST', url: '/api/agent/chat', payload: { message: 'x', messages: [{ role: 'user', content: 'y' }] } });
    expect(bad.statusCode).toBe(400);
    expect((await app.inject({ method: 'POST', url: '/api/agent/chat', payload: { message: 'x', conversationId: 'nope' } })).statusCode).toBe(404);
    expect(json(await app.inject({ method: 'POST', url: '/api/agent/chat', payload: { message: 'x', tools: ['nope'] } })).error.code).toBe('tool_not_found');
  });
});
