// The preload's exposed surface (window.westfall), loaded with a fake contextBridge and ipcRenderer: the
// module itself (with electron mocked), the API factory, and the bundled dist/electron/preload/index.cjs run
// the way a sandboxed preload is (only require('electron') available).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { createWestfallApi, type IpcRendererLike } from '../../electron/preload/api.js';
import { CHANNELS } from '../../electron/shared/contract.js';
import { repoRoot } from './helpers.js';

type Listener = (event: unknown, ...args: unknown[]) => void;

function fakeIpc(answers: Record<string, unknown> = {}) {
  const invoked: [string, ...unknown[]][] = [];
  const listeners = new Map<string, Set<Listener>>();
  const ipc: IpcRendererLike & { emit(channel: string, payload: unknown): void; invoked: typeof invoked; listeners: typeof listeners } = {
    invoked,
    listeners,
    async invoke(channel: string, ...args: unknown[]) {
      invoked.push([channel, ...args]);
      return answers[channel] ?? null;
    },
    on(channel: string, l: Listener) {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(l);
    },
    removeListener(channel: string, l: Listener) {
      listeners.get(channel)?.delete(l);
    },
    emit(channel: string, payload: unknown) {
      for (const l of listeners.get(channel) ?? []) l({ senderId: 0, ports: [], sender: 'IpcRendererEvent' }, payload);
    },
  };
  return ipc;
}

const BACKEND = { baseUrl: 'http://127.0.0.1:8756', wsUrl: 'ws://127.0.0.1:8756', token: 'a'.repeat(43) };
const ARGV = ['/opt/electron', '--type=renderer', '--westfall-app-version=0.1.0'];

describe('window.westfall', () => {
  it('exposes exactly appVersion, getBackend, onQuickAsk, notify and chooseFolder, frozen', () => {
    const api = createWestfallApi(fakeIpc(), ARGV);
    expect(Object.keys(api).sort()).toEqual(['appVersion', 'chooseFolder', 'getBackend', 'notify', 'onQuickAsk']);
    expect(Object.isFrozen(api)).toBe(true);
    expect(api.appVersion).toBe('0.1.0');
  });

  it('reads the app version from its argument, and refuses a malformed one', () => {
    expect(createWestfallApi(fakeIpc(), ['--westfall-app-version=2.3.4-beta.1']).appVersion).toBe('2.3.4-beta.1');
    expect(createWestfallApi(fakeIpc(), ['--westfall-app-version=<script>']).appVersion).toBe('0.0.0');
    expect(createWestfallApi(fakeIpc(), []).appVersion).toBe('0.0.0');
  });

  it('getBackend returns the validated address and token', async () => {
    const ipc = fakeIpc({ [CHANNELS.getBackend]: BACKEND });
    const api = createWestfallApi(ipc, ARGV);
    expect(await api.getBackend()).toEqual(BACKEND);
    expect(ipc.invoked).toEqual([[CHANNELS.getBackend]]);
  });

  it('getBackend rejects an answer that is not a loopback address with a token', async () => {
    for (const bad of [
      null,
      { ...BACKEND, baseUrl: 'http://evil.example:80' },
      { ...BACKEND, token: 'short' },
      { ...BACKEND, extra: 1 },
      { ...BACKEND, wsUrl: 'wss://127.0.0.1:8756' },
    ]) {
      await expect(createWestfallApi(fakeIpc({ [CHANNELS.getBackend]: bad }), ARGV).getBackend()).rejects.toThrow(/unexpected answer/);
    }
  });

  it('notify validates the title and body before anything reaches the main process', async () => {
    const ipc = fakeIpc();
    const api = createWestfallApi(ipc, ARGV);
    await api.notify('  Reminder  ', 'Stand up');
    expect(ipc.invoked).toEqual([[CHANNELS.notify, { title: 'Reminder', body: 'Stand up' }]]);
    const bad: [unknown, unknown][] = [
      ['', 'x'],
      ['   ', 'x'],
      ['t'.repeat(121), 'x'],
      ['ok', 'b'.repeat(1001)],
      [42, 'x'],
      ['ok', { toString: () => 'x' }],
      [undefined, undefined],
    ];
    for (const [title, body] of bad) {
      await expect(api.notify(title as string, body as string)).rejects.toThrow(TypeError);
    }
    expect(ipc.invoked).toHaveLength(1);
  });

  it('chooseFolder sends a validated request and returns the path, or null when cancelled', async () => {
    const ipc = fakeIpc({ [CHANNELS.chooseFolder]: { path: '/home/me/Music' } });
    const api = createWestfallApi(ipc, ARGV);
    expect(await api.chooseFolder({ title: 'Add a music folder' })).toBe('/home/me/Music');
    expect(await api.chooseFolder()).toBe('/home/me/Music');
    expect(ipc.invoked).toEqual([
      [CHANNELS.chooseFolder, { title: 'Add a music folder' }],
      [CHANNELS.chooseFolder, {}],
    ]);
    // Cancelled (the main process answers null).
    expect(await createWestfallApi(fakeIpc(), ARGV).chooseFolder()).toBeNull();
    // A bad request never reaches the main process; a malformed answer is not handed to the page.
    await expect(api.chooseFolder({ title: 't'.repeat(121) })).rejects.toThrow(TypeError);
    await expect(api.chooseFolder({ defaultPath: '/etc' } as never)).rejects.toThrow(TypeError);
    expect(ipc.invoked).toHaveLength(2);
    for (const answer of [{ path: '' }, { path: '/x', extra: 1 }, '/x', 42]) {
      await expect(createWestfallApi(fakeIpc({ [CHANNELS.chooseFolder]: answer }), ARGV).chooseFolder()).rejects.toThrow(/unexpected answer/);
    }
  });

  it('onQuickAsk delivers only validated { text } and unsubscribes', async () => {
    const ipc = fakeIpc({ [CHANNELS.takeQuickAsk]: { text: 'waiting since launch' } });
    const api = createWestfallApi(ipc, ARGV);
    const got: unknown[] = [];
    const off = api.onQuickAsk((e) => got.push(e));
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([{ text: 'waiting since launch' }]); // the pending one, taken once subscribed
    ipc.emit(CHANNELS.quickAsk, { text: 'hello' });
    ipc.emit(CHANNELS.quickAsk, { text: 'x'.repeat(5000) });
    ipc.emit(CHANNELS.quickAsk, { text: 1 });
    ipc.emit(CHANNELS.quickAsk, { text: 'a', evil: true });
    ipc.emit(CHANNELS.quickAsk, 'hello');
    expect(got).toEqual([{ text: 'waiting since launch' }, { text: 'hello' }]);
    off();
    ipc.emit(CHANNELS.quickAsk, { text: 'after' });
    expect(got).toHaveLength(2);
    expect(ipc.listeners.get(CHANNELS.quickAsk)?.size).toBe(0);
    expect(() => api.onQuickAsk('nope' as unknown as () => void)).toThrow(TypeError);
  });

  it('never hands the IpcRendererEvent to the page', () => {
    const ipc = fakeIpc();
    const api = createWestfallApi(ipc, ARGV);
    const seen: unknown[][] = [];
    api.onQuickAsk((...args: unknown[]) => seen.push(args));
    ipc.emit(CHANNELS.quickAsk, { text: 'hi' });
    expect(seen).toEqual([[{ text: 'hi' }]]);
  });
});

describe('electron/preload/index.ts (electron mocked)', () => {
  it('exposes the API as window.westfall through contextBridge', async () => {
    const exposed: Record<string, unknown> = {};
    vi.doMock('electron', () => ({
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (exposed[key] = api) },
      ipcRenderer: fakeIpc(),
    }));
    await import('../../electron/preload/index.js');
    expect(Object.keys(exposed)).toEqual(['westfall']);
    expect(Object.keys(exposed.westfall as object).sort()).toEqual(['appVersion', 'chooseFolder', 'getBackend', 'notify', 'onQuickAsk']);
    vi.doUnmock('electron');
  });
});

describe('the bundled preload (dist/electron/preload/index.cjs)', () => {
  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'electron', 'build.mjs')], { cwd: repoRoot, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`electron/build.mjs failed:\n${r.stdout}\n${r.stderr}`);
  }, 120_000);

  it('needs nothing but electron (as a sandboxed preload) and validates with the bundled zod', async () => {
    const code = readFileSync(join(repoRoot, 'dist', 'electron', 'preload', 'index.cjs'), 'utf8');
    const exposed: Record<string, unknown> = {};
    const ipc = fakeIpc({ [CHANNELS.getBackend]: BACKEND });
    const required: string[] = [];
    const sandboxRequire = (name: string) => {
      required.push(name);
      if (name === 'electron') return { contextBridge: { exposeInMainWorld: (k: string, v: unknown) => (exposed[k] = v) }, ipcRenderer: ipc };
      throw new Error(`module not found: ${name} (sandboxed preloads cannot load it)`);
    };
    const module = { exports: {} };
    runInNewContext(code, { require: sandboxRequire, module, exports: module.exports, process: { argv: ARGV } });
    expect(required).toEqual(['electron']);
    const api = exposed.westfall as { appVersion: string; getBackend(): Promise<unknown>; notify(t: unknown, b: unknown): Promise<void> };
    expect(api.appVersion).toBe('0.1.0');
    expect(await api.getBackend()).toEqual(BACKEND);
    await expect(api.notify('', 'x')).rejects.toThrow(/title must not be empty/);
    await expect((api as unknown as { chooseFolder(o: unknown): Promise<unknown> }).chooseFolder({ title: 't'.repeat(121) })).rejects.toThrow(/at most 120/);
    expect(readFileSync(join(repoRoot, 'dist', 'electron', 'preload', 'index.cjs')).length).toBeLessThan(64 * 1024);
  });
});
