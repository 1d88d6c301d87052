// Fuzzing of every HTTP and WebSocket route the service registers (read from Fastify's onRoute in the
// fuzz server, scripts/fuzz-harness.ts): bad bodies (wrong types, huge strings, deep nesting, invalid
// JSON, wrong or missing content type, empty), bad path parameters and queries (odd characters, '../',
// very long), bad headers (missing or wrong token, foreign Host or Origin) and, on WebSocket routes, bad
// messages (invalid JSON, wrong types, binary, huge and oversized frames). Most cases carry the valid
// token and start from a valid body, so that they reach the handlers; bodies that reach generation get a
// small max_tokens.
//
//   npx tsx scripts/fuzz-routes.ts [--cases 2000] [--seed 1] [--case N] [--limit 60] [--verbose] [--json FILE]
//
// The property (checkHttpAnswer, checkWsAnswer): no 5xx but the documented ones, every error in the
// error shape with a string code, every request answered within --limit seconds, the process alive and
// /health answering after each batch; a route that needs the token never answers 2xx without it.
import { writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { wsClientMessageSchema } from '../src/server/schemas.js';
import {
  FUZZ_TOKEN,
  FuzzServer,
  Random,
  caseRng,
  checkHttpAnswer,
  checkWsAnswer,
  clip,
  runWs,
  sendHttp,
  type HttpRequestSpec,
  type RouteInfo,
  type WsMessageSpec,
  type WsSpec,
} from './fuzz-harness.js';

// ---------------------------------------------------------------------------------------------------
// Valid starting points: bodies and queries that pass validation, per route ("METHOD url")

const MSG = [{ role: 'user', content: 'Hi' }];
const BODY_SEEDS: Record<string, unknown[]> = {
  'POST /api/llm/chat': [
    { messages: MSG, params: { maxTokens: 4, temperature: 0.7, seed: 1 } },
    { messages: [{ role: 'system', content: 'Be brief.' }, ...MSG], params: { maxTokens: 4, stop: ['\n'] }, thinking: { enabled: false } },
    { messages: MSG, params: { maxTokens: 4 }, tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'string' } } } } }] },
    { messages: MSG, params: { maxTokens: 4 }, contextOverflow: 'drop_oldest', contextTokens: 128 },
  ],
  'POST /v1/chat/completions': [
    { model: 'tiny', messages: MSG, max_tokens: 4 },
    { model: 'tiny', messages: MSG, max_tokens: 4, stream: true, stream_options: { include_usage: true } },
    {
      model: 'tiny',
      messages: MSG,
      max_tokens: 4,
      tools: [{ type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: { tz: { type: 'string' } } } } }],
      tool_choice: 'auto',
    },
    { model: 'tiny', messages: MSG, max_tokens: 4, response_format: { type: 'json_object' } },
  ],
  'POST /v1/completions': [{ model: 'tiny', prompt: 'Hello', max_tokens: 4 }, { prompt: ['Hello'], max_tokens: 4, stream: true, echo: true }],
  'POST /v1/embeddings': [{ input: 'hello' }, { input: ['a', 'b'], encoding_format: 'base64' }],
  'POST /api/agent/chat': [
    { message: 'hi', maxSteps: 1, params: { maxTokens: 4 }, stream: false },
    { messages: [{ role: 'user', content: 'hi' }], tools: ['time_timer_status'], maxSteps: 1, params: { maxTokens: 4 } },
  ],
  'POST /api/tools/:name/invoke': [{ arguments: {} }, { arguments: { query: 'x' } }],
  'POST /api/agent/confirmations/:id': [{ approved: true }],
  'POST /api/conversations': [{ title: 'x', messages: [{ role: 'user', content: 'hi' }] }, {}],
  'PATCH /api/conversations/:id': [{ title: 'y' }],
  'POST /api/conversations/:id/messages': [
    { messages: [{ role: 'assistant', content: 'ok', toolCalls: [{ id: 'c1', name: 'f', arguments: { a: 1 } }] }] },
    { parentId: null, messages: [{ role: 'user', content: 'again' }] },
    { parentId: 1, messages: [{ role: 'assistant', content: 'ok', meta: { params: { temperature: 0.2, seed: 1 }, completionTokens: 3 } }] },
  ],
  'PUT /api/conversations/:id/branch': [{ messageId: 1 }, { messageId: null, follow: false }],
  'PUT /api/conversations/:id/settings': [
    { settings: { preset: 'precise', systemPrompt: 'Be brief.', sampling: { temperature: 0.2, topP: 0.9, topK: 20, minP: 0.05, repeatPenalty: 1.1, maxTokens: 64, seed: 7, contextTokens: null } } },
    { settings: null },
  ],
  'POST /api/conversations/import': [
    {
      format: 'westfall.conversation',
      version: 1,
      conversation: { title: 'x', settings: null, leafId: 2, messages: [{ id: 1, parentId: null, role: 'user', content: 'hi' }, { id: 2, parentId: 1, role: 'assistant', content: 'yo' }] },
    },
  ],
  'POST /api/llm/tokens': [{ messages: MSG, maxTokens: 8 }, { messages: MSG, thinking: { enabled: false }, contextTokens: 128 }],
  'POST /api/finance/accounts': [{ name: 'Main', currency: 'EUR', openingBalance: 100 }],
  'PATCH /api/finance/accounts/:id': [{ name: 'Other', archived: false }],
  'POST /api/finance/categories': [{ name: 'Food', kind: 'expense' }],
  'PATCH /api/finance/categories/:id': [{ name: 'Groceries' }],
  'POST /api/finance/transactions': [{ accountId: 1, date: '2024-01-05', amount: -1250, categoryId: 1, payee: 'Shop', note: 'n' }],
  'PATCH /api/finance/transactions/:id': [{ amount: 10, categoryId: null }],
  'PUT /api/finance/budgets': [{ categoryId: 1, month: '2024-01', amount: 50000 }],
  'POST /api/finance/import': [
    { accountId: 1, csv: 'Date,Amount,Payee\n2024-01-02,-5.00,Cafe\n', mapping: { date: 'Date', amount: 'Amount', payee: 'Payee' }, preview: true },
  ],
  'POST /api/time/projects': [{ name: 'P', client: 'C', hourlyRate: 5000, currency: 'EUR', status: 'active' }],
  'PATCH /api/time/projects/:id': [{ status: 'paused', budget: null }],
  'POST /api/time/timer/start': [{ projectId: 1, description: 'work', tags: ['a'] }],
  'POST /api/time/timer/stop': [{ description: 'done', billable: true }],
  'POST /api/time/entries': [{ projectId: 1, startAt: '2024-01-01T10:00:00Z', endAt: '2024-01-01T11:00:00Z', tags: ['x'] }, { projectId: 1, startAt: 1_700_000_000_000, durationMs: 60_000 }],
  'PATCH /api/time/entries/:id': [{ description: 'changed' }],
  'POST /api/time/reminders': [{ message: 'Stand up', dueAt: '2030-01-01T09:00:00+01:00', repeat: 'daily' }],
  'PATCH /api/time/reminders/:id': [{ active: false }],
  'POST /api/vault/setup': [{ masterPassword: 'correct horse battery staple' }],
  'POST /api/vault/unlock': [{ masterPassword: 'correct horse battery staple' }],
  'POST /api/vault/password': [{ currentPassword: 'correct horse battery staple', newPassword: 'correct horse battery staple' }],
  'POST /api/vault/entries': [{ title: 'Mail', username: 'me', password: 'pw', url: 'https://mail.example', notes: 'n' }],
  'PATCH /api/vault/entries/:id': [{ notes: 'm' }],
  'POST /api/vault/generate': [{ mode: 'password', options: { length: 20 } }, { mode: 'passphrase' }],
  'POST /api/vault/strength': [{ password: 'hunter2', userInputs: ['me'] }],
  'POST /api/music/folders': [{ path: 'library', scan: true }],
  'POST /api/music/scan': [{}, { folderId: 1 }],
  'POST /api/music/playlists': [{ name: 'Mix', trackIds: [1, 2] }],
  'PATCH /api/music/playlists/:id': [{ name: 'Mix 2' }],
  'POST /api/music/playlists/:id/tracks': [{ trackIds: [1], position: 0 }],
  'POST /api/music/playlists/:id/move': [{ from: 0, to: 1 }],
  'POST /api/music/player/play': [{ trackId: 1 }, {}],
  'POST /api/music/player/queue': [{ trackIds: [1], next: true }],
  'POST /api/models/downloads': [{ catalogId: 'qwen2.5-0.5b-instruct-q4_k_m' }, { url: 'https://models.example/x.gguf', sha256: 'a'.repeat(64) }],
  'POST /api/models/load': [{ fileName: 'model.gguf', contextSize: 512 }],
  'POST /api/session/login': [{ code: 'a'.repeat(43) }],
};

const QUERY_SEEDS: Record<string, Record<string, string>[]> = {
  'GET /api/conversations': [{ q: 'hi', limit: '10', offset: '0' }],
  'GET /api/conversations/:id/export': [{ format: 'markdown' }, { format: 'json' }],
  'GET /api/finance/transactions': [{ accountId: '1', from: '2024-01-01', to: '2024-12-31', q: 'shop', minAmount: '-100', limit: '5' }],
  'GET /api/finance/export': [{ uncategorized: 'true' }],
  'GET /api/finance/budgets': [{ month: '2024-01' }],
  'GET /api/finance/summary/budget': [{ month: '2024-01' }],
  'GET /api/finance/summary/months': [{ from: '2024-01-01', to: '2024-03-01' }],
  'GET /api/finance/summary/balances': [{ asOf: '2024-01-01', includeArchived: '1' }],
  'DELETE /api/finance/accounts/:id': [{ force: 'true' }],
  'GET /api/time/entries': [{ projectId: '1', tag: 'x', billable: 'false', tzOffsetMinutes: '-60', limit: '10' }],
  'GET /api/time/reports': [{ groupBy: 'week', from: '2024-01-01', tzOffsetMinutes: '120' }],
  'GET /api/time/reminders': [{ includeDone: 'true' }],
  'GET /api/music/tracks': [{ q: 'a', artist: 'b', folderId: '1', limit: '10', offset: '0' }],
  'GET /api/vault/entries': [{ q: 'mail', limit: '5' }],
  'DELETE /api/models/downloads/:id': [{ discard: 'true' }],
  'GET /api/models/hub/search': [{ q: 'qwen', limit: '3' }],
  'POST /api/models/import': [{ fileName: 'imported.gguf', overwrite: 'false' }],
};

const TOOL_NAMES = ['finance_list_accounts', 'time_timer_status', 'music_search', 'vault_status', 'time_add_reminder', 'finance_add_transaction', 'nope'];

/** A valid-looking value for a path parameter of `url`. */
function paramValue(r: Random, url: string, name: string): string {
  switch (name) {
    case 'fileName':
      return 'model.gguf';
    case 'name':
      return r.pick(TOOL_NAMES);
    case 'month':
      return '2024-01';
    case 'field':
      return r.pick(['artist', 'album', 'genre']);
    case 'model':
      return r.pick(['tiny', 'tiny-qwen2']);
    case 'position':
    case 'index':
      return String(r.int(0, 3));
    case '*':
      return r.pick(['song.mp3', 'a/b.flac', 'index.js', 'app.css']);
    default:
      // Conversations, vault entries, confirmations, downloads and copy requests are named by strings.
      if (/conversations|vault|confirmations|downloads|copy-requests/.test(url)) return r.pick(['00000000-0000-4000-8000-000000000000', 'abc', '1']);
      return String(r.int(1, 3));
  }
}

/** Path parameter values as they go on the wire (already percent-encoded where needed). */
const ODD_PARAMS = [
  '..',
  '../../etc/passwd',
  '..%2f..%2fetc%2fpasswd',
  '%2e%2e%2f%2e%2e%2f',
  '....//....//',
  '%00',
  'a%00.gguf',
  '%ff%fe',
  '%',
  '%zz',
  '%E2%80%AE',
  '%F0%9F%98%80',
  '%ED%A0%80',
  '-1',
  '0',
  '1.5',
  '1e309',
  '0x10',
  '%201',
  '99999999999999999999999',
  'NaN',
  'Infinity',
  '__proto__',
  'constructor',
  '.hidden',
  'con',
  '%5C..%5C..%5Cwindows',
  '~root',
  'a;b',
  "'OR'1'='1",
];

function oddParam(r: Random): string {
  return r.weighted<() => string>([
    [6, () => r.pick(ODD_PARAMS)],
    [1, () => 'a'.repeat(r.pick([101, 1000, 5000, 60_000]))],
    [1, () => encodeURIComponent(randomString(r, r.int(1, 40)).replace(/[\ud800-\udfff]/g, '?'))],
    [1, () => Array.from({ length: r.int(2, 30) }, () => '..').join('/')],
  ])();
}

// ---------------------------------------------------------------------------------------------------
// Values

const UNICODE = ['é', 'ß', '中', '😀', '\u202e', '\u0000', '\u0007', '\ufeff', '\u2028', '\ud800', '\udfff', '\uffff', '\\', '"', "'", '<', '>', '&', '%s', '${x}', '{{x}}', '\n', '\r\n', '\t'];

function randomString(r: Random, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += r.chance(0.3) ? r.pick(UNICODE) : String.fromCharCode(r.int(32, 126));
  return s;
}

function deepValue(depth: number, kind: 'array' | 'object'): unknown {
  let v: unknown = kind === 'array' ? [] : {};
  for (let i = 0; i < depth; i++) v = kind === 'array' ? [v] : { a: v };
  return v;
}

/** A value of some type, often the wrong one for where it goes. */
function randomValue(r: Random, hugeLimit: number): unknown {
  return r.weighted<() => unknown>([
    [2, () => null],
    [2, () => r.pick([true, false])],
    [3, () => r.pick([0, -1, 1, 1.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53 + 2, -(2 ** 53) - 2, 1e21, 1e308, -1e308, 5e-324, 1 << 20, (1 << 20) + 1, 0xffffffff + 1])],
    [3, () => r.pick(['', ' ', 'x', '0', 'true', 'null', '1e3', '2024-13-45', '2024-01-01', '9999-12-31T23:59:59Z', 'EUR', 'eu', '../..', '/etc/passwd', 'http://169.254.169.254/', 'file:///etc/passwd'])],
    [3, () => randomString(r, r.int(1, 64))],
    [1, () => 'x'.repeat(r.pick([1000, 65_536, 1_000_001, Math.max(1024, hugeLimit - 1024)]))],
    [2, () => r.pick([[], [null], [1, 'a', {}], Array.from({ length: r.pick([100, 10_001]) }, (_, i) => i)])],
    [2, () => r.pick([{}, { a: 1 }, { __proto__: { polluted: true } } as unknown, JSON.parse('{"__proto__":{"polluted":1}}'), { constructor: { prototype: { x: 1 } } }])],
    [1, () => deepValue(r.pick([64, 500, 2000]), r.pick(["array", "object"] as const))],
  ])();
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Paths to every value in `v` (keys and indexes), the root included. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = [], depth = 0): (string | number)[][] {
  out.push(prefix);
  if (depth > 8 || v === null || typeof v !== 'object') return out;
  if (Array.isArray(v)) v.slice(0, 20).forEach((x, i) => paths(x, [...prefix, i], out, depth + 1));
  else for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out, depth + 1);
  return out;
}

function getAt(v: unknown, path: (string | number)[]): unknown {
  let cur = v;
  for (const k of path) cur = (cur as Record<string | number, unknown>)[k];
  return cur;
}

function setAt(root: unknown, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = getAt(root, path.slice(0, -1)) as Record<string | number, unknown>;
  parent[path[path.length - 1]!] = value;
  return root;
}

/** One structural change of a JSON value. */
function mutate(r: Random, root: unknown, hugeLimit: number): unknown {
  const all = paths(root);
  const path = r.pick(all);
  const cur = getAt(root, path);
  const op = r.weighted<string>([
    [5, 'retype'],
    [2, 'delete'],
    [2, 'add'],
    [2, 'string'],
    [2, 'number'],
    [1, 'repeat'],
  ]);
  if (op === 'delete' && path.length > 0) {
    const parent = getAt(root, path.slice(0, -1));
    const key = path[path.length - 1]!;
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete (parent as Record<string, unknown>)[key as string];
    return root;
  }
  if (op === 'add' && cur && typeof cur === 'object') {
    if (Array.isArray(cur)) cur.push(randomValue(r, hugeLimit));
    else (cur as Record<string, unknown>)[r.pick(['extra', 'id', 'type', '__proto__', 'constructor', 'toString', randomString(r, 8)])] = randomValue(r, hugeLimit);
    return root;
  }
  if (op === 'string' && typeof cur === 'string') return setAt(root, path, r.chance(0.5) ? randomString(r, r.int(0, 300)) : cur + randomString(r, r.int(1, 20)));
  if (op === 'number' && typeof cur === 'number') return setAt(root, path, r.pick([0, -1, cur + 1, cur - 1, cur * 1e6, -cur, cur + 0.5, Number.MAX_SAFE_INTEGER, 2 ** 63]));
  if (op === 'repeat' && Array.isArray(cur) && cur.length > 0) {
    const n = r.pick([2, 50, 300, 20_000]);
    return setAt(root, path, Array.from({ length: n }, (_, i) => structuredClone(cur[i % cur.length])));
  }
  return setAt(root, path, randomValue(r, hugeLimit));
}

const INVALID_JSON = [
  '{',
  '{"a":}',
  '{"a":1,}',
  "{'a':1}",
  '{"a":NaN}',
  '{"a":Infinity}',
  '{"a":1}/* c */',
  '{"a":1}{"b":2}',
  '[1,2',
  'nul',
  '"unterminated',
  '\ufeff{}',
  '{"a":"\\x41"}',
  '{"a":"\\ud800"}',
  '{"__proto__":{"x":1}}',
  '{"constructor":{"prototype":{"x":1}}}',
  '1',
  '"string"',
  'null',
  'true',
  '[]',
];

// ---------------------------------------------------------------------------------------------------
// Cases

export type RouteCase =
  | { index: number; kind: 'http'; label: string; route: RouteInfo; spec: HttpRequestSpec; mustRefuse: boolean }
  | { index: number; kind: 'ws'; label: string; route: RouteInfo; spec: WsSpec };

const GENERATING = /^(POST \/api\/llm\/chat|POST \/v1\/(chat\/)?completions|POST \/api\/agent\/chat)$/;

/** Keeps generation short and scans inside the sandbox, whatever the mutations did. */
function tame(body: unknown, key: string, musicDir: string): unknown {
  const visit = (v: unknown, depth: number): void => {
    if (depth > 12 || !v || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v.slice(0, 50)) visit(x, depth + 1);
      return;
    }
    const o = v as Record<string, unknown>;
    for (const k of ['max_tokens', 'max_completion_tokens', 'maxTokens']) {
      // Values the schemas refuse stay as they are: their refusal is what is tested.
      if (typeof o[k] === 'number' && (o[k] as number) > 16 && (o[k] as number) <= 1 << 20 && Number.isInteger(o[k])) o[k] = 8;
    }
    if (typeof o.maxSteps === 'number' && (o.maxSteps as number) > 2 && (o.maxSteps as number) <= 20) o.maxSteps = 2;
    for (const x of Object.values(o).slice(0, 50)) visit(x, depth + 1);
  };
  if (GENERATING.test(key)) visit(body, 0);
  // A library folder outside the sandbox would be scanned (the fuzzer could name '/'); keep it inside.
  if (key === 'POST /api/music/folders' && body && typeof body === 'object' && typeof (body as { path?: unknown }).path === 'string') {
    const p = (body as { path: string }).path;
    const inside = resolve(musicDir, p);
    if (!(inside + sep).startsWith(musicDir + sep) || p.includes('\0')) (body as { path: string }).path = join(musicDir, 'x', p.replace(/\.\./g, '__').replace(/\0/g, ''));
    else (body as { path: string }).path = inside;
  }
  return body;
}

function fillPath(r: Random, route: RouteInfo, odd: boolean): string {
  const names = [...route.url.matchAll(/:([A-Za-z]+)|\*/g)].map((m) => m[1] ?? '*');
  const oddAt = odd && names.length > 0 ? r.int(0, names.length - 1) : -1;
  let i = 0;
  return route.url.replace(/:([A-Za-z]+)|\*/g, (_m, name: string | undefined) => {
    const n = name ?? '*';
    return i++ === oddAt ? oddParam(r) : encodeURIComponent(paramValue(r, route.url, n)).replace(/%2F/g, '/');
  });
}

function queryString(r: Random, key: string, odd: boolean): string {
  const seeds = QUERY_SEEDS[key];
  const q: [string, string][] = seeds && r.chance(0.7) ? Object.entries(structuredClone(r.pick(seeds))) : [];
  if (odd) {
    const n = r.int(1, 4);
    for (let i = 0; i < n; i++) {
      const name = r.pick(['q', 'limit', 'offset', 'from', 'to', 'month', 'accountId', 'discard', 'force', 'includeArchived', 'groupBy', 'tzOffsetMinutes', 'token', '__proto__', 'constructor', '', randomString(r, 6)]);
      const value = r.weighted<() => string>([
        [3, () => {
          const v = randomValue(r, 4096);
          // String() of a deeply nested array recurses (and overflows) in the fuzzer itself.
          return typeof v === 'object' && v !== null ? (JSON.stringify(v) ?? '').slice(0, 10_000) : String(v);
        }],
        [2, () => r.pick(['', '-1', '0', '1e400', 'NaN', '2024-02-30', '99999-01', 'true', 'yes', '%', '%00', '[]', '{}'])],
        [1, () => 'z'.repeat(r.pick([201, 5000, 60_000]))],
      ])();
      // Repeating a name makes an array, which the query schemas must refuse, not trip over.
      q.push([name, value.slice(0, 70_000)]);
      if (r.chance(0.2)) q.push([name, value.slice(0, 100)]);
    }
  }
  if (q.length === 0) return '';
  // encodeURIComponent throws on lone surrogates; the server's side of that is tested with raw bytes.
  const enc = (s: string) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, '?'));
  return `?${q.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&')}`;
}

interface Auth {
  headers: Record<string, string>;
  /** The request carries no usable token or a foreign Host/Origin: a protected route must refuse it. */
  invalid: boolean;
  label: string;
}

function authFor(r: Random, port: number): Auth {
  const valid = { authorization: `Bearer ${FUZZ_TOKEN}` };
  return r.weighted<() => Auth>([
    [85, () => ({ headers: valid, invalid: false, label: 'token' })],
    [2, () => ({ headers: { authorization: `bearer ${FUZZ_TOKEN}  ` }, invalid: false, label: 'token (lower case, spaces)' })],
    [3, () => ({ headers: {}, invalid: true, label: 'no token' })],
    [2, () => ({ headers: { authorization: 'Bearer wrong' }, invalid: true, label: 'wrong token' })],
    [1, () => ({ headers: { authorization: `Basic ${Buffer.from(`u:${FUZZ_TOKEN}`).toString('base64')}` }, invalid: true, label: 'basic auth' })],
    [1, () => ({ headers: { authorization: `Bearer ${FUZZ_TOKEN} extra` }, invalid: true, label: 'token with a suffix' })],
    [1, () => ({ headers: { authorization: `Bearer ${'t'.repeat(6000)}` }, invalid: true, label: 'long token' })],
    [1, () => ({ headers: { authorization: 'Bearer' }, invalid: true, label: 'empty bearer' })],
    [2, () => ({ headers: { ...valid, host: r.pick(['evil.example', 'evil.example:80', '127.0.0.1.evil.example', '[::1', 'localhost:abc', '']) }, invalid: true, label: 'foreign Host' })],
    [2, () => ({ headers: { ...valid, origin: r.pick(['http://evil.example', 'null', 'http://127.0.0.1:1', `http://127.0.0.1:${port}/path`, 'file://']) }, invalid: true, label: 'foreign Origin' })],
    [1, () => ({ headers: { ...valid, origin: `http://localhost:${port}` }, invalid: false, label: 'own Origin' })],
  ])();
}

export function makeCase(seed: number, index: number, routes: RouteInfo[], env: { port: number; musicDir: string; bodyLimit: number }): RouteCase {
  const r = new Random(caseRng(seed, index));
  // Every route in turn, with extra turns for the WebSocket and generation routes, which hold the most
  // state per request.
  const ws = routes.filter((x) => x.websocket);
  const gen = routes.filter((x) => GENERATING.test(`${x.method} ${x.url}`));
  const route = index % 10 === 3 && ws.length > 0 ? ws[Math.floor(index / 10) % ws.length]! : index % 10 === 7 && gen.length > 0 ? gen[Math.floor(index / 10) % gen.length]! : routes[index % routes.length]!;
  const key = `${route.method} ${route.url}`;
  const auth = authFor(r, env.port);
  if (route.websocket) return wsCase(r, index, route, auth, env);

  const oddPath = r.chance(0.12);
  const oddQuery = r.chance(0.12);
  let method = route.method;
  if (r.chance(0.03)) method = r.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
  const path = fillPath(r, route, oddPath) + queryString(r, key, oddQuery);
  const headers: Record<string, string> = { ...auth.headers };
  const labels = [auth.label];
  if (oddPath) labels.push('odd path parameter');
  if (oddQuery) labels.push('odd query');

  let body: Buffer | string | undefined;
  const seeds = BODY_SEEDS[key];
  const takesBody = method === 'POST' || method === 'PUT' || method === 'PATCH' || (method === 'DELETE' && r.chance(0.2));
  if (takesBody) {
    const kind = r.weighted<string>([
      [seeds ? 45 : 10, 'mutated'],
      [10, 'random value'],
      [8, 'invalid json'],
      [6, 'content type'],
      [5, 'empty'],
      [4, 'deep'],
      [3, 'huge'],
      [2, 'bad utf-8'],
      [seeds ? 0 : 20, 'none'],
    ]);
    labels.push(`body: ${kind}`);
    const json = () => 'application/json';
    headers['content-type'] = json();
    switch (kind) {
      case 'mutated': {
        let v: unknown = structuredClone(seeds ? r.pick(seeds) : {});
        const n = r.weighted([
          [3, 0],
          [4, 1],
          [2, 2],
          [1, 4],
        ] as const);
        for (let i = 0; i < n; i++) v = mutate(r, v, env.bodyLimit);
        body = JSON.stringify(tame(v, key, env.musicDir)) ?? 'null';
        break;
      }
      case 'random value':
        body = JSON.stringify(randomValue(r, env.bodyLimit)) ?? 'null';
        break;
      case 'invalid json':
        body = r.chance(0.5) || !seeds ? r.pick(INVALID_JSON) : JSON.stringify(r.pick(seeds)).slice(0, -r.int(1, 5));
        break;
      case 'content type': {
        const v = seeds ? JSON.stringify(tame(structuredClone(r.pick(seeds)), key, env.musicDir)) : '{}';
        const ct = r.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16', 'application/jsonx', 'application/octet-stream', 'text/json', 'application/vnd.api+json', 'application/json, text/plain', '']);
        if (ct === '') delete headers['content-type'];
        else headers['content-type'] = ct;
        labels.push(`content-type "${ct}"`);
        body = v;
        break;
      }
      case 'empty':
        if (r.chance(0.3)) delete headers['content-type'];
        body = r.chance(0.5) ? '' : undefined;
        break;
      case 'deep': {
        const depth = r.pick([100, 1000, 10_000, 100_000, 500_000]);
        const text = r.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
        if (seeds && r.chance(0.6)) {
          // Nested inside a valid body, where a handler (not the parser) walks it.
          const v = structuredClone(r.pick(seeds)) as Record<string, unknown>;
          const all = paths(v).filter((p) => p.length > 0);
          const at = all.length > 0 ? r.pick(all) : ['extra'];
          setAt(v, at, '\u0001DEEP\u0001');
          body = JSON.stringify(tame(v, key, env.musicDir)).replace('"\\u0001DEEP\\u0001"', text);
        } else body = text;
        labels.push(`depth ${depth}`);
        break;
      }
      case 'huge': {
        const n = r.pick([1_000_000, Math.max(1024, env.bodyLimit - 4096), env.bodyLimit + 1]);
        const v = seeds ? (structuredClone(r.pick(seeds)) as Record<string, unknown>) : {};
        const strings = paths(v).filter((p) => typeof getAt(v, p) === 'string');
        setAt(v, strings.length > 0 ? r.pick(strings) : ['extra'], 'é'.repeat(Math.floor(n / 2)));
        body = JSON.stringify(tame(v, key, env.musicDir));
        labels.push(`${body.length} chars`);
        break;
      }
      case 'bad utf-8': {
        const v = seeds ? JSON.stringify(r.pick(seeds)) : '{"a":"x"}';
        const cut = v.lastIndexOf('"', v.length - 2);
        body = Buffer.concat([Buffer.from(v.slice(0, cut)), Buffer.from([r.pick([0xff, 0xc0, 0xed, 0xf8]), 0xa0, 0x80]), Buffer.from(v.slice(cut))]);
        break;
      }
      case 'none':
        delete headers['content-type'];
        break;
    }
  } else if (r.chance(0.05)) {
    // A body on a GET or DELETE: ignored or refused, never trusted.
    headers['content-type'] = 'application/json';
    body = '{"a":1}';
    labels.push('body on a bodiless method');
  }
  if (r.chance(0.03)) {
    headers['x-request-id'] = r.pick(['', 'a'.repeat(2000), '../../x', '<script>', '%00']);
    labels.push('odd x-request-id');
  }
  if (r.chance(0.03)) {
    headers.range = r.pick(['bytes=0-0', 'bytes=-1', 'bytes=5-1', 'bytes=0-99999999999999999999', 'bytes=a-b', 'lines=1-2', 'bytes=0-1,2-3']);
    labels.push(`range ${headers.range}`);
  }
  const spec: HttpRequestSpec = { method, path, headers, ...(body !== undefined ? { body } : {}), firstEventOnly: route.url.endsWith('/events') };
  return { index, kind: 'http', label: labels.join(', '), route, spec, mustRefuse: auth.invalid && !route.public };
}

function wsCase(r: Random, index: number, route: RouteInfo, auth: Auth, env: { bodyLimit: number }): RouteCase {
  const headers: Record<string, string> = { ...auth.headers };
  const labels = [auth.label];
  let path = route.url;
  let protocols: string[] | undefined;
  let expectRefused = auth.invalid;
  if (!auth.invalid && r.chance(0.2)) {
    // The other ways a browser passes the token.
    delete headers.authorization;
    if (r.chance(0.5)) {
      path += `?token=${FUZZ_TOKEN}`;
      labels.push('token in the query');
    } else {
      protocols = ['westfall.v1', `bearer.${FUZZ_TOKEN}`];
      labels.push('token as a subprotocol');
    }
  }
  if (auth.label === 'foreign Origin') expectRefused = true;
  // Node's client sends its own Host for an empty one (the server's refusal of "Host:" is tested over HTTP).
  if (headers.host === '') headers.host = 'evil.example';
  const messages: WsMessageSpec[] = [];
  let oversized = false;
  const ids = ['a', 'b', 'c'];
  const n = r.int(1, 5);
  for (let i = 0; i < n; i++) {
    const kind = r.weighted<string>([
      [30, 'chat'],
      [6, 'cancel'],
      [8, 'invalid json'],
      [8, 'wrong type'],
      [6, 'binary'],
      [3, 'empty'],
      [3, 'huge'],
      [1, 'oversized'],
      [3, 'deep'],
    ]);
    labels.push(kind);
    const chat = () => ({ type: 'chat', id: r.pick(ids), messages: [{ role: 'user', content: 'Hi' }], params: { maxTokens: 4 } });
    switch (kind) {
      case 'chat': {
        let v: unknown = chat();
        const m = r.weighted([
          [5, 0],
          [4, 1],
          [1, 3],
        ] as const);
        for (let k = 0; k < m; k++) v = mutate(r, v, env.bodyLimit);
        messages.push({ data: JSON.stringify(tame(v, 'POST /api/llm/chat', '')) ?? 'null', binary: false });
        break;
      }
      case 'cancel':
        messages.push({ data: JSON.stringify({ type: 'cancel', id: r.pick([...ids, 'zzz', '']) }), binary: false });
        break;
      case 'invalid json':
        messages.push({ data: r.pick(INVALID_JSON.filter((s) => { try { JSON.parse(s); return false; } catch { return true; } })), binary: false });
        break;
      case 'wrong type':
        messages.push({ data: JSON.stringify(r.chance(0.5) ? randomValue(r, 65_536) : { ...chat(), type: r.pick(['chat ', 'CHAT', 'token', 'done', 1, null]) }) ?? 'null', binary: false });
        break;
      case 'binary':
        messages.push({ data: r.chance(0.5) ? Buffer.from(JSON.stringify(chat())) : Buffer.from(Array.from({ length: r.int(0, 64) }, () => r.int(0, 255))), binary: true });
        break;
      case 'empty':
        messages.push({ data: '', binary: false });
        break;
      case 'huge': {
        const v = chat();
        v.messages[0]!.content = 'word '.repeat(r.pick([10_000, 200_000]));
        messages.push({ data: JSON.stringify(v), binary: false });
        break;
      }
      case 'oversized':
        oversized = true;
        messages.push({ data: 'x'.repeat(env.bodyLimit + 1), binary: false });
        break;
      case 'deep':
        { const d = r.pick([1000, 100_000]); messages.push({ data: `{"type":"chat","id":"d","messages":${"[".repeat(d)}${"]".repeat(d)}}`, binary: false }); }
        break;
    }
  }
  // A mutation can grow a message past the limit too (an array repeated 20 000 times).
  oversized ||= messages.some((m) => Buffer.byteLength(m.data) > env.bodyLimit);
  return { index, kind: 'ws', label: labels.join(', '), route, spec: { path, headers, ...(protocols ? { protocols } : {}), messages, expectRefused, oversized } };
}

/** The id of a chat message the server will run (and so answer with a final message), or null. */
export function validChatId(raw: string): string | null {
  try {
    const p = wsClientMessageSchema.safeParse(JSON.parse(raw));
    return p.success && p.data.type === 'chat' ? p.data.id : null;
  } catch {
    return null;
  }
}

export function describeRouteCase(c: RouteCase, seed: number): string {
  const head = `seed ${seed} case #${c.index} ${c.route.method} ${c.route.url} [${c.label}]`;
  if (c.kind === 'http') {
    const body = c.spec.body === undefined ? '(no body)' : clip(typeof c.spec.body === 'string' ? c.spec.body : c.spec.body.toString('latin1'), 300);
    const headers = Object.entries(c.spec.headers)
      .map(([k, v]) => `${k}: ${clip(v, 60)}`)
      .join('; ');
    return `${head}\n    ${c.spec.method} ${clip(c.spec.path, 200)}\n    ${headers}\n    ${body}`;
  }
  return `${head}\n    ${clip(c.spec.path, 200)}\n    ${c.spec.messages.map((m) => (m.binary ? `<binary ${m.data.length}>` : clip(String(m.data), 200))).join('\n    ')}`;
}

// ---------------------------------------------------------------------------------------------------
// The run

export interface RouteCaseReport {
  index: number;
  description: string;
  /** 'http 400', 'ws answered', 'ws refused 401', … */
  outcome: string;
  problems: string[];
  ms: number;
}

export interface RouteFuzzReport {
  seed: number;
  routes: RouteInfo[];
  cases: number;
  /** Cases per outcome ('http 2xx', 'http 4xx', 'http 503', 'ws answered', …). */
  outcomes: Record<string, number>;
  failures: RouteCaseReport[];
  /** Server restarts after a crash. */
  crashes: number;
  seconds: number;
}

export interface RouteFuzzOptions {
  cases?: number;
  seed?: number;
  /** Only these case indexes (a reproduction). */
  only?: number[];
  /** Seconds a request may take before it counts as a hang. */
  limitSeconds?: number;
  /** Cases between /health checks. */
  batch?: number;
  model?: string;
  onCase?: (c: RouteCaseReport) => void;
}

export async function runRouteFuzz(options: RouteFuzzOptions = {}): Promise<RouteFuzzReport> {
  const seed = options.seed ?? 1;
  const limitMs = (options.limitSeconds ?? 60) * 1000;
  const batch = options.batch ?? 10;
  const indexes = options.only ?? Array.from({ length: options.cases ?? 500 }, (_, i) => i);
  const server = new FuzzServer({ ...(options.model ? { model: options.model } : {}), maxTokens: 8 });
  const outcomes: Record<string, number> = {};
  const failures: RouteCaseReport[] = [];
  let crashes = 0;
  const started = performance.now();
  try {
    await server.start();
    // The routes in a fixed order, so that a seed means the same cases on every machine.
    const routes = [...server.routes].sort((a, b) => `${a.url} ${a.method}`.localeCompare(`${b.url} ${b.method}`));
    let sinceHealth = 0;
    for (const index of indexes) {
      const c = makeCase(seed, index, routes, { port: server.port, musicDir: server.musicDir, bodyLimit: server.bodyLimit });
      const description = describeRouteCase(c, seed);
      const t0 = performance.now();
      let outcome: string;
      let problems: string[];
      if (c.kind === 'http') {
        const o = await sendHttp(server.port, c.spec, limitMs);
        problems = checkHttpAnswer(c.spec, o);
        outcome = o.kind === 'response' ? `http ${o.status >= 500 ? o.status : `${Math.floor(o.status / 100)}xx`}` : `http ${o.kind}`;
        if (o.kind === 'response' && c.mustRefuse && o.status < 300) problems.push(`answered ${o.status} without a valid token, Host or Origin`);
        // A server that refuses a request before reading its body (413 over the limit, 401 without a token)
        // answers and closes; a client still sending a large body may see the reset before the answer.
        if (o.kind === 'neterror' && c.spec.body !== undefined && Buffer.byteLength(c.spec.body) > 64 * 1024 && (await server.healthy(limitMs)) === null) {
          problems = [];
          outcome = 'http early close';
        }
      } else {
        const o = await runWs(server.port, c.spec, limitMs, validChatId);
        problems = checkWsAnswer(c.spec, o);
        outcome = o.kind === 'refused' ? `ws refused ${o.status}` : `ws ${o.kind}`;
      }
      // A crash drops the connection; the exit comes a moment later.
      if (problems.length > 0 || /neterror|hang/.test(outcome)) await server.settle();
      if (server.alive && /hang/.test(outcome)) await server.waitIdle(10 * limitMs);
      if (!server.alive) {
        problems.push(`the server died: ${server.crash?.signal ?? `exit ${server.crash?.exitCode}`}\n      ${server.stderr.split('\n').slice(-8).join('\n      ')}`);
        crashes++;
        server.stop();
        await server.start();
        sinceHealth = 0;
      }
      if (/\/api\/models\/(un)?load/.test(c.route.url)) await server.ensureModel();
      if (++sinceHealth >= batch) {
        sinceHealth = 0;
        const unhealthy = await server.healthy(limitMs);
        if (unhealthy) problems.push(`after this batch: ${unhealthy}`);
      }
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      const report: RouteCaseReport = { index, description, outcome, problems, ms: Math.round(performance.now() - t0) };
      if (problems.length > 0) failures.push(report);
      options.onCase?.(report);
    }
    const unhealthy = await server.healthy(limitMs);
    if (unhealthy) failures.push({ index: -1, description: 'after the last case', outcome: 'health', problems: [unhealthy], ms: 0 });
    return { seed, routes, cases: indexes.length, outcomes, failures, crashes, seconds: Math.round((performance.now() - started) / 1000) };
  } finally {
    server.dispose();
  }
}

export function describeFailure(f: RouteCaseReport): string {
  return `${f.description}\n  → ${f.outcome}: ${f.problems.join('\n    ')}`;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seed = Number(arg('seed') ?? 1);
  const only = arg('case') !== undefined ? arg('case')!.split(',').map(Number) : undefined;
  const verbose = argv.includes('--verbose');
  const report = await runRouteFuzz({
    cases: Number(arg('cases') ?? 2000),
    seed,
    ...(only ? { only } : {}),
    limitSeconds: Number(arg('limit') ?? 60),
    ...(arg('model') ? { model: arg('model')! } : {}),
    onCase: (c) => {
      if (c.problems.length > 0) process.stdout.write(`FAIL ${describeFailure(c)}\n`);
      else if (verbose) process.stdout.write(`ok   ${c.description.split('\n')[0]} → ${c.outcome} (${c.ms} ms)\n`);
    },
  });
  const outcomes = Object.entries(report.outcomes)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  process.stdout.write(
    `\n${report.cases} cases over ${report.routes.length} routes (seed ${seed}, ${report.seconds} s): ${outcomes}; ` +
      `${report.failures.length} failures, ${report.crashes} server crashes\n`,
  );
  for (const f of report.failures) process.stdout.write(`${describeFailure(f)}\n`);
  if (arg('json')) writeFileSync(arg('json')!, JSON.stringify(report, null, 2));
  process.exitCode = report.failures.length > 0 ? 1 : 0;
}

const invoked = process.argv[1] ? pathToFileURL(process.argv[1]).href === import.meta.url : false;
if (invoked) await main(process.argv.slice(2));
