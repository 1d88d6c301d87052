// Every REST route of the personal tools, through app.inject on a bare Fastify with the tools' plugins and
// the server's error handler; the event streams over a real socket.
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parse } from 'csv-parse/sync';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolServices } from '../../src/tools/index.js';
import { makeApp, makeServices, tempDir, writeWav } from './helpers.js';
import { openSse } from './sse.js';

let services: ToolServices;
let app: FastifyInstance;
let base: string;
let root: string;
let cleanup: () => void;

beforeAll(async () => {
  const t = tempDir('westfall-routes-');
  cleanup = t.cleanup;
  root = t.dir;
  services = makeServices(join(root, 'data'), { defaultCurrency: 'EUR' });
  app = await makeApp(services);
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
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

describe('conversations', () => {
  it('create, append, list, search, read, rename, delete', async () => {
    const c = await call('POST', '/api/conversations', { title: 'Trip', messages: [{ role: 'user', content: 'Plan a trip to Lisbon' }] }, 201);
    expect(c).toMatchObject({ title: 'Trip', messageCount: 1, messages: [{ role: 'user', content: 'Plan a trip to Lisbon' }] });
    const appended = await call('POST', `/api/conversations/${c.id}/messages`, {
      messages: [
        { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'music_search', arguments: { query: 'fado' } }] },
        { role: 'tool', content: '{"tracks":[]}', toolCallId: 'c1', name: 'music_search' },
      ],
    }, 201);
    expect(appended.messages.map((m: { seq: number }) => m.seq)).toEqual([2, 3]);
    expect((await call('GET', '/api/conversations')).conversations.map((x: { id: string }) => x.id)).toContain(c.id);
    const found = await call('GET', '/api/conversations?q=lisbon');
    expect(found.results[0].conversation.id).toBe(c.id);
    expect((await call('GET', `/api/conversations/${c.id}`)).messages[1].toolCalls[0].name).toBe('music_search');
    expect((await call('PATCH', `/api/conversations/${c.id}`, { title: 'Lisbon' })).title).toBe('Lisbon');
    expect(await call('DELETE', `/api/conversations/${c.id}`)).toEqual({ deleted: c.id });
    const missing = await call('GET', `/api/conversations/${c.id}`, undefined, 404);
    expect(missing.error.code).toBe('not_found');
    expect((await call('POST', '/api/conversations', { title: 5 }, 400)).error.code).toBe('invalid_request');
  });
});

describe('finance', () => {
  it('accounts, categories, transactions, budgets, summaries, import and export', async () => {
    const acc = await call('POST', '/api/finance/accounts', { name: 'Giro', currency: 'EUR', openingBalance: 10_000 }, 201);
    expect(await call('GET', `/api/finance/accounts/${acc.id}`)).toMatchObject({ name: 'Giro', currency: 'EUR' });
    expect((await call('POST', '/api/finance/accounts', { name: 'giro', currency: 'EUR' }, 409)).error.code).toBe('conflict');
    expect((await call('POST', '/api/finance/accounts', { name: 'X', currency: 'XYZ' }, 400)).error.code).toBe('invalid_params');
    const food = await call('POST', '/api/finance/categories', { name: 'Food' }, 201);
    const fun = await call('POST', '/api/finance/categories', { name: 'Fun' }, 201);
    expect((await call('PATCH', `/api/finance/categories/${fun.id}`, { name: 'Leisure' })).name).toBe('Leisure');
    expect((await call('GET', '/api/finance/categories')).categories).toHaveLength(2);
    const t1 = await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2024-05-02', amount: -2_550, categoryId: food.id, payee: 'Market' }, 201);
    const t2 = await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2024-05-03', amount: -1_000, payee: 'Cinema' }, 201);
    expect(await call('GET', `/api/finance/transactions/${t1.id}`)).toMatchObject({ amount: -2_550, category: 'Food', currency: 'EUR' });
    expect((await call('PATCH', `/api/finance/transactions/${t2.id}`, { categoryId: fun.id })).category).toBe('Leisure');
    expect((await call('GET', '/api/finance/transactions?q=market')).total).toBe(1);
    expect((await call('GET', `/api/finance/transactions?categoryId=${food.id}&from=2024-05-01&to=2024-05-31`)).transactions).toHaveLength(1);
    expect((await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2024-02-30', amount: 1 }, 400)).error.code).toBe('invalid_request');
    expect((await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2024-02-01', amount: 1.5 }, 400)).error.details.fields[0].path).toBe('amount');

    expect(await call('PUT', '/api/finance/budgets', { categoryId: food.id, month: '2024-05', amount: 10_000 })).toMatchObject({ amount: 10_000, currency: 'EUR' });
    expect((await call('GET', '/api/finance/budgets?month=2024-05')).budgets).toHaveLength(1);
    expect((await call('GET', '/api/finance/summary/budget?month=2024-05')).lines[0]).toMatchObject({ category: 'Food', budget: 10_000, spent: 2_550, remaining: 7_450, percentUsed: 25.5 });
    expect((await call('GET', '/api/finance/summary/months')).months).toEqual([{ month: '2024-05', currency: 'EUR', income: 0, expenses: 3_550, net: -3_550, count: 2 }]);
    expect((await call('GET', '/api/finance/summary/categories?from=2024-05-01')).categories).toHaveLength(2);
    expect((await call('GET', '/api/finance/summary/balances')).balances[0]).toMatchObject({ balance: 10_000 - 3_550 });
    await call('DELETE', `/api/finance/budgets/${food.id}/2024-05`);
    await call('DELETE', `/api/finance/budgets/${food.id}/2024-05`, undefined, 404);

    const csv = 'Date;Payee;Amount\n06.05.2024;Bakery;-3,20\n07.05.2024;Refund;12,00\n';
    const mapping = { date: 'Date', dateFormat: 'DD.MM.YYYY', amount: 'Amount', payee: 'Payee', decimalSeparator: ',' };
    const preview = await call('POST', '/api/finance/import', { accountId: acc.id, csv, mapping, preview: true });
    expect(preview).toMatchObject({ preview: true, total: 2, new: 2, duplicates: 0 });
    expect((await call('GET', '/api/finance/transactions')).total).toBe(2);
    expect(await call('POST', '/api/finance/import', { accountId: acc.id, csv, mapping, fileName: 'may.csv' })).toMatchObject({ preview: false, imported: 2 });
    expect(await call('POST', '/api/finance/import', { accountId: acc.id, csv, mapping })).toMatchObject({ imported: 0, duplicates: 2 });
    const bad = await call('POST', '/api/finance/import', { accountId: acc.id, csv: csv.replace('12,00', 'twelve'), mapping }, 422);
    expect(bad.error).toMatchObject({ code: 'csv_invalid', details: { line: 3 } });
    expect((await call('POST', '/api/finance/import', { accountId: acc.id, csv, mapping: { date: 'Date' } }, 400)).error.code).toBe('invalid_request');
    const exported = await app.inject({ method: 'GET', url: `/api/finance/export?accountId=${acc.id}` });
    expect(exported.headers['content-type']).toMatch(/^text\/csv/);
    expect(exported.headers['content-disposition']).toMatch(/attachment; filename="transactions.csv"/);
    expect((parse(exported.body, { columns: true }) as unknown[]).length).toBe(4);

    await call('DELETE', `/api/finance/transactions/${t2.id}`);
    await call('DELETE', `/api/finance/transactions/${t2.id}`, undefined, 404);
    await call('DELETE', `/api/finance/categories/${fun.id}`);
    expect((await call('DELETE', `/api/finance/accounts/${acc.id}`, undefined, 409)).error.code).toBe('conflict');
    expect((await call('PATCH', `/api/finance/accounts/${acc.id}`, { archived: true })).archived).toBe(true);
    expect((await call('GET', '/api/finance/accounts')).accounts).toHaveLength(0);
    expect((await call('GET', '/api/finance/accounts?includeArchived=true')).accounts).toHaveLength(1);
    await call('DELETE', `/api/finance/accounts/${acc.id}?force=true`);
  });
});

describe('time', () => {
  it('projects, timer, entries, tags, reports, export and reminders', async () => {
    const p = await call('POST', '/api/time/projects', { name: 'Website', client: 'Acme', hourlyRate: 9_000, budget: 100_000 }, 201);
    expect(p).toMatchObject({ currency: 'EUR', status: 'active' });
    expect((await call('PATCH', `/api/time/projects/${p.id}`, { status: 'paused' })).status).toBe('paused');
    expect(await call('GET', `/api/time/projects/${p.id}`)).toMatchObject({ name: 'Website' });
    expect((await call('GET', '/api/time/projects?status=paused')).projects).toHaveLength(1);

    expect((await call('GET', '/api/time/timer')).timer).toBeNull();
    expect((await call('POST', '/api/time/timer/start', { projectId: p.id, description: 'Header', tags: ['css'] }, 201)).timer.state).toBe('running');
    expect((await call('POST', '/api/time/timer/start', { projectId: p.id }, 409)).error.code).toBe('timer_running');
    expect((await call('POST', '/api/time/timer/pause')).timer.state).toBe('paused');
    expect((await call('POST', '/api/time/timer/resume')).timer.state).toBe('running');
    const stopped = await call('POST', '/api/time/timer/stop', { description: 'Header done' });
    expect(stopped.entry).toMatchObject({ source: 'timer', description: 'Header done', tags: ['css'] });
    expect((await call('POST', '/api/time/timer/pause', undefined, 409)).error.code).toBe('timer_not_running');
    await call('POST', '/api/time/timer/start', { projectId: p.id }, 201);
    expect(await call('DELETE', '/api/time/timer')).toEqual({ timer: null });

    const e = await call('POST', '/api/time/entries', { projectId: p.id, startAt: '2024-05-06T09:00:00+02:00', endAt: '2024-05-06T11:30:00+02:00', tags: ['dev'] }, 201);
    expect(e).toMatchObject({ durationMs: 2.5 * 3_600_000, startAt: '2024-05-06T07:00:00.000Z', tags: ['dev'] });
    expect((await call('POST', '/api/time/entries', { projectId: p.id, startAt: '2024-05-06T09:00:00Z', endAt: '2024-05-06T08:00:00Z' }, 400)).error.code).toBe('invalid_params');
    expect((await call('PATCH', `/api/time/entries/${e.id}`, { billable: false, tags: ['dev', 'review'] })).tags).toEqual(['dev', 'review']);
    expect(await call('GET', `/api/time/entries/${e.id}`)).toMatchObject({ billable: false });
    expect((await call('GET', '/api/time/entries?from=2024-05-06&to=2024-05-06&tzOffsetMinutes=0')).total).toBe(1);
    expect((await call('GET', '/api/time/entries?tag=review')).total).toBe(1);
    expect((await call('GET', '/api/time/tags')).tags.map((t: { name: string }) => t.name)).toEqual(['css', 'dev', 'review']);
    await call('PATCH', `/api/time/entries/${e.id}`, { billable: true });
    const report = await call('GET', '/api/time/reports?groupBy=day&from=2024-05-06&to=2024-05-06&tzOffsetMinutes=0');
    expect(report.groups).toEqual([expect.objectContaining({ key: '2024-05-06', hours: '2.50', amounts: [{ currency: 'EUR', amount: 22_500 }] })]);
    expect((await call('GET', '/api/time/reports?groupBy=week')).groups[0].key).toMatch(/^\d{4}-W\d{2}$/);
    const csv = await app.inject({ method: 'GET', url: '/api/time/export?from=2024-05-01&to=2024-05-31&tzOffsetMinutes=0' });
    expect((parse(csv.body, { columns: true }) as Record<string, string>[])[0]).toMatchObject({ amount: '225.00', hours: '2.50' });
    expect((await call('DELETE', `/api/time/projects/${p.id}`, undefined, 409)).error.code).toBe('conflict');
    await call('DELETE', `/api/time/entries/${e.id}`);
    await call('DELETE', `/api/time/entries/${stopped.entry.id}`);
    await call('DELETE', `/api/time/projects/${p.id}`);

    const r = await call('POST', '/api/time/reminders', { message: 'Send invoice', dueAt: '2030-01-01T09:00:00Z', repeat: 'weekly' }, 201);
    expect(await call('GET', `/api/time/reminders/${r.id}`)).toMatchObject({ message: 'Send invoice', repeat: 'weekly' });
    expect((await call('PATCH', `/api/time/reminders/${r.id}`, { active: false })).active).toBe(false);
    expect((await call('GET', '/api/time/reminders')).reminders).toHaveLength(0);
    expect((await call('GET', '/api/time/reminders?includeDone=true')).reminders).toHaveLength(1);
    await call('DELETE', `/api/time/reminders/${r.id}`);
  });

  it('delivers reminders to the app over the event stream, also those that fell due before it connected', async () => {
    await call('POST', '/api/time/reminders', { message: 'While away', dueAt: Date.now() + 20 }, 201);
    await new Promise((r) => setTimeout(r, 150));
    const sse = await openSse(`${base}/api/time/reminders/events`);
    expect(sse.status).toBe(200);
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect((await sse.next('ready')).data.missed).toBe(1);
    expect((await sse.next('reminder')).data.message).toBe('While away');
    await call('POST', '/api/time/reminders', { message: 'Stretch', dueAt: Date.now() + 150 }, 201);
    const e = await sse.next('reminder', 5000);
    expect(e.data).toMatchObject({ message: 'Stretch', repeat: 'none', nextAt: null });
    sse.close();
  });
});

describe('vault', () => {
  it('setup, unlock, entries, generator, strength, re-key, copy requests and events', async () => {
    expect(await call('GET', '/api/vault/status')).toMatchObject({ initialized: false, unlocked: false });
    expect((await call('POST', '/api/vault/unlock', { masterPassword: 'whatever' }, 409)).error.code).toBe('vault_not_initialized');
    expect((await call('POST', '/api/vault/setup', { masterPassword: 'first master pw' }, 201)).unlocked).toBe(true);
    const events = await openSse(`${base}/api/vault/events`);
    expect((await events.next('status')).data.unlocked).toBe(true);

    const e = await call('POST', '/api/vault/entries', { title: 'Forum', username: 'me', password: 's3cret!', url: 'https://forum.example' }, 201);
    expect(e).not.toHaveProperty('password');
    const listed = await call('GET', '/api/vault/entries?q=forum');
    expect(listed.entries).toEqual([expect.objectContaining({ id: e.id, title: 'Forum' })]);
    expect(JSON.stringify(listed)).not.toContain('s3cret!');
    const full = await app.inject({ method: 'GET', url: `/api/vault/entries/${e.id}` });
    expect(full.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(full.body).password).toBe('s3cret!');
    expect((await call('PATCH', `/api/vault/entries/${e.id}`, { notes: 'n' })).title).toBe('Forum');

    const g = await call('POST', '/api/vault/generate', { mode: 'password', options: { length: 24, excludeAmbiguous: true } });
    expect(g.password).toHaveLength(24);
    expect(g.strength.score).toBe(4);
    const pp = await call('POST', '/api/vault/generate', { mode: 'passphrase', options: { words: 5 } });
    expect(pp.password.split('-')).toHaveLength(5);
    expect((await call('POST', '/api/vault/generate', { mode: 'password', options: { length: 2 } }, 400)).error.code).toBe('invalid_request');
    expect((await call('POST', '/api/vault/strength', { password: 'qwerty' })).score).toBe(0);

    // The model asks to copy; the app sees the request and approves it.
    const req = (await services.registry.invoke('vault_copy_password', { id: e.id }, { caller: 'model' })) as { requestId: string };
    expect((await events.next('copy_requested')).data.id).toBe(req.requestId);
    expect((await call('GET', '/api/vault/copy-requests')).requests).toHaveLength(1);
    expect(await call('POST', `/api/vault/copy-requests/${req.requestId}/approve`)).toEqual({ entryId: e.id, title: 'Forum', password: 's3cret!' });
    const req2 = (await services.registry.invoke('vault_copy_password', { id: e.id }, { caller: 'model' })) as { requestId: string };
    expect((await call('POST', `/api/vault/copy-requests/${req2.requestId}/deny`)).denied.id).toBe(req2.requestId);
    await call('POST', `/api/vault/copy-requests/${req2.requestId}/approve`, undefined, 404);

    expect((await call('POST', '/api/vault/password', { currentPassword: 'wrong master', newPassword: 'second master pw' }, 403)).error.code).toBe('vault_wrong_password');
    await call('POST', '/api/vault/password', { currentPassword: 'first master pw', newPassword: 'second master pw' });
    expect((await call('POST', '/api/vault/lock')).unlocked).toBe(false);
    expect((await events.next('locked')).data.reason).toBe('manual');
    expect((await call('GET', '/api/vault/entries', undefined, 423)).error.code).toBe('vault_locked');
    expect((await call('POST', '/api/vault/unlock', { masterPassword: 'first master pw' }, 403)).error.code).toBe('vault_wrong_password');
    await call('POST', '/api/vault/unlock', { masterPassword: 'second master pw' });
    await events.next('unlocked');
    expect((await call('GET', `/api/vault/entries/${e.id}`)).password).toBe('s3cret!');
    await call('DELETE', `/api/vault/entries/${e.id}`);
    await call('DELETE', `/api/vault/entries/${e.id}`, undefined, 404);
    events.close();
  });
});

describe('music (library, playlists, player)', () => {
  it('folders, scan, tracks, facets, playlists, player and its events', async () => {
    const lib = join(root, 'music');
    writeWav(join(lib, 'a.wav'), { title: 'Alpha', artist: 'Band', album: 'First', genre: 'Rock', track: 1 });
    writeWav(join(lib, 'b.wav'), { title: 'Beta', artist: 'Band', album: 'First', genre: 'Rock', track: 2 });
    const added = await call('POST', '/api/music/folders', { path: lib, scan: false }, 201);
    expect(added.scan).toBeUndefined();
    expect((await call('POST', '/api/music/scan', { folderId: added.folder.id })).results[0]).toMatchObject({ added: 2 });
    expect((await call('POST', '/api/music/scan', {})).results[0]).toMatchObject({ unchanged: 2 });
    expect((await call('GET', '/api/music/folders')).folders[0]).toMatchObject({ tracks: 2 });
    const tracks = (await call('GET', '/api/music/tracks?artist=band')).tracks;
    expect(tracks.map((t: { title: string }) => t.title)).toEqual(['Alpha', 'Beta']);
    expect(await call('GET', `/api/music/tracks/${tracks[0].id}`)).toMatchObject({ album: 'First', durationMs: 1000 });
    expect((await call('GET', '/api/music/facets/genre')).values).toEqual([{ value: 'Rock', tracks: 2 }]);
    await call('GET', '/api/music/facets/mood', undefined, 400);

    const pl = await call('POST', '/api/music/playlists', { name: 'Mix', trackIds: [tracks[0].id] }, 201);
    expect((await call('POST', `/api/music/playlists/${pl.id}/tracks`, { trackIds: [tracks[1].id] })).items).toHaveLength(2);
    expect((await call('POST', `/api/music/playlists/${pl.id}/move`, { from: 1, to: 0 })).items[0].id).toBe(tracks[1].id);
    expect((await call('DELETE', `/api/music/playlists/${pl.id}/tracks/0`)).items.map((t: { id: number }) => t.id)).toEqual([tracks[0].id]);
    expect((await call('PATCH', `/api/music/playlists/${pl.id}`, { name: 'Best', trackIds: [tracks[1].id, tracks[0].id] })).name).toBe('Best');
    expect((await call('GET', '/api/music/playlists')).playlists[0]).toMatchObject({ name: 'Best', tracks: 2, durationMs: 2000 });
    expect((await call('GET', `/api/music/playlists/${pl.id}`)).items).toHaveLength(2);

    const events = await openSse(`${base}/api/music/player/events`);
    expect((await events.next('player')).data.queue).toEqual([]);
    await call('POST', '/api/music/player/queue', { trackIds: tracks.map((t: { id: number }) => t.id) });
    await events.next('player');
    expect((await call('POST', '/api/music/player/play', {})).nowPlaying.title).toBe('Alpha');
    expect((await events.next('player')).data).toMatchObject({ playing: true, nowPlaying: { title: 'Alpha' } });
    expect((await call('POST', '/api/music/player/next')).nowPlaying.title).toBe('Beta');
    expect((await call('POST', '/api/music/player/previous')).nowPlaying.title).toBe('Alpha');
    expect((await call('POST', '/api/music/player/pause')).playing).toBe(false);
    expect((await call('DELETE', '/api/music/player/queue/1')).queue).toHaveLength(1);
    expect((await call('GET', '/api/music/player')).index).toBe(0);
    expect((await call('POST', '/api/music/player/play', { index: 5 }, 400)).error.code).toBe('invalid_params');
    expect((await call('DELETE', '/api/music/player/queue')).queue).toEqual([]);
    events.close();

    await call('DELETE', `/api/music/playlists/${pl.id}`);
    await call('DELETE', `/api/music/folders/${added.folder.id}`);
    expect((await call('GET', '/api/music/tracks')).total).toBe(0);
  });
});

describe('tools', () => {
  it('lists the declarations with their JSON schemas and lets the app invoke a tool', async () => {
    const { tools } = await call('GET', '/api/tools');
    const names = tools.map((t: { name: string }) => t.name);
    for (const n of ['finance_add_transaction', 'time_start_timer', 'vault_search_entries', 'vault_copy_password', 'music_search', 'music_play']) expect(names).toContain(n);
    const add = tools.find((t: { name: string }) => t.name === 'finance_add_transaction');
    expect(add).toMatchObject({ mutates: true, parameters: { type: 'object', required: ['accountId', 'date', 'amount'] } });
    expect(tools.find((t: { name: string }) => t.name === 'music_search').mutates).toBe(false);
    const p = await call('POST', '/api/time/projects', { name: 'Tools route' }, 201);
    const r = await call('POST', '/api/tools/time_list_projects/invoke', { arguments: {} });
    expect(r.result.projects.map((x: { id: number }) => x.id)).toContain(p.id);
    expect((await call('POST', '/api/tools/time_log_entry/invoke', { arguments: { project: 'Tools route', date: '2024-02-30', minutes: 5 } }, 400)).error.code).toBe('tool_invalid_arguments');
    expect((await call('POST', '/api/tools/nope/invoke', { arguments: {} }, 404)).error.code).toBe('tool_not_found');
    expect((await call('GET', '/api/agent/confirmations')).confirmations).toEqual([]);
    await call('POST', '/api/agent/confirmations/unknown', { approved: true }, 404);
    // No model: the agent answers 503 before any stream opens.
    expect((await call('POST', '/api/agent/chat', { message: 'hi' }, 503)).error.code).toBe('model_not_loaded');
  });
});
