// WebSocket protocol framing: what the server does per message. Parse = JSON.parse + zod validation of a
// client message; serialize = JSON.stringify of the server's token and done messages (+ validation, as the
// tests and the renderer do). Uses the protocol schemas of src/server/schemas.ts when present.
import { z } from 'zod';
import type { MicroSuite } from './common.js';

interface Schemas {
  source: string;
  client: z.ZodType;
  server: z.ZodType;
}

async function schemas(): Promise<Schemas> {
  try {
    const m = (await import('../../src/server/schemas.js')) as Record<string, unknown>;
    if (m.wsClientMessageSchema && m.wsServerMessageSchema) {
      return { source: 'src/server/schemas.ts', client: m.wsClientMessageSchema as z.ZodType, server: m.wsServerMessageSchema as z.ZodType };
    }
  } catch {
    // the server's schemas are not part of this build: use the local copy below
  }
  const id = z.string().min(1).max(128);
  const message = z.object({ role: z.enum(['system', 'user', 'assistant', 'tool']), content: z.string() }).strict();
  const client = z.discriminatedUnion('type', [
    z.object({ type: z.literal('chat'), id, messages: z.array(message).min(1), params: z.record(z.string(), z.unknown()).optional() }).strict(),
    z.object({ type: z.literal('cancel'), id }).strict(),
  ]);
  const server = z.discriminatedUnion('type', [
    z.object({ type: z.literal('token'), id, text: z.string() }),
    z.object({ type: z.literal('done'), id, usage: z.record(z.string(), z.number()), timings: z.record(z.string(), z.number()), stopReason: z.string() }),
    z.object({ type: z.literal('error'), id: id.optional(), error: z.object({ code: z.string(), message: z.string() }) }),
  ]);
  return { source: 'local schema', client, server };
}

export const suite: MicroSuite = {
  name: 'websocket framing',
  async setup() {
    const s = await schemas();
    const chat = JSON.stringify({
      type: 'chat',
      id: 'req-1',
      messages: [
        { role: 'system', content: 'You are concise.' },
        { role: 'user', content: 'What is the capital of France? Answer in one word.' },
      ],
      params: { temperature: 0.7, maxTokens: 256, stop: ['\n\n'] },
    });
    const cancel = JSON.stringify({ type: 'cancel', id: 'req-1' });
    const token = { type: 'token', id: 'req-1', text: ' Paris' };
    const done = {
      type: 'done',
      id: 'req-1',
      usage: { promptTokens: 30, reusedPromptTokens: 0, evaluatedPromptTokens: 30, completionTokens: 2, totalTokens: 32 },
      timings: { queueMs: 0, promptMs: 40.5, generationMs: 20.1, timeToFirstTokenMs: 41, promptTokensPerSecond: 740.7, generationTokensPerSecond: 49.8 },
      stopReason: 'eos',
    };
    return {
      tasks: [
        { name: `parse + validate chat request (${s.source})`, fn: () => s.client.parse(JSON.parse(chat)) },
        { name: 'parse + validate cancel', fn: () => s.client.parse(JSON.parse(cancel)) },
        { name: 'serialize token message', fn: () => JSON.stringify(token) },
        { name: 'validate + serialize token message', fn: () => JSON.stringify(s.server.parse(token)) },
        { name: 'validate + serialize done message', fn: () => JSON.stringify(s.server.parse(done)) },
      ],
    };
  },
};
