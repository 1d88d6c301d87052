// Smaller units: the notifier, pluggable notification sources, desktop settings, the tray menu and the
// backend client's SSE parsing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackendClient, type BackendClient } from '../../electron/main/backend-client.js';
import { createNotifier, NotificationHub, pollingSource, remindersSource, type SourceContext } from '../../electron/main/notifications.js';
import { DEFAULT_QUICK_ASK_SHORTCUT } from '../../electron/main/quick-ask.js';
import { ACCELERATOR_RE, loadDesktopSettings } from '../../electron/main/settings.js';
import { trayMenuTemplate, type TrayActions } from '../../electron/main/tray.js';
import { createFakeElectron } from './fake-electron.js';
import { waitFor } from './helpers.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A tiny HTTP server answering with `handler`; returns a client for it. */
async function serve(handler: (path: string, res: import('node:http').ServerResponse) => void): Promise<BackendClient> {
  const server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${'t'.repeat(20)}`) {
      res.writeHead(401).end();
      return;
    }
    handler(req.url ?? '/', res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return createBackendClient({ port, baseUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}`, token: 't'.repeat(20) });
}

describe('notifier', () => {
  it('shows native notifications, with a click action, at most `burst` per window', () => {
    const fake = createFakeElectron();
    let clicked = 0;
    const n = createNotifier(fake, { burst: 2, windowMs: 60_000, onClickDefault: () => clicked++ });
    n.notify('a', '1');
    n.notify('b', '2', { onClick: () => (clicked += 10) });
    n.notify('c', '3');
    expect(fake.notifications.map((x) => [x.options.title, x.shown])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    fake.notifications[0]!.emit('click');
    fake.notifications[1]!.emit('click');
    expect(clicked).toBe(11);
  });

  it('is a no-op where notifications are unsupported', () => {
    const fake = createFakeElectron({ notificationsSupported: false });
    const logs: string[] = [];
    createNotifier(fake, { log: (m) => logs.push(m) }).notify('a', 'b');
    expect(fake.notifications).toHaveLength(0);
    expect(logs).toEqual(['notifications are not supported here']);
  });
});

describe('notification sources', () => {
  it('follows the reminders stream, reconnecting, and announces each occurrence once', async () => {
    let connection = 0;
    const client = await serve((path, res) => {
      expect(path).toBe('/api/time/reminders/events');
      connection++;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: ready\ndata: {"reminders":2}\n\n');
      const r1 = { id: 1, message: 'Stand up', dueAt: '2026-01-01T10:00:00Z', repeat: 'daily' };
      if (connection === 1) {
        res.write(`event: reminder\ndata: ${JSON.stringify(r1)}\n\n`);
        res.end(`event: reminder\ndata: ${JSON.stringify(r1)}\n\n`); // the same occurrence again, then the stream drops
      } else {
        res.write(`event: reminder\ndata: ${JSON.stringify({ ...r1, dueAt: '2026-01-02T10:00:00Z' })}\n\n`);
        res.write(`event: reminder\ndata: ${JSON.stringify({ id: 2, dueAt: 'x' })}\n\n`);
      }
    });
    const shown: string[] = [];
    const hub = new NotificationHub([remindersSource({ retryMs: 30 })], (t, b) => shown.push(`${t} | ${b}`), () => undefined);
    hub.start(client);
    await waitFor(() => shown.length === 3, 'three reminders');
    hub.stop();
    expect(shown).toEqual(['Reminder | Stand up', 'Reminder | Stand up', 'Reminder | Reminder']);
    expect(connection).toBe(2);
  });

  it('drops the same notification from the renderer and a source within a minute', () => {
    const fake = createFakeElectron();
    const n = createNotifier(fake);
    n.notify('Model downloaded', 'a.gguf is downloaded and verified.');
    n.notify('Model downloaded', 'a.gguf is downloaded and verified.');
    n.notify('Model downloaded', 'b.gguf is downloaded and verified.');
    expect(fake.notifications.map((x) => x.options.body)).toEqual(['a.gguf is downloaded and verified.', 'b.gguf is downloaded and verified.']);
  });

  it('turns an SSE source off when its route does not exist', async () => {
    const client = await serve((_p, res) => void res.writeHead(404).end());
    const logs: string[] = [];
    const ctx: SourceContext = { client, notify: () => undefined, signal: new AbortController().signal, log: (m) => logs.push(m) };
    await remindersSource({ retryMs: 10 }).start(ctx);
    expect(logs).toEqual(['/api/time/reminders/events not present; reminders notifications are off']);
  });

  it('turns itself off when the route does not exist', async () => {
    let calls = 0;
    const client = await serve((_p, res) => {
      calls++;
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"no"}}');
    });
    const logs: string[] = [];
    const controller = new AbortController();
    const ctx: SourceContext = { client, notify: () => undefined, signal: controller.signal, log: (m) => logs.push(m) };
    await pollingSource({ name: 'x', path: '/api/x', intervalMs: 10, select: () => [], id: String, toNotification: () => ({ title: '', body: '' }) }).start(ctx);
    expect(calls).toBe(1);
    expect(logs).toEqual(['/api/x not present; x notifications are off']);
  });

  it('parses Server-Sent Events (comments, multi-line data, CRLF)', async () => {
    const client = await serve((_p, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': keep-alive\n\nevent: progress\ndata: {"a":1}\n\n');
      res.write('event: note\r\ndata: line 1\r\ndata: line 2\r\n\r\n');
      res.end('data: {"b":2}\n\n');
    });
    const got: [string, unknown][] = [];
    await client.events('/events', (e, d) => got.push([e, d]), new AbortController().signal);
    expect(got).toEqual([
      ['progress', { a: 1 }],
      ['note', 'line 1\nline 2'],
      ['message', { b: 2 }],
    ]);
  });
});

describe('desktop settings', () => {
  it('defaults the quick-ask shortcut and reads desktop.json and the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'westfall-settings-'));
    expect(loadDesktopSettings(dir, {}).settings).toEqual({ quickAskShortcut: DEFAULT_QUICK_ASK_SHORTCUT, workerHost: '127.0.0.1', workerPort: 50052 });
    writeFileSync(join(dir, 'desktop.json'), JSON.stringify({ quickAskShortcut: 'Alt+Shift+K' }));
    expect(loadDesktopSettings(dir, {}).settings.quickAskShortcut).toBe('Alt+Shift+K');
    expect(loadDesktopSettings(dir, { WESTFALL_QUICK_ASK_SHORTCUT: 'none' }).settings.quickAskShortcut).toBeNull();
    expect(loadDesktopSettings(dir, { WESTFALL_QUICK_ASK_SHORTCUT: '' }).settings.quickAskShortcut).toBeNull();
    expect(loadDesktopSettings(dir, { WESTFALL_QUICK_ASK_SHORTCUT: 'CmdOrCtrl+F5' }).settings.quickAskShortcut).toBe('CmdOrCtrl+F5');
  });

  it('falls back to the default with a warning on bad values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'westfall-settings-'));
    writeFileSync(join(dir, 'desktop.json'), JSON.stringify({ quickAskShortcut: 'A', extra: 1 }));
    const r = loadDesktopSettings(dir, {});
    expect(r.settings.quickAskShortcut).toBe(DEFAULT_QUICK_ASK_SHORTCUT);
    expect(r.warnings.join('\n')).toMatch(/quickAskShortcut: must be an accelerator/);
    writeFileSync(join(dir, 'desktop.json'), '{ not json');
    expect(loadDesktopSettings(dir, {}).warnings[0]).toMatch(/desktop\.json: .*using defaults/);
    for (const ok of ['CommandOrControl+Shift+Space', 'Alt+F12', 'Ctrl+Alt+Plus', 'Super+Shift+/']) expect(ACCELERATOR_RE.test(ok), ok).toBe(true);
    for (const bad of ['Space', 'Shift+', 'Ctrl+Alt', 'Ctrl+Shift+Space; rm -rf', 'Hyper+K']) expect(ACCELERATOR_RE.test(bad), bad).toBe(false);
  });
});

describe('tray menu', () => {
  const actions: TrayActions = { open() {}, quickAsk() {}, pauseModel() {}, resumeModel() {}, retryBackend() {}, quit() {} };
  const ids = (t: ReturnType<typeof trayMenuTemplate>) => t.filter((i) => i.id).map((i) => `${i.id}${i.enabled === false ? '(off)' : ''}`);

  it('offers open, quick ask, pause/resume and quit, enabled by state', () => {
    expect(ids(trayMenuTemplate({ backend: 'ready', modelPaused: false, modelBusy: false, shortcut: 'Alt+K' }, actions))).toEqual(['status(off)', 'open', 'quick-ask', 'pause-model', 'quit']);
    expect(ids(trayMenuTemplate({ backend: 'ready', modelPaused: true, modelBusy: true, shortcut: null }, actions))).toEqual(['status(off)', 'open', 'quick-ask', 'resume-model(off)', 'quit']);
    expect(ids(trayMenuTemplate({ backend: 'starting', modelPaused: false, modelBusy: false, shortcut: null }, actions))).toEqual(['status(off)', 'open', 'quick-ask(off)', 'pause-model(off)', 'quit']);
    expect(ids(trayMenuTemplate({ backend: 'failed', modelPaused: false, modelBusy: false, shortcut: null }, actions))).toEqual(['status(off)', 'open', 'quick-ask(off)', 'pause-model(off)', 'retry', 'quit']);
  });

  it("offers sharing this computer's memory where the app can run a worker, with its address while on", () => {
    const withShare = { ...actions, toggleShare: () => {} };
    const base = { backend: 'ready' as const, modelPaused: false, modelBusy: false, shortcut: null };
    expect(ids(trayMenuTemplate({ ...base, share: { state: 'off', endpoint: null } }, withShare))).toEqual(['status(off)', 'open', 'quick-ask', 'pause-model', 'share', 'quit']);
    const on = trayMenuTemplate({ ...base, share: { state: 'on', endpoint: '127.0.0.1:50052' } }, withShare);
    expect(on.find((i) => i.id === 'share')).toMatchObject({ type: 'checkbox', checked: true });
    expect(on.find((i) => i.id === 'share-address')).toMatchObject({ label: 'Worker at 127.0.0.1:50052', enabled: false });
    expect(ids(trayMenuTemplate(base, withShare))).not.toContain('share');
  });
});
