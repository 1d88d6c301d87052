// Conversations as trees (edit and resend, regenerate: siblings kept, the path shown is what the model
// sees), a chat's own settings, and export/import (JSON with every branch, Markdown of the path; a bad
// file is refused whole). The storage on a real SQLite file, the routes through app.inject.
import { join } from 'node:path';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationStore, MIGRATIONS, openDatabase, PRESETS, type ChatSettings } from '../../src/storage/index.js';
import type { ToolServices } from '../../src/tools/index.js';
import { makeApp, makeServices, tempDir } from './helpers.js';

let services: ToolServices;
let app: FastifyInstance;
let root: string;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir('westfall-branches-');
  cleanup = t.cleanup;
  root = t.dir;
  services = makeServices(join(root, 'data'));
  app = await makeApp(services);
});
afterAll(async () => {
  await app.close();
  services.close();
  cleanup();
});

async function call(method: InjectOptions['method'], url: string, payload?: unknown, expected = 200): Promise<any> {
  const res = await app.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}) });
  if (res.statusCode !== expected) throw new Error(`${method} ${url} → ${res.statusCode} (expected ${expected}): ${res.body}`);
  return res.headers['content-type']?.toString().startsWith('application/json') ? JSON.parse(res.body) : res.body;
}

const contents = (c: { messages: { content: string }[] }) => c.messages.map((m) => m.content);

describe('migration 8', () => {
  it('turns an existing conversation into one path and shows its last message', () => {
    const file = join(root, 'old.db');
    const before = MIGRATIONS.filter((m) => m.version < 8);
    const old = openDatabase(file, { migrations: before });
    old.prepare("INSERT INTO conversations (id, title, created_at, updated_at) VALUES ('c1', 'Old', 1, 1), ('c2', 'Empty', 1, 1)").run();
    const ins = old.prepare("INSERT INTO messages (conversation_id, seq, role, content, created_at) VALUES ('c1', ?, ?, ?, 1)");
    ins.run(1, 'user', 'q1');
    ins.run(2, 'assistant', 'a1');
    ins.run(3, 'user', 'q2');
    old.close();
    const db = openDatabase(file);
    try {
      const store = new ConversationStore(db);
      const msgs = store.allMessages('c1');
      expect(msgs.map((m) => m.parentId)).toEqual([null, msgs[0]!.id, msgs[1]!.id]);
      expect(store.get('c1').leafId).toBe(msgs[2]!.id);
      expect(store.messages('c1').map((m) => m.content)).toEqual(['q1', 'a1', 'q2']);
      expect(store.get('c2').leafId).toBeNull();
      expect(store.messages('c2')).toEqual([]);
    } finally {
      db.close();
    }
  });
});

describe('branches', () => {
  it('edit and resend, regenerate: siblings are kept, the branch shown is the one sent, switching follows to the newest', async () => {
    const c = await call('POST', '/api/conversations', { title: 'Trip', messages: [{ role: 'user', content: 'Plan Lisbon' }] }, 201);
    const q1 = c.messages[0];
    expect(q1.parentId).toBeNull();
    expect(q1.siblings).toEqual([q1.id]);
    const [a1] = (await call('POST', `/api/conversations/${c.id}/messages`, { messages: [{ role: 'assistant', content: 'Day 1: Alfama' }] }, 201)).messages;
    expect(a1.parentId).toBe(q1.id);

    // Regenerate: a second reply under the same question.
    const [a2] = (await call('POST', `/api/conversations/${c.id}/messages`, { parentId: q1.id, messages: [{ role: 'assistant', content: 'Day 1: Belém', meta: { params: { temperature: 0.2, seed: 7 } } }] }, 201)).messages;
    let shown = await call('GET', `/api/conversations/${c.id}`);
    expect(contents(shown)).toEqual(['Plan Lisbon', 'Day 1: Belém']);
    expect(shown.messages[1].siblings).toEqual([a1.id, a2.id]);
    expect(shown.messages[1].meta).toEqual({ params: { temperature: 0.2, seed: 7 } });
    expect(shown.messageCount).toBe(3);

    // Follow-up on the second reply, then edit the first question (a new first message).
    await call('POST', `/api/conversations/${c.id}/messages`, { messages: [{ role: 'user', content: 'And day 2?' }] }, 201);
    const [q1b] = (await call('POST', `/api/conversations/${c.id}/messages`, { parentId: null, messages: [{ role: 'user', content: 'Plan Porto' }] }, 201)).messages;
    shown = await call('GET', `/api/conversations/${c.id}`);
    expect(contents(shown)).toEqual(['Plan Porto']);
    expect(shown.messages[0].siblings).toEqual([q1.id, q1b.id]);
    // What the model is sent (and what the agent loads) is the path shown.
    expect(services.conversations.messages(c.id).map((m) => m.content)).toEqual(['Plan Porto']);

    // Back to the first question: the path follows to its newest message (the follow-up of the second reply).
    shown = await call('PUT', `/api/conversations/${c.id}/branch`, { messageId: q1.id });
    expect(contents(shown)).toEqual(['Plan Lisbon', 'Day 1: Belém', 'And day 2?']);
    // The first reply, exactly.
    shown = await call('PUT', `/api/conversations/${c.id}/branch`, { messageId: a1.id });
    expect(contents(shown)).toEqual(['Plan Lisbon', 'Day 1: Alfama']);
    // Without following: the path ends at the question (the next reply goes under it).
    shown = await call('PUT', `/api/conversations/${c.id}/branch`, { messageId: q1.id, follow: false });
    expect(contents(shown)).toEqual(['Plan Lisbon']);
    expect(shown.leafId).toBe(q1.id);
  });

  it('refuses a parent or branch from another conversation, and an unknown one', async () => {
    const a = await call('POST', '/api/conversations', { title: 'A', messages: [{ role: 'user', content: 'a' }] }, 201);
    const b = await call('POST', '/api/conversations', { title: 'B', messages: [{ role: 'user', content: 'b' }] }, 201);
    const err = await call('POST', `/api/conversations/${a.id}/messages`, { parentId: b.messages[0].id, messages: [{ role: 'assistant', content: 'x' }] }, 404);
    expect(err.error.code).toBe('not_found');
    expect((await call('PUT', `/api/conversations/${a.id}/branch`, { messageId: 999_999 }, 404)).error.code).toBe('not_found');
    expect((await call('PUT', `/api/conversations/${a.id}/branch`, { messageId: 'x' }, 400)).error.code).toBe('invalid_request');
    expect(contents(await call('GET', `/api/conversations/${a.id}`))).toEqual(['a']);
  });
});

describe('settings', () => {
  it('a chat keeps its own system prompt and sampling; bad values are refused', async () => {
    const c = await call('POST', '/api/conversations', { title: 'Poems' }, 201);
    expect(c.settings).toBeNull();
    const settings: ChatSettings = { preset: 'custom', systemPrompt: 'Answer in verse.', sampling: { ...PRESETS.creative.sampling, seed: 42, contextTokens: 512 } };
    expect((await call('PUT', `/api/conversations/${c.id}/settings`, { settings })).settings).toEqual(settings);
    expect((await call('GET', `/api/conversations/${c.id}`)).settings).toEqual(settings);
    const bad = await call('PUT', `/api/conversations/${c.id}/settings`, { settings: { ...settings, sampling: { ...settings.sampling, temperature: 99 } } }, 400);
    expect(bad.error.message).toContain('sampling.temperature');
    expect((await call('GET', `/api/conversations/${c.id}`)).settings).toEqual(settings);
    expect((await call('PUT', `/api/conversations/${c.id}/settings`, { settings: null })).settings).toBeNull();
  });
});

describe('export and import', () => {
  it('JSON has every branch and imports as the same tree; Markdown is the path shown', async () => {
    const c = await call('POST', '/api/conversations', { title: 'Garden: tomatoes', messages: [{ role: 'user', content: 'When to plant?' }] }, 201);
    const q = c.messages[0];
    await call('POST', `/api/conversations/${c.id}/messages`, { messages: [{ role: 'assistant', content: 'In **May**.', reasoning: 'Frost ends in April.' }] }, 201);
    await call('POST', `/api/conversations/${c.id}/messages`, { parentId: q.id, messages: [{ role: 'assistant', content: 'After the last frost.' }] }, 201);
    await call('PUT', `/api/conversations/${c.id}/settings`, { settings: { preset: 'precise', systemPrompt: 'Be brief.', sampling: PRESETS.precise.sampling } });

    const res = await app.inject({ method: 'GET', url: `/api/conversations/${c.id}/export?format=json` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toBe('attachment; filename="Garden-tomatoes.json"');
    const file = JSON.parse(res.body);
    expect(file.format).toBe('westfall.conversation');
    expect(file.conversation.messages).toHaveLength(3);

    const md = await app.inject({ method: 'GET', url: `/api/conversations/${c.id}/export?format=markdown` });
    expect(md.headers['content-type']).toContain('text/markdown');
    expect(md.headers['content-disposition']).toBe('attachment; filename="Garden-tomatoes.md"');
    expect(md.body).toContain('# Garden: tomatoes');
    expect(md.body).toContain('## You\n\nWhen to plant?');
    expect(md.body).toContain('After the last frost.');
    expect(md.body).not.toContain('In **May**.'); // another branch
    expect(md.body).toContain('1 message on other branches');
    expect(md.body).toContain('Be brief.');

    const imported = await call('POST', '/api/conversations/import', file, 201);
    expect(imported.id).not.toBe(c.id);
    expect(imported.title).toBe('Garden: tomatoes');
    expect(contents(imported)).toEqual(['When to plant?', 'After the last frost.']);
    expect(imported.messages[1].siblings).toHaveLength(2);
    expect(imported.settings.systemPrompt).toBe('Be brief.');
    const again = JSON.parse((await app.inject({ method: 'GET', url: `/api/conversations/${imported.id}/export` })).body);
    const shape = (f: any) => f.conversation.messages.map((m: any) => [m.role, m.content, m.reasoning ?? null, f.conversation.messages.findIndex((p: any) => p.id === m.parentId)]);
    expect(shape(again)).toEqual(shape(file));
  });

  it('a bad file is refused with a clear error and changes nothing', async () => {
    const before = (await call('GET', '/api/conversations?limit=1000')).total;
    const good = {
      format: 'westfall.conversation',
      version: 1,
      conversation: { title: 'X', settings: null, leafId: 2, messages: [{ id: 1, parentId: null, role: 'user', content: 'hi' }, { id: 2, parentId: 1, role: 'assistant', content: 'hello' }] },
    };
    const cases: [unknown, string][] = [
      [{ hello: 'world' }, 'this file is not a Westfall conversation export'],
      [{ ...good, format: 'other' }, 'this file is not a Westfall conversation export'],
      [{ ...good, version: 2 }, 'only version 1'],
      [{ ...good, conversation: { ...good.conversation, messages: [good.conversation.messages[1], good.conversation.messages[0]] } }, 'parent 1 is not an earlier message'],
      [{ ...good, conversation: { ...good.conversation, leafId: 9 } }, 'leafId 9 is not a message'],
      [{ ...good, conversation: { ...good.conversation, messages: [{ id: 1, parentId: null, role: 'robot', content: 'x' }] } }, 'conversation.messages.0.role'],
      [{ ...good, conversation: { ...good.conversation, messages: [...good.conversation.messages, { id: 2, parentId: 1, role: 'user', content: 'again' }] } }, 'message id 2 appears twice'],
    ];
    for (const [body, message] of cases) {
      const err = await call('POST', '/api/conversations/import', body, 400);
      expect(err.error.code).toBe('invalid_request');
      expect(err.error.message).toContain(message);
    }
    const notJson = await app.inject({ method: 'POST', url: '/api/conversations/import', payload: '{"format": ', headers: { 'content-type': 'application/json' } });
    expect(notJson.statusCode).toBe(400);
    expect((await call('GET', '/api/conversations?limit=1000')).total).toBe(before);
    expect(contents(await call('POST', '/api/conversations/import', good, 201))).toEqual(['hi', 'hello']);
  });
});
