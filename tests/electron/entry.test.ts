// The real entry, compiled (dist/electron/main/index.js), with `electron` replaced by the fake: it must find
// the compiled CLI, start the real `westfall serve` with the tiny model, show it in the window, pause and
// resume the model from the tray, and shut everything down on quit.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../../electron/shared/contract.js';
import { MAIN_TITLE } from './app-harness.js';
import { createFakeElectron } from './fake-electron.js';
import { isAlive, repoRoot, waitFor } from './helpers.js';

const cli = join(repoRoot, 'dist', 'cli', 'index.js');
const modelsDir = join(repoRoot, 'models');
const ready = existsSync(cli) && existsSync(join(modelsDir, 'tiny-qwen2.gguf'));

describe.skipIf(!ready)('dist/electron/main/index.js with the real backend', () => {
  const fake = createFakeElectron();
  const saved = { ...process.env };

  beforeAll(() => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'electron', 'build.mjs')], { cwd: repoRoot, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`electron/build.mjs failed:\n${r.stdout}\n${r.stderr}`);
    Object.assign(process.env, {
      WESTFALL_BACKEND_NODE: process.execPath, // as `npm start` sets it
      WESTFALL_DATA_DIR: mkdtempSync(join(tmpdir(), 'westfall-entry-')),
      WESTFALL_MODELS_DIR: modelsDir,
      WESTFALL_MODEL: join(modelsDir, 'tiny-qwen2.gguf'),
      WESTFALL_CONTEXT_SIZE: '256',
      WESTFALL_PARALLEL: '1',
      WESTFALL_LOG_FILE: 'false',
      WESTFALL_LOG_LEVEL: 'warn',
      WESTFALL_QUICK_ASK_SHORTCUT: 'Control+Alt+W',
    });
  }, 120_000);
  afterAll(() => {
    process.env = saved;
    vi.doUnmock('electron');
  });

  it('runs the desktop app end to end', async () => {
    vi.doMock('electron', () => fake);
    await import(pathToFileURL(join(repoRoot, 'dist', 'electron', 'main', 'index.js')).href);
    fake.ready();
    const win = await waitFor(() => fake.window(MAIN_TITLE), 'the main window');
    expect(win.options.webPreferences?.preload).toBe(join(repoRoot, 'dist', 'electron', 'preload', 'index.cjs'));
    expect(existsSync(win.options.webPreferences!.preload!)).toBe(true);
    const base = await waitFor(() => (win.lastUrl?.startsWith('http://127.0.0.1:') ? win.lastUrl.replace(/\/$/, '') : null), 'the backend page', 60_000);
    const info = (await fake.ipcMain.invoke(CHANNELS.getBackend, { url: `${base}/` })) as { token: string };
    expect((await fetch(`${base}/api/system`, { headers: { authorization: `Bearer ${info.token}` } })).status).toBe(200);
    expect(fake.globalShortcut.shortcuts.has('Control+Alt+W')).toBe(true);
    // The page the window shows is the backend's renderer (when it is built).
    if (existsSync(join(repoRoot, 'dist', 'renderer', 'index.html'))) {
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<wf-app>');
    }
    // Pause and resume the real model from the tray.
    const auth = { authorization: `Bearer ${info.token}` };
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await fetch(`${base}/health/ready`)).status !== 200) await new Promise((r) => setTimeout(r, 100));
    const tray = fake.trays[0]!;
    tray.click('pause-model');
    await waitFor(() => fake.notifications.find((n) => n.options.title === 'Model paused'), 'the model to be paused', 30_000);
    expect((await fetch(`${base}/health/ready`)).status).toBe(503);
    tray.click('resume-model');
    await waitFor(() => fake.notifications.find((n) => n.options.title === 'Model resumed'), 'the model to be resumed', 30_000);
    const models = (await (await fetch(`${base}/api/models`, { headers: auth })).json()) as { loaded: { state: string } | null };
    expect(models.loaded?.state).toBe('ready');
    // Quit: the backend stops gracefully before the app quits.
    const pid = Number((await (await fetch(`${base}/api/system`, { headers: auth })).json() as { process?: { pid?: number } }).process?.pid ?? 0);
    fake.app.quit();
    await waitFor(() => fake.app.quitted, 'the app to quit', 30_000);
    await expect(fetch(`${base}/health`)).rejects.toThrow();
    if (pid) expect(isAlive(pid)).toBe(false);
    expect(fake.calls.filter((c) => c.startsWith('app.'))).toEqual(['app.quit', 'app.quit', 'app.quitted']);
  }, 120_000);
});
