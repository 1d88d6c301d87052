// The whole main process on the fake electron module with a real (fake) backend process: startup, IPC,
// crash and restart, the error screen, the tray, the quick-ask shortcut, notifications and the quit order.
import { afterEach, describe, expect, it } from 'vitest';
import { downloadsSource } from '../../electron/main/notifications.js';
import { CHANNELS } from '../../electron/shared/contract.js';
import { MAIN_TITLE, QUICK_TITLE, backendUrl, launch, quitAll } from './app-harness.js';
import { isAlive, waitFor } from './helpers.js';

afterEach(quitAll);

const decode = (url: string | undefined): string => decodeURIComponent((url ?? '').slice((url ?? '').indexOf(',') + 1));

describe('startup', () => {
  it('shows a starting screen, then the renderer served by the backend, with tray and shortcut', async () => {
    const l = await launch();
    const win = l.fake.window(MAIN_TITLE)!;
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, preload: '/app/dist/electron/preload/index.cjs' });
    expect(win.loaded[0]).toMatch(/^data:text\/html/);
    expect(decode(win.loaded[0])).toContain('Starting the assistant');
    await waitFor(() => win.lastUrl === `${backendUrl(l)}/`, 'the renderer to load');
    // Every webContents is hardened as it is created.
    expect(win.webContents.windowOpenHandler).not.toBeNull();
    expect(win.webContents.navigate('https://example.com/')).toBe(true);
    expect(win.webContents.navigate(`${backendUrl(l)}/#/chat`)).toBe(false);
    // The session answers with the CSP of the live backend and denies permissions.
    const headers = l.fake.session.defaultSession.respond(`${backendUrl(l)}/`);
    expect(String(headers?.['Content-Security-Policy'])).toContain(`connect-src ${backendUrl(l)} ${backendUrl(l).replace('http', 'ws')}`);
    expect(await l.fake.session.defaultSession.request('media')).toBe(false);
    // Tray and shortcut.
    const tray = l.fake.trays[0]!;
    expect(tray.item('status')?.label).toBe('Running');
    expect(tray.item('quick-ask')).toMatchObject({ enabled: true, accelerator: 'CommandOrControl+Shift+Space' });
    expect(tray.item('pause-model')?.enabled).toBe(true);
    expect(tray.item('quit')).toBeDefined();
    expect(l.fake.globalShortcut.shortcuts.has('CommandOrControl+Shift+Space')).toBe(true);
  });

  it('gives the token only to pages on the backend origin, and validates notifications', async () => {
    const l = await launch();
    const base = backendUrl(l);
    const info = await l.fake.ipcMain.invoke(CHANNELS.getBackend, { url: `${base}/#/chat` });
    expect(info).toEqual({ baseUrl: base, wsUrl: base.replace('http', 'ws'), token: l.desktop.supervisor!.token });
    for (const url of ['https://evil.example/', 'data:text/html,hi', 'http://localhost:1/', `${base.replace('127.0.0.1', 'localhost')}/`]) {
      await expect(l.fake.ipcMain.invoke(CHANNELS.getBackend, { url })).rejects.toThrow(/not on the backend origin/);
    }
    await l.fake.ipcMain.invoke(CHANNELS.notify, { url: `${base}/` }, { title: 'Timer', body: 'Done' });
    expect(l.fake.notifications.at(-1)?.options).toEqual({ title: 'Timer', body: 'Done' });
    await expect(l.fake.ipcMain.invoke(CHANNELS.notify, { url: `${base}/` }, { title: '', body: 'x' })).rejects.toThrow(/invalid notification/);
    await expect(l.fake.ipcMain.invoke(CHANNELS.notify, { url: `${base}/` }, { title: 'x', body: 'y', html: '<b>' })).rejects.toThrow(/invalid notification/);
    await expect(l.fake.ipcMain.invoke(CHANNELS.notify, { url: 'https://evil.example/' }, { title: 'x', body: 'y' })).rejects.toThrow(/not on the backend origin/);
  });

  it('opens the native folder dialog over the calling window, for backend pages only', async () => {
    const l = await launch();
    const base = backendUrl(l);
    const win = l.fake.window(MAIN_TITLE)!;
    const from = { url: `${base}/#/music`, sender: win.webContents };
    l.fake.openDialogAnswers.push('/home/me/Music', null);
    expect(await l.fake.ipcMain.invoke(CHANNELS.chooseFolder, from, { title: 'Add a music folder' })).toEqual({ path: '/home/me/Music' });
    expect(l.fake.openDialogs[0]!.window).toBe(win);
    expect(l.fake.openDialogs[0]!.options).toMatchObject({ title: 'Add a music folder', properties: expect.arrayContaining(['openDirectory']) });
    // Cancel answers null; no title gives a default one.
    expect(await l.fake.ipcMain.invoke(CHANNELS.chooseFolder, from, {})).toBeNull();
    expect(l.fake.openDialogs[1]!.options.title).toBe('Choose a folder');
    // Refused: another origin, a malformed request, a sender that is no Westfall window. No dialog opens.
    await expect(l.fake.ipcMain.invoke(CHANNELS.chooseFolder, { url: 'https://evil.example/', sender: win.webContents }, {})).rejects.toThrow(/not on the backend origin/);
    await expect(l.fake.ipcMain.invoke(CHANNELS.chooseFolder, from, { title: 'x', defaultPath: '/etc' })).rejects.toThrow(/invalid folder request/);
    await expect(l.fake.ipcMain.invoke(CHANNELS.chooseFolder, from, { title: 'x'.repeat(121) })).rejects.toThrow(/invalid folder request/);
    await expect(l.fake.ipcMain.invoke(CHANNELS.chooseFolder, { url: `${base}/` }, {})).rejects.toThrow(/not a Westfall window/);
    expect(l.fake.openDialogs).toHaveLength(2);
  });

  it('reports a quick-ask shortcut that another app holds', async () => {
    const l = await launch({ fakeOptions: { takenShortcuts: ['Alt+Space'] }, shortcut: 'Alt+Space' });
    expect(l.fake.notifications.map((n) => n.options.title)).toContain('Quick-ask shortcut unavailable');
    expect(l.fake.globalShortcut.shortcuts.size).toBe(0);
  });

  it('opens and hides the quick-ask window with the shortcut', async () => {
    const l = await launch({ shortcut: 'Control+Alt+K' });
    l.fake.globalShortcut.trigger('Control+Alt+K');
    const quick = l.fake.window(QUICK_TITLE)!;
    expect(quick.options).toMatchObject({ frame: false, alwaysOnTop: true });
    expect(quick.lastUrl).toBe(`${backendUrl(l)}/#/quick`);
    expect(quick.isVisible() && quick.isFocused()).toBe(true);
    expect(quick.position).toEqual([640, 270]);
    l.fake.globalShortcut.trigger('Control+Alt+K');
    expect(quick.isVisible()).toBe(false);
    l.fake.globalShortcut.trigger('Control+Alt+K');
    expect(quick.isVisible()).toBe(true);
    expect(quick.webContents.sent).toEqual([[CHANNELS.quickAsk, { text: '' }]]);
    quick.emit('blur');
    expect(quick.isVisible()).toBe(false);
  });

  it('keeps running in the tray when the window is closed', async () => {
    const l = await launch();
    const win = l.fake.window(MAIN_TITLE)!;
    win.close();
    win.close();
    expect(win.isDestroyed()).toBe(false);
    expect(win.isVisible()).toBe(false);
    expect(l.fake.notifications.filter((n) => n.options.title === 'Westfall Assistant is still running')).toHaveLength(1);
    expect(l.fake.app.quitCount).toBe(0);
    l.fake.trays[0]!.click('open');
    expect(win.isVisible() && win.isFocused()).toBe(true);
  });
});

describe('backend crashes', () => {
  it('restarts a crashed backend, tells the user, and reloads the window', async () => {
    const l = await launch({ backend: { backoffBaseMs: 200 } });
    const win = l.fake.window(MAIN_TITLE)!;
    const base = backendUrl(l);
    await waitFor(() => win.lastUrl === `${base}/`, 'the renderer');
    const pid = l.desktop.supervisor!.pid;
    await fetch(`${base}/__crash`, { method: 'POST', headers: { authorization: `Bearer ${l.desktop.supervisor!.token}` } });
    const crashNote = await waitFor(() => l.fake.notifications.find((n) => /engine stopped unexpectedly/.test(n.options.title)), 'the crash notification');
    expect(crashNote.options.body).toBe('Restarting it in 1 s (attempt 2 of 4).');
    expect(decode(win.lastUrl)).toContain('restarting');
    await waitFor(() => l.fake.notifications.find((n) => n.options.title === 'The assistant is running again'), 'the recovery notification');
    await waitFor(() => win.lastUrl === `${backendUrl(l)}/`, 'the renderer to reload');
    expect(l.desktop.supervisor!.pid).not.toBe(pid);
    expect(isAlive(pid)).toBe(false);
    expect(l.fake.trays[0]!.item('status')?.label).toBe('Running');
  });

  it('shows the error screen after repeated failures and retries from the tray', async () => {
    const l = await launch({ backendEnv: { FAKE_FAIL_FIRST: 3 }, backend: { maxRestarts: 3, backoffBaseMs: 30 }, waitReady: false });
    const win = l.fake.window(MAIN_TITLE)!;
    await waitFor(() => l.desktop.supervisor!.state === 'failed', 'the supervisor to give up');
    const html = decode(win.lastUrl);
    expect(html).toContain('The assistant’s engine could not start'.replace('’', "'"));
    expect(html).toContain('failed 3 times in a row');
    expect(html).toContain('simulated startup failure');
    expect(html).not.toContain(l.desktop.supervisor!.token);
    expect(html).not.toMatch(/<script/i);
    expect(win.isVisible()).toBe(true);
    expect(l.fake.notifications.map((n) => n.options.title)).toContain('Westfall Assistant could not start');
    const tray = l.fake.trays[0]!;
    expect(tray.item('status')?.label).toBe('Engine failed to start');
    expect(tray.item('quick-ask')?.enabled).toBe(false);
    tray.click('retry');
    await waitFor(() => l.desktop.supervisor!.state === 'ready', 'the retried backend');
    await waitFor(() => win.lastUrl === `${backendUrl(l)}/`, 'the renderer');
    expect(tray.item('retry')).toBeUndefined();
  });
});

describe('tray', () => {
  it('pauses and resumes the model through the backend', async () => {
    const l = await launch();
    const tray = l.fake.trays[0]!;
    tray.click('pause-model');
    await waitFor(() => tray.item('resume-model'), 'the resume item');
    expect(l.fake.notifications.at(-1)?.options).toEqual({ title: 'Model paused', body: 'tiny-qwen2.gguf was unloaded to free memory.' });
    tray.click('resume-model');
    await waitFor(() => tray.item('pause-model')?.enabled, 'the pause item');
    expect(l.fake.notifications.at(-1)?.options.title).toBe('Model resumed');
    const requests = l.backend.events().filter((e) => e.startsWith('request POST'));
    expect(requests).toEqual(['request POST /api/models/unload', 'request POST /api/models/load {"fileName":"tiny-qwen2.gguf"}']);
  });

  it('says so when there is no model to pause', async () => {
    const l = await launch();
    const tray = l.fake.trays[0]!;
    tray.click('pause-model');
    await waitFor(() => tray.item('resume-model'), 'paused');
    // Unload behind the tray's back is not possible here; pausing twice is: the first pause emptied it.
    tray.click('resume-model');
    await waitFor(() => tray.item('pause-model'), 'resumed');
    await fetch(`${backendUrl(l)}/api/models/unload`, { method: 'POST', headers: { authorization: `Bearer ${l.desktop.supervisor!.token}` } });
    tray.click('pause-model');
    await waitFor(() => l.fake.notifications.find((n) => n.options.title === 'Could not pause the model'), 'the error notification');
    expect(l.fake.notifications.at(-1)?.options.body).toBe('No model is loaded.');
  });

  it('quits through the tray', async () => {
    const l = await launch();
    l.fake.trays[0]!.click('quit');
    await l.desktop.quitDone;
    expect(l.fake.app.quitted).toBe(true);
  });
});

describe('notifications from the backend', () => {
  it('announces a finished download (SSE)', async () => {
    const l = await launch({ backendEnv: { FAKE_DOWNLOAD_MS: 400 }, sources: [downloadsSource({ pollMs: 100 })] });
    const note = await waitFor(() => l.fake.notifications.find((n) => n.options.title === 'Model downloaded'), 'the download notification');
    expect(note.options.body).toBe('new-model.gguf is downloaded and verified.');
    await new Promise((r) => setTimeout(r, 300));
    expect(l.fake.notifications.filter((n) => n.options.title === 'Model downloaded')).toHaveLength(1);
    expect(l.backend.events()).toContain('request GET /api/models/downloads/d1/events');
  });
});

describe('quit', () => {
  it('stops accepting UI, then stops the backend gracefully, then quits', async () => {
    const l = await launch({ backendEnv: { FAKE_SHUTDOWN_MS: 300 }, shortcut: 'Control+Alt+K' });
    l.fake.globalShortcut.trigger('Control+Alt+K'); // a quick-ask window exists too
    const supervisor = l.desktop.supervisor!;
    const pid = supervisor.pid;
    supervisor.on('state', (s) => l.fake.calls.push(`backend.${s}`));
    supervisor.on('stopped', (r) => l.fake.calls.push(`backend.exit(${r.code}, graceful=${r.graceful})`));
    const mark = l.fake.calls.length;
    l.fake.app.quit();
    expect(l.fake.app.quitted).toBe(false); // the first quit is held back
    await l.desktop.quitDone;
    const calls = l.fake.calls.slice(mark);
    expect(calls[0]).toBe('app.quit');
    const at = (c: string) => {
      const i = calls.indexOf(c);
      expect(i, c).toBeGreaterThanOrEqual(0);
      return i;
    };
    const uiClosed = Math.max(
      at('globalShortcut.unregisterAll'),
      at(`ipc.removeHandler(${CHANNELS.getBackend})`),
      at('tray.destroy'),
      at(`window.destroy(${QUICK_TITLE})`),
      at(`window.destroy(${MAIN_TITLE})`),
    );
    expect(uiClosed).toBeLessThan(at('backend.stopping'));
    expect(at('backend.stopping')).toBeLessThan(at('backend.exit(0, graceful=true)'));
    expect(at('backend.exit(0, graceful=true)')).toBeLessThan(calls.lastIndexOf('app.quit'));
    expect(calls.at(-1)).toBe('app.quitted');
    expect(l.desktop.shutdownSteps).toEqual(['ui-closed', 'backend-stopped', 'app-quit']);
    expect(l.backend.events().slice(-2)).toEqual([`sigterm ${pid}`, `exit ${pid} 0`]);
    expect(isAlive(pid)).toBe(false);
    expect(l.fake.ipcMain.handlers.size).toBe(0);
  });

  it('kills a backend that does not stop in time, and still quits', async () => {
    const l = await launch({ backendEnv: { FAKE_MODE: 'ignore-sigterm' }, backend: { stopTimeoutMs: 300 } });
    const pid = l.desktop.supervisor!.pid;
    l.fake.app.quit();
    await l.desktop.quitDone;
    expect(l.fake.app.quitted).toBe(true);
    expect(isAlive(pid)).toBe(false);
    expect(l.logs.some((line) => line.includes('backend ignored SIGTERM'))).toBe(true);
  });

  it('quits cleanly while the backend is still restarting', async () => {
    const l = await launch({ backendEnv: { FAKE_MODE: 'exit' }, backend: { backoffBaseMs: 5000 }, waitReady: false });
    await waitFor(() => l.desktop.supervisor!.state === 'restarting', 'a restart to be pending');
    const t0 = Date.now();
    l.fake.app.quit();
    await l.desktop.quitDone;
    // Not waiting out the 5 s backoff is the point; anything well under it passes, also on a busy machine.
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(l.backend.events().filter((e) => e.startsWith('start'))).toHaveLength(1);
  });
});
