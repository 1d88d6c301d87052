// The small parts of remote providers: URL rules, the model filter, Retry-After, the sealed key (bound to
// its provider: a sealed key copied to another row does not open), the store's rules, SSE event data and
// the wire-to-delta mapping the router engine uses.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import { incompleteUtf8Tail } from '../../src/providers/client.js';
import { KEY_FILE, ProviderStore, SecretBox, chatJobToRequest, eventData, isTokenEvent, matchesFilter, normalizeBaseUrl, wireToDeltas } from '../../src/providers/index.js';
import { parseRetryAfter, scrub } from '../../src/providers/upstream-errors.js';
import { openDatabase } from '../../src/storage/index.js';

const dir = mkdtempSync(join(tmpdir(), 'westfall-provider-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return isWestfallError(err) ? err.code : String(err);
  }
  return null;
};

describe('provider URLs', () => {
  it('keeps http(s) only, adds /v1 to a bare origin, refuses credentials, queries and fragments', () => {
    expect(normalizeBaseUrl('http://gpu-box:8080')).toBe('http://gpu-box:8080/v1');
    expect(normalizeBaseUrl(' https://api.example.com/v1/ ')).toBe('https://api.example.com/v1');
    expect(normalizeBaseUrl('http://127.0.0.1:11434/v1')).toBe('http://127.0.0.1:11434/v1');
    for (const bad of ['ftp://x/v1', 'file:///etc/passwd', 'javascript:alert(1)', 'http://u:p@x/v1', 'http://x/v1?key=1', 'http://x/v1#a', 'not a url']) {
      expect(code(() => normalizeBaseUrl(bad))).toBe('provider_invalid_url');
    }
  });

  it('filters models with shell patterns, case-insensitive; no patterns: all', () => {
    expect(matchesFilter('qwen3:8b', [])).toBe(true);
    expect(matchesFilter('qwen3:8b', ['qwen3*'])).toBe(true);
    expect(matchesFilter('Qwen/Qwen3-8B', ['qwen/*'])).toBe(true);
    expect(matchesFilter('llama3.1:8b', ['qwen3*', '*-instruct'])).toBe(false);
    expect(matchesFilter('a.b', ['a?b'])).toBe(false);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('7')).toBe(7);
    expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThanOrEqual(28);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(null)).toBeNull();
  });

  it('scrubs the key from upstream text and cuts it short', () => {
    expect(scrub('bad key sk-abcdef123', 'sk-abcdef123')).toBe('bad key [redacted]');
    expect(scrub('x'.repeat(1000), null).length).toBeLessThan(310);
  });
});

describe('sealed keys and the store', () => {
  it('creates the key file 0600 once and reuses it; a sealed key opens only for its provider', () => {
    const box = SecretBox.open(join(dir, 'state'));
    expect(statSync(join(dir, 'state', KEY_FILE)).mode & 0o777).toBe(0o600);
    const again = SecretBox.open(join(dir, 'state'));
    const sealed = box.seal('prv_a', 'sk-secret');
    expect(again.open('prv_a', sealed)).toBe('sk-secret');
    expect(code(() => again.open('prv_b', sealed))).toBe('vault_tampered');
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    expect(code(() => again.open('prv_a', flipped))).toBe('vault_tampered');
  });

  it('names are unique, fallbacks must exist and not be the provider itself, removal clears fallbacks to it', () => {
    const db = openDatabase(join(dir, 'w.db'));
    const store = new ProviderStore(db, SecretBox.open(join(dir, 'state')));
    const a = store.create({ name: 'a', baseUrl: 'http://127.0.0.1:1', apiKey: 'k1' });
    expect(code(() => store.create({ name: 'a', baseUrl: 'http://127.0.0.1:2' }))).toBe('conflict');
    // A key that would break (or inject into) the Authorization header is refused at the boundary.
    expect(() => store.create({ name: 'c', baseUrl: 'http://127.0.0.1:3', apiKey: 'k\r\nx-evil: 1' })).toThrow(/printable ASCII/);
    expect(code(() => store.create({ name: 'b', baseUrl: 'http://127.0.0.1:2', fallback: 'prv_0000' }))).toBe('provider_not_found');
    const b = store.create({ name: 'b', baseUrl: 'http://127.0.0.1:2', fallback: a.id });
    expect(code(() => store.update(a.id, { fallback: a.id }))).toBe('invalid_request');
    expect(store.apiKey(a.id)).toBe('k1');
    expect(store.update(a.id, { apiKey: null }).hasApiKey).toBe(false);
    expect(store.apiKey(a.id)).toBeNull();
    store.remove(a.id);
    expect(store.get(b.id).fallback).toBeNull();
    expect(code(() => store.get(a.id))).toBe('provider_not_found');
    db.close();
  });
});

describe('the wire', () => {
  it('reads SSE data, and tells a token event from a role-only one', () => {
    expect(eventData('data: {"a":1}')).toBe('{"a":1}');
    expect(eventData('data: [DONE]')).toBeNull();
    expect(eventData(': keep-alive')).toBeNull();
    expect(isTokenEvent('{"choices":[{"delta":{"role":"assistant","content":""}}]}')).toBe(false);
    expect(isTokenEvent('{"choices":[{"delta":{"content":"Hi"}}]}')).toBe(true);
    expect(isTokenEvent('{"choices":[{"delta":{"reasoning_content":"hm"}}]}')).toBe(true);
    expect(isTokenEvent('{"choices":[{"delta":{"tool_calls":[{"index":0}]}}]}')).toBe(true);
    expect(isTokenEvent('{"choices":[{"delta":{},"finish_reason":"stop"}]}')).toBe(true);
  });

  it('finds a UTF-8 character split at the end of a chunk (held back when a stream switches to pass-through)', () => {
    const euro = Buffer.from('a€'); // € is 3 bytes
    expect(incompleteUtf8Tail(euro)).toBe(0);
    expect(incompleteUtf8Tail(euro.subarray(0, 2))).toBe(1);
    expect(incompleteUtf8Tail(euro.subarray(0, 3))).toBe(2);
    expect(incompleteUtf8Tail(Buffer.from('plain'))).toBe(0);
    expect(incompleteUtf8Tail(Buffer.from('😀').subarray(0, 3))).toBe(3);
  });

  it('maps deltas (reasoning_content or vLLM reasoning, content, tool call pieces) and ChatJobs to requests', () => {
    expect(wireToDeltas({ choices: [{ delta: { reasoning: 'think', content: 'x', tool_calls: [{ index: 1, id: 'call_1', function: { name: 'add', arguments: '{"a"' } }] } }] })).toEqual([
      { type: 'reasoning', text: 'think' },
      { type: 'content', text: 'x' },
      { type: 'tool_call', index: 1, id: 'call_1', name: 'add', arguments: '{"a"' },
    ]);
    const body = chatJobToRequest(
      {
        messages: [
          { role: 'user', content: 'add' },
          { role: 'assistant', content: '', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'add', arguments: { a: 1 } } }] },
          { role: 'tool', content: '2', tool_call_id: 'c1', name: 'add' },
        ],
        params: { maxTokens: 9, temperature: 0.1 },
        format: { tools: [{ type: 'function', function: { name: 'add' } }], toolChoice: 'auto', enableThinking: false },
      },
      'm',
    );
    expect(body).toMatchObject({ model: 'm', stream: true, max_tokens: 9, temperature: 0.1, tool_choice: 'auto', chat_template_kwargs: { enable_thinking: false } });
    expect((body.messages as { tool_calls?: { function: { arguments: string } }[]; content: unknown }[])[1]).toMatchObject({ content: null, tool_calls: [{ function: { arguments: '{"a":1}' } }] });
    expect((body.messages as { tool_call_id?: string }[])[2]!.tool_call_id).toBe('c1');
  });
});
