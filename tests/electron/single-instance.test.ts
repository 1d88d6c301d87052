// Single instance: a second launch hands its arguments to the first and quits; the first focuses its window
// or opens the quick-ask window with the forwarded text.
import { afterEach, describe, expect, it } from 'vitest';
import { acquireSingleInstance, ownArgs, parseDesktopArgs } from '../../electron/main/single-instance.js';
import { CHANNELS } from '../../electron/shared/contract.js';
import { MAIN_TITLE, QUICK_TITLE, backendUrl, launch, quitAll } from './app-harness.js';
import { createFakeElectron, FakeEvent, type LockRegistry } from './fake-electron.js';
import { waitFor } from './helpers.js';

afterEach(quitAll);

describe('arguments', () => {
  it('parses --quick-ask and --hidden', () => {
    expect(parseDesktopArgs([])).toEqual({ hidden: false });
    expect(parseDesktopArgs(['--quick-ask', 'what is 2+2'])).toEqual({ hidden: false, quickAsk: 'what is 2+2' });
    expect(parseDesktopArgs(['--quick-ask=hello world', '--hidden'])).toEqual({ hidden: true, quickAsk: 'hello world' });
    expect(parseDesktopArgs(['--quick-ask'])).toEqual({ hidden: false, quickAsk: '' });
    expect(parseDesktopArgs(['--quick-ask', '--hidden'])).toEqual({ hidden: true, quickAsk: '' });
    expect(parseDesktopArgs(['--quick-ask', 'x'.repeat(5000)]).quickAsk).toHaveLength(4000);
    expect(ownArgs(['/usr/bin/electron', 'dist/electron/main/index.js', '--hidden'], false)).toEqual(['--hidden']);
    expect(ownArgs(['/opt/Westfall/westfall', '--hidden'], true)).toEqual(['--hidden']);
  });

  it('hands the raw arguments over as additionalData, and falls back to the argv Chromium passes', () => {
    const lock: LockRegistry = { holder: null };
    const first = createFakeElectron({ lock });
    const received: unknown[] = [];
    expect(acquireSingleInstance(first.app, { args: [], onSecondInstance: (a) => received.push(a) })).toBe(true);
    const second = createFakeElectron({ lock });
    expect(acquireSingleInstance(second.app, { args: ['--quick-ask', 'hi there'], onSecondInstance: () => undefined })).toBe(false);
    expect(second.app.lockData).toEqual({ argv: ['--quick-ask', 'hi there'] });
    // Without (or with bad) additionalData, the argv of the event is used.
    first.app.emit('second-instance', new FakeEvent(), ['/opt/westfall', '--quick-ask=from argv'], '/', undefined);
    first.app.emit('second-instance', new FakeEvent(), ['/opt/westfall', '--hidden'], '/', { argv: 'not an array' });
    expect(received).toEqual([
      { hidden: false, quickAsk: 'hi there' },
      { hidden: false, quickAsk: 'from argv' },
      { hidden: true },
    ]);
  });
});

describe('a second launch', () => {
  it('quits at once and focuses the first instance’s window', async () => {
    const lock: LockRegistry = { holder: null };
    const first = await launch({ fakeOptions: { lock } });
    const win = first.fake.window(MAIN_TITLE)!;
    win.minimize();
    win.hide();
    const second = await launch({ fake: createFakeElectron({ lock }), waitReady: false });
    expect(second.desktop.primary).toBe(false);
    expect(second.fake.calls).toEqual(['app.quit', 'app.quitted']);
    expect(second.fake.windows).toHaveLength(0);
    expect(second.backend.events()).toEqual([]); // no second backend
    expect(win.isVisible()).toBe(true);
    expect(win.isMinimized()).toBe(false);
    expect(win.isFocused()).toBe(true);
    expect(first.fake.windows).toHaveLength(1);
  });

  it('passes --quick-ask "text" on to the quick-ask window of the first instance', async () => {
    const lock: LockRegistry = { holder: null };
    const first = await launch({ fakeOptions: { lock } });
    const base = backendUrl(first);
    await launch({ fake: createFakeElectron({ lock }), args: ['--quick-ask', 'summarize my day'], waitReady: false });
    const quick = first.fake.window(QUICK_TITLE)!;
    expect(quick).toBeDefined();
    expect(quick.lastUrl).toBe(`${base}/#/quick`);
    expect(quick.isVisible() && quick.isFocused()).toBe(true);
    // The page takes the pending text once it subscribes (window.westfall.onQuickAsk).
    const take = () => first.fake.ipcMain.invoke(CHANNELS.takeQuickAsk, { url: `${base}/#/quick`, sender: quick.webContents });
    expect(await take()).toEqual({ text: 'summarize my day' });
    expect(await take()).toBeNull();
    // A later launch while the page is loaded is sent straight to it.
    await launch({ fake: createFakeElectron({ lock }), args: ['--quick-ask=and tomorrow?'], waitReady: false });
    expect(quick.webContents.sent).toEqual([[CHANNELS.quickAsk, { text: 'and tomorrow?' }]]);
    expect(first.fake.windows.filter((w) => w.options.title === QUICK_TITLE)).toHaveLength(1);
  });

  it('keeps a quick-ask that arrives before the backend is ready until it is', async () => {
    const lock: LockRegistry = { holder: null };
    const first = await launch({ fakeOptions: { lock }, backendEnv: { FAKE_FAIL_FIRST: 1 }, backend: { backoffBaseMs: 300 }, waitReady: false });
    await launch({ fake: createFakeElectron({ lock }), args: ['--quick-ask', 'early'], waitReady: false });
    expect(first.fake.window(QUICK_TITLE)).toBeUndefined();
    const quick = await waitFor(() => first.fake.window(QUICK_TITLE), 'the quick-ask window');
    expect(quick.lastUrl).toBe(`${backendUrl(first)}/#/quick`);
    expect(await first.fake.ipcMain.invoke(CHANNELS.takeQuickAsk, { url: quick.lastUrl!, sender: quick.webContents })).toEqual({ text: 'early' });
  });

  it('honours --quick-ask and --hidden on the first launch too', async () => {
    const first = await launch({ args: ['--hidden', '--quick-ask', 'hi'] });
    expect(first.fake.window(MAIN_TITLE)).toBeUndefined();
    await waitFor(() => first.fake.window(QUICK_TITLE), 'the quick-ask window');
  });
});
