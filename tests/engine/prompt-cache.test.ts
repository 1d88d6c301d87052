// Conversation states on disk (src/engine/prompt-cache.ts) with the real addon and a real model file:
// saved after a reply, loaded by a new context (as after a restart) so that only the new tokens are
// evaluated, with the same greedy text as an uninterrupted run; bad files ignored and removed.
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, PromptCache, type Model } from '../../src/index.js';
import { TINY_MODEL } from '../helpers/models.js';

const greedy = { maxTokens: 16, ignoreEos: true, temperature: 0 } as const;
const first = 'The budget for December: rent 900, food 300, travel 150, and a little for presents. ';
let model: Model;
let other: Model;
const root = mkdtempSync(path.join(tmpdir(), 'westfall-pcache-'));

beforeAll(async () => {
  model = await loadModel({ path: TINY_MODEL });
  // The same weights under another file identity: its states must never be loaded into the first.
  const copy = path.join(root, 'other.gguf');
  copyFileSync(TINY_MODEL, copy);
  other = await loadModel({ path: copy });
});
afterAll(() => {
  model?.dispose();
  other?.dispose();
});

const files = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.wfkv'));

async function openCache(dir: string, maxBytes = 1 << 30) {
  const cache = new PromptCache({ dir, maxBytes, minTokens: 8 });
  await cache.open();
  return cache;
}

/** Turn 1 in one context, then turn 2 in a fresh one (a restart), with the cache in `dir`. */
async function twoTurns(dir: string, m: Model = model) {
  const c1 = await m.createContext({ contextSize: 512, threads: 2 });
  const cache1 = await openCache(dir);
  c1.attachPromptCache(cache1);
  const r1 = await c1.generate(first, greedy).result;
  // What a shutdown does before disposing: the state of the reply that just ended is on disk after it.
  await c1.flushPromptCache();
  expect(cache1.stats().saves).toBe(1);
  c1.dispose();
  const second = first + r1.text + ' And what is left for savings?';
  const c2 = await m.createContext({ contextSize: 512, threads: 2 });
  const cache2 = await openCache(dir);
  c2.attachPromptCache(cache2);
  try {
    const r2 = await c2.generate(second, greedy).result;
    return { r1, r2, second, cache: cache2 };
  } finally {
    c2.dispose();
  }
}

async function waitForSave(cache: PromptCache) {
  // The save is queued when the reply ends; flush() waits for it once it is queued.
  await expect.poll(() => cache.stats().saves, { timeout: 60_000, interval: 20 }).toBeGreaterThan(0);
  await cache.flush();
}

describe('prompt cache on disk', () => {
  it('after a restart, loads the saved state, evaluates only the new tokens, and answers the same', async () => {
    const dir = path.join(root, 'resume');
    const { r2, second, cache } = await twoTurns(dir);
    expect(r2.usage.restoredPromptTokens).toBeGreaterThan(20);
    expect(r2.usage.evaluatedPromptTokens).toBeLessThan(r2.usage.promptTokens - 20);
    expect(cache.stats().hits).toBe(1);

    // Reference: the same two turns without a restart.
    const ref = await model.createContext({ contextSize: 512, threads: 2 });
    try {
      await ref.generate(first, greedy).result;
      const uninterrupted = await ref.generate(second, greedy).result;
      expect(r2.text).toBe(uninterrupted.text);
    } finally {
      ref.dispose();
    }
  });

  it('cache_prompt false reuses nothing and saves nothing', async () => {
    const dir = path.join(root, 'nocache');
    const cache = await openCache(dir);
    const c = await model.createContext({ contextSize: 512, threads: 2 });
    c.attachPromptCache(cache);
    try {
      await c.generate(first, { ...greedy, cachePrompt: false }).result;
      const again = await c.generate(first + ' more', { ...greedy, cachePrompt: false }).result;
      expect(again.usage.reusedPromptTokens).toBe(0);
      expect(again.usage.evaluatedPromptTokens).toBe(again.usage.promptTokens);
      await cache.flush();
      expect(cache.stats().saves).toBe(0);
      // What it evaluated stays in the sequence for a later request that does allow reuse.
      const cached = await c.generate(first + ' more', greedy).result;
      expect(cached.usage.reusedPromptTokens).toBe(cached.usage.promptTokens - 1);
    } finally {
      c.dispose();
    }
  });

  it('ignores and removes a corrupted state file, and still answers correctly', async () => {
    const dir = path.join(root, 'corrupt');
    const c1 = await model.createContext({ contextSize: 512, threads: 2 });
    const cache1 = await openCache(dir);
    c1.attachPromptCache(cache1);
    const r1 = await c1.generate(first, greedy).result;
    await waitForSave(cache1);
    c1.dispose();
    const [name] = files(dir);
    const file = path.join(dir, name!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 100]! ^= 0xff; // inside the KV data: only the checksum can tell
    writeFileSync(file, bytes);

    const c2 = await model.createContext({ contextSize: 512, threads: 2 });
    const cache2 = await openCache(dir);
    c2.attachPromptCache(cache2);
    try {
      const r2 = await c2.generate(first + r1.text + ' next', greedy).result;
      expect(r2.usage.restoredPromptTokens).toBe(0);
      expect(r2.usage.evaluatedPromptTokens).toBe(r2.usage.promptTokens);
      expect(cache2.stats().removedBad).toBe(1);
      expect(readdirSync(dir)).not.toContain(name);
    } finally {
      c2.dispose();
    }
  });

  it('removes a truncated file and a stray temporary file when it opens', async () => {
    const dir = path.join(root, 'truncated');
    await twoTurns(dir);
    const [name] = files(dir);
    const file = path.join(dir, name!);
    writeFileSync(file, readFileSync(file).subarray(0, 1000));
    writeFileSync(path.join(dir, 'half-written.wfkv.tmp'), 'x');
    const cache = await openCache(dir);
    expect(cache.stats().entries).toBe(files(dir).length);
    expect(readdirSync(dir)).not.toContain(name);
    expect(readdirSync(dir)).not.toContain('half-written.wfkv.tmp');
  });

  it('never loads a state saved for another model file', async () => {
    const dir = path.join(root, 'scoped');
    const c1 = await other.createContext({ contextSize: 512, threads: 2 });
    const cache1 = await openCache(dir);
    c1.attachPromptCache(cache1);
    const r1 = await c1.generate(first, greedy).result;
    await waitForSave(cache1);
    c1.dispose();

    const c2 = await model.createContext({ contextSize: 512, threads: 2 });
    const cache2 = await openCache(dir);
    c2.attachPromptCache(cache2);
    try {
      const r2 = await c2.generate(first + r1.text + ' next', greedy).result;
      expect(r2.usage.restoredPromptTokens).toBe(0);
    } finally {
      c2.dispose();
    }
  });

  it('keeps all files under the cap, least recently used first; a conversation removes its own', async () => {
    const dir = path.join(root, 'cap');
    const cache = await openCache(dir);
    const c = await model.createContext({ contextSize: 512, threads: 2, sequences: 1 });
    c.attachPromptCache(cache);
    try {
      const topics = ['Gardening plans for spring', 'A recipe for lentil soup', 'Notes on the history of Rome'];
      for (const [i, t] of topics.entries()) {
        await c.generate(`${t}: ${first}`, { ...greedy, cacheTag: `conv-${i}` }).result;
        await expect.poll(() => cache.stats().saves, { timeout: 60_000, interval: 20 }).toBe(i + 1);
        await cache.flush();
      }
      const sizes = cache.entries().map((e) => e.bytes);
      expect(sizes).toHaveLength(3);
      const oldest = cache.entries().find((e) => e.tag === 'conv-0')!;
      await cache.setMaxBytes(sizes.reduce((a, b) => a + b) - 1);
      expect(cache.entries().map((e) => e.tag).sort()).toEqual(['conv-1', 'conv-2']);
      expect(readdirSync(dir)).not.toContain(path.basename(oldest.file));

      expect(await cache.removeTag('conv-2')).toBe(1);
      expect(cache.entries().map((e) => e.tag)).toEqual(['conv-1']);
      await cache.clear();
      expect(files(dir)).toHaveLength(0);
    } finally {
      c.dispose();
    }
  });

  it('a later turn supersedes the earlier state of the same conversation', async () => {
    const dir = path.join(root, 'supersede');
    const cache = await openCache(dir);
    const c = await model.createContext({ contextSize: 512, threads: 2 });
    c.attachPromptCache(cache);
    try {
      const r1 = await c.generate(first, greedy).result;
      await waitForSave(cache);
      await c.generate(first + r1.text + ' Then?', greedy).result;
      await expect.poll(() => cache.stats().saves, { timeout: 60_000, interval: 20 }).toBe(2);
      await cache.flush();
      expect(files(dir)).toHaveLength(1);
    } finally {
      c.dispose();
    }
  });
});

describe('when states are written', () => {
  it('after a quiet moment, or at once when another conversation takes the sequence', async () => {
    const dir = path.join(root, 'timing');
    const cache = await openCache(dir);
    const c = await model.createContext({ contextSize: 512, threads: 2, sequences: 1 });
    // Never by the timer in this test: a save can only come from the sequence being taken over.
    c.attachPromptCache(cache, { saveDelayMs: 600_000 });
    try {
      const a = await c.generate(first, { ...greedy, cacheTag: 'a' }).result;
      // The next turn of the same conversation does not write the previous one.
      await c.generate(first + a.text + ' More.', { ...greedy, cacheTag: 'a' }).result;
      expect(cache.stats().saves).toBe(0);
      await c.generate('Something else entirely: a recipe for bread with seeds and honey.', { ...greedy, cacheTag: 'b' }).result;
      await expect.poll(() => cache.stats().saves).toBe(1);
      await cache.flush();
      expect(cache.entries().map((e) => e.tag)).toEqual(['a']);
      await c.flushPromptCache(); // what shutdown does: b's state too
      expect(cache.entries().map((e) => e.tag).sort()).toEqual(['a', 'b']);
    } finally {
      c.dispose();
    }
  });
});

describe('shared prefix across sequences', () => {
  it('a new chat copies the common prefix from another sequence instead of evaluating it', async () => {
    const c = await model.createContext({ contextSize: 1024, threads: 2, sequences: 2 });
    try {
      const system = 'You are a careful assistant. Tools: budget(month), timer(project). Answer briefly. '.repeat(3);
      const a = await c.generate(`${system}User: plan my week`, greedy).result;
      expect(a.usage.copiedPromptTokens).toBe(0);
      const b = await c.generate(`${system}User: what did I spend on food`, greedy).result;
      expect(b.usage.copiedPromptTokens).toBeGreaterThan(40);
      expect(b.usage.evaluatedPromptTokens).toBeLessThan(20);
      // Both conversations keep their own cache: the first one continues without evaluating its history.
      const a2 = await c.generate(`${system}User: plan my week${a.text} and next week`, greedy).result;
      expect(a2.usage.evaluatedPromptTokens).toBeLessThan(20);
    } finally {
      c.dispose();
    }
  });
});

describe('the read buffer kept between loads', () => {
  // States of a few MiB (a real one of 3,000 tokens is ~36 MB): reading into a buffer the process already
  // holds avoids a fresh one's page faults, and two loads at once must never share it.
  it('is reused after release, never shared by two loads at once, and each load reads its own bytes', async () => {
    const dir = mkdtempSync(path.join(root, 'spare-'));
    const cache = await openCache(dir);
    const state = (seed: number) => {
      const data = Buffer.alloc(3 << 20);
      for (let i = 0; i < data.length; i += 4096) data[i] = (seed + i / 4096) & 0xff;
      return data;
    };
    const tokens = (first: number) => Int32Array.from({ length: 16 }, (_, i) => first + i);
    await cache.save('scope', tokens(100), state(1), 'a');
    await cache.save('scope', tokens(200), state(2), 'b');
    const entry = (first: number) => cache.best('scope', tokens(first))!.entry;

    cache.warm(cache.largestBytes('scope'));
    const [a, b] = await Promise.all([cache.load(entry(100)), cache.load(entry(200))]);
    expect(a!.data.equals(state(1))).toBe(true);
    expect(b!.data.equals(state(2))).toBe(true);
    expect(a!.data.buffer).not.toBe(b!.data.buffer);

    a!.release();
    const again = await cache.load(entry(200));
    expect(again!.data.buffer).toBe(a!.data.buffer); // the released buffer, read into again
    expect(again!.data.equals(state(2))).toBe(true);
  });
});
