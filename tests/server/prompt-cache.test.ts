// Instant resume through the real server: a /v1 conversation continues after a backend restart from its
// saved state (cached_tokens, the same greedy reply as without the restart); cache_prompt false reuses
// nothing; deleting an app conversation removes its state; Settings' API reports, caps and clears;
// /metrics counts it.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTH, StreamClient, startServer, tempDir, type TestServer } from './helpers.js';
import { makeServices } from '../tools/helpers.js';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';

const { dir, cleanup } = tempDir('westfall-resume-');
afterAll(cleanup);

// Long enough to be worth saving (the cache keeps states of 128 tokens or more).
const budget =
  'Here is my budget for the month. Rent is 900, groceries about 320, the bus pass 49, phone 25, internet 30, ' +
  'gym 35, streaming 12, insurance 80, savings 200, and some money for gifts because December is expensive. ' +
  'My salary is 2,400 after tax. Please check whether the numbers add up and tell me what is left over. ';
const turn1 = [{ role: 'user', content: budget.repeat(2) }];

async function start(dataDir: string, mb = 64): Promise<TestServer> {
  return startServer({ settings: { WESTFALL_DATA_DIR: dataDir, WESTFALL_PROMPT_CACHE_MB: mb, WESTFALL_PARALLEL: 1, WESTFALL_MAX_TOKENS: 24 } });
}

async function chat(s: TestServer, messages: { role: string; content: string }[], extra: Record<string, unknown> = {}) {
  const res = await fetch(`${s.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { ...AUTH, 'content-type': 'application/json' },
    body: JSON.stringify({ messages, temperature: 0, max_tokens: 24, ignore_eos: true, ...extra }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    choices: { message: { content: string } }[];
    usage: { prompt_tokens: number; prompt_tokens_details: { cached_tokens: number } };
  };
}

async function savedStates(s: TestServer, atLeast: number) {
  await expect.poll(() => s.manager.promptCache!.stats().saves, { timeout: 60_000, interval: 25 }).toBeGreaterThanOrEqual(atLeast);
  await s.manager.promptCache!.flush();
}

const files = (d: string) => readdirSync(join(d, 'prompt-cache')).filter((f) => f.endsWith('.wfkv'));

describe('conversation state on disk through the server', () => {
  it('a /v1 conversation resumes after a restart from its saved state, with the same greedy reply', async () => {
    const data = join(dir, 'resume');
    let s = await start(data);
    let reply1: string;
    try {
      // Closed as soon as the reply is in: shutting down must still write the reply's state.
      reply1 = (await chat(s, turn1)).choices[0]!.message.content;
    } finally {
      await s.close();
    }
    const turn2 = [...turn1, { role: 'assistant', content: reply1 }, { role: 'user', content: 'And what if rent goes up by 50?' }];

    s = await start(data);
    let resumed;
    try {
      resumed = await chat(s, turn2);
      expect(resumed.usage.prompt_tokens_details.cached_tokens).toBeGreaterThan(150);
      expect(resumed.usage.prompt_tokens_details.cached_tokens).toBeLessThan(resumed.usage.prompt_tokens);
      const metrics = await (await fetch(`${s.url}/metrics`)).text();
      expect(metrics).toMatch(/westfall_prompt_cache_hits_total\{source="disk"\} 1/);
      expect(metrics).toMatch(/westfall_prompt_cache_disk_bytes [1-9]/);
      expect(metrics).toMatch(/westfall_prompt_cache_disk_loads 1/);
    } finally {
      await s.close();
    }

    // The same two turns without a restart (nothing saved: another folder).
    const ref = await start(join(dir, 'reference'), 0);
    try {
      const r1 = await chat(ref, turn1);
      expect(r1.choices[0]!.message.content).toBe(reply1);
      const r2 = await chat(ref, turn2);
      expect(resumed.choices[0]!.message.content).toBe(r2.choices[0]!.message.content);
    } finally {
      await ref.close();
    }
  });

  it('cache_prompt false evaluates the whole prompt and saves nothing; usage says what was cached', async () => {
    const data = join(dir, 'nocache');
    const s = await start(data);
    try {
      const a = await chat(s, turn1, { cache_prompt: false });
      expect(a.usage.prompt_tokens_details.cached_tokens).toBe(0);
      const b = await chat(s, turn1, { cache_prompt: false });
      expect(b.usage.prompt_tokens_details.cached_tokens).toBe(0);
      expect(s.manager.promptCache!.stats().saves).toBe(0);
      const c = await chat(s, turn1);
      expect(c.usage.prompt_tokens_details.cached_tokens).toBe(c.usage.prompt_tokens - 1);
    } finally {
      await s.close();
    }
  });

  it('Settings: reports the space, applies and keeps a new cap, clears everything', async () => {
    const data = join(dir, 'settings');
    let s = await start(data);
    try {
      await chat(s, turn1);
      await savedStates(s, 1);
      const info = (await (await fetch(`${s.url}/api/prompt-cache`, { headers: AUTH })).json()) as { entries: number; bytes: number; maxBytes: number };
      expect(info.entries).toBe(1);
      expect(info.bytes).toBeGreaterThan(0);
      expect(info.maxBytes).toBe(64 * 1024 * 1024);

      const bad = await fetch(`${s.url}/api/prompt-cache`, { method: 'PATCH', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ maxBytes: -1 }) });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_request');

      const capped = await fetch(`${s.url}/api/prompt-cache`, { method: 'PATCH', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ maxBytes: info.bytes - 1 }) });
      expect(capped.status).toBe(200);
      expect(((await capped.json()) as { entries: number }).entries).toBe(0);
      expect(files(data)).toHaveLength(0);
    } finally {
      await s.close();
    }
    s = await start(data);
    try {
      const info = (await (await fetch(`${s.url}/api/prompt-cache`, { headers: AUTH })).json()) as { maxBytes: number };
      expect(info.maxBytes).toBeGreaterThan(0);
      expect(info.maxBytes).toBeLessThan(64 * 1024 * 1024); // the user's cap outlived the restart
      await fetch(`${s.url}/api/prompt-cache`, { method: 'PATCH', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ maxBytes: 64 * 1024 * 1024 }) });
      await chat(s, turn1);
      await savedStates(s, 1);
      expect(files(data)).toHaveLength(1);
      const cleared = await fetch(`${s.url}/api/prompt-cache`, { method: 'DELETE', headers: AUTH });
      expect(((await cleared.json()) as { entries: number; bytes: number }).bytes).toBe(0);
      expect(files(data)).toHaveLength(0);
    } finally {
      await s.close();
    }
  });

  it('deleting a conversation removes the state saved for it', async () => {
    const data = join(dir, 'delete');
    const services = makeServices(data);
    const s = await startServer({
      settings: { WESTFALL_DATA_DIR: data, WESTFALL_PROMPT_CACHE_MB: 64, WESTFALL_PARALLEL: 1, WESTFALL_MAX_TOKENS: 24 },
      deps: { extraPlugins: createToolPlugins(services) as never },
    });
    const ws = new StreamClient(s.wsUrl);
    try {
      const created = await fetch(`${s.url}/api/conversations`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'Budget' }) });
      const { id } = (await created.json()) as { id: string };
      // An unrelated chat, saved too: it must survive.
      await chat(s, [{ role: 'user', content: `Another topic entirely. ${budget}` }]);
      await savedStates(s, 1);
      await ws.opened();
      ws.send({ type: 'chat', id: 'r1', messages: turn1, params: { temperature: 0, maxTokens: 24, ignoreEos: true }, conversationId: id });
      await ws.waitFor(() => ws.of('r1').find((m) => m.type === 'done' || m.type === 'error'), 120_000);
      expect(ws.of('r1').at(-1)!.type).toBe('done');
      await savedStates(s, 2);
      expect(s.manager.promptCache!.entries().map((e) => e.tag)).toContain(id);
      expect(files(data)).toHaveLength(2);

      const del = await fetch(`${s.url}/api/conversations/${id}`, { method: 'DELETE', headers: AUTH });
      expect(del.status).toBe(200);
      expect(s.manager.promptCache!.entries().map((e) => e.tag)).not.toContain(id);
      expect(files(data)).toHaveLength(1);
    } finally {
      ws.ws.close();
      await s.close();
      services.close();
    }
  });
});
