// The time and music screens that used to be API-only, end to end in Chromium: a time entry edited in place
// and deleted (with undo), a project's hourly rate set in the UI and the report's billable amount following
// it; music folders added by typing "~/..." and a path relative to the home folder (HOME of the backend is
// a temp dir, and a folder that does not exist is refused with a clear message), and a playlist created,
// filled with real WAV files, reordered, renamed, played and deleted. As the desktop app's page (a preload
// API stand-in: the main process's side is tests/electron), "Choose folder…" adds what the dialog picked. The backend is createApp in-process
// with the tool plugins and a real SQLite file; no model is needed.
import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerPlugin } from '../../src/server/index.js';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import { createToolServices, type ToolServices } from '../../src/tools/index.js';
import type { PlayerState, PlaylistWithTracks } from '../../src/tools/music/types.js';
import type { TimeEntry } from '../../src/tools/time/types.js';
import { writeWav } from '../tools/helpers.js';
import { HAVE_CHROMIUM, TOKEN, buildRenderer, goTo, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 180_000;
const POLL = { timeout: 30_000 };

describe.skipIf(!HAVE_CHROMIUM)('time and music screens', () => {
  let server: InProcessServer;
  let services: ToolServices;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  const data = tempDir();
  const home = tempDir('westfall-e2e-home-');
  const savedHome = process.env.HOME;

  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.config.apiToken}` } });
    return (await r.json()) as T;
  };
  /** Whether a view is wider than its box (something in it does not shrink to the window). */
  const overflow = (tag: string) =>
    page.evaluate((t) => {
      const view = document.querySelector('wf-app')?.shadowRoot?.querySelector(t)?.shadowRoot?.querySelector('.view');
      return !view || view.scrollWidth > view.clientWidth + 1;
    }, tag);
  const money = (amount: number, currency: string) => page.evaluate(([a, c]) => new Intl.NumberFormat(undefined, { style: 'currency', currency: c as string }).format(a as number), [amount, currency] as const);

  beforeAll(async () => {
    buildRenderer();
    services = createToolServices(data.dir);
    const plugins = createToolPlugins(services, { heartbeatMs: 1000 }) as unknown as ServerPlugin[];
    server = await startInProcess({ plugins, settings: { WESTFALL_DATA_DIR: data.dir } });
    browser = await launchBrowser();
    probe = await openPage(browser, { origin: server.url });
    page = probe.page;
    await login(page, server.loginUrl());
    // The backend runs in this process: its home directory (os.homedir()) is $HOME from here on.
    process.env.HOME = home.dir;
  }, T);

  afterAll(async () => {
    process.env.HOME = savedHome;
    await probe?.close();
    await browser?.close();
    await server?.close();
    services?.close();
    data.cleanup();
    home.cleanup();
  }, T);

  it('time: edits an entry in place, deletes one with undo, and bills hours × the rate set in the UI', async () => {
    await goTo(page, 'time', 'Time');
    await page.getByRole('textbox', { name: 'Project name' }).fill('Garden');
    await page.getByRole('textbox', { name: 'Hourly rate', exact: true }).fill('85.50');
    await page.getByRole('textbox', { name: 'Currency', exact: true }).fill('EUR');
    await page.getByRole('button', { name: 'Add project' }).click();
    await page.getByRole('textbox', { name: 'Hourly rate of Garden' }).waitFor();
    expect(await page.getByRole('textbox', { name: 'Hourly rate of Garden' }).inputValue()).toBe('85.50');

    // Two hours by hand, then edited: 1:30 and a new note; the start keeps its time.
    const entries = page.locator('[data-testid="time-entries"]');
    for (const [hours, note] of [['2', 'Planting'], ['0.5', 'Weeding']]) {
      await page.getByRole('textbox', { name: 'Hours' }).fill(hours!);
      await page.getByRole('textbox', { name: 'Description' }).fill(note!);
      await page.getByRole('button', { name: 'Add entry' }).click();
      await entries.getByText(note!).waitFor();
    }
    const before = (await get<{ entries: TimeEntry[] }>('/api/time/entries')).entries.find((e) => e.description === 'Planting')!;
    await page.getByRole('button', { name: 'Edit entry Planting' }).click();
    const editor = page.getByRole('form', { name: 'Edit entry' });
    expect(await editor.getByRole('textbox', { name: 'Duration' }).inputValue()).toBe('2:00');
    await editor.getByRole('textbox', { name: 'Duration' }).fill('1:30');
    await editor.getByRole('textbox', { name: 'Note' }).fill('Planting roses');
    await screenshot(page, 'time-edit-entry');
    await editor.getByRole('button', { name: 'Save' }).click();
    await entries.getByText('Planting roses').waitFor();
    await editor.waitFor({ state: 'detached' });
    const after = (await get<TimeEntry>(`/api/time/entries/${before.id}`));
    expect(after).toMatchObject({ description: 'Planting roses', durationMs: 90 * 60_000, startAt: before.startAt });
    expect(await entries.locator(`tr[data-entry="${before.id}"] td.num`).textContent()).toBe('1:30:00');

    // A bad duration is said in the form and changes nothing.
    await page.getByRole('button', { name: 'Edit entry Weeding' }).click();
    await editor.getByRole('textbox', { name: 'Duration' }).fill('soon');
    await editor.getByRole('button', { name: 'Save' }).click();
    await editor.getByRole('alert').getByText(/duration/).waitFor();
    await editor.getByRole('button', { name: 'Cancel' }).click();

    // Billable: 2 h in total at 85.50 €/h.
    const report = page.getByTestId('billable-report');
    await expect.poll(() => report.getByTestId('billable-total').textContent(), POLL).toBe(await money(171, 'EUR'));
    expect(await report.locator('tr[data-project="Garden"] td').nth(1).textContent()).toMatch(/^2[.,]00$/);
    // The rate changed in the UI: the amount follows.
    await page.getByRole('textbox', { name: 'Hourly rate of Garden' }).fill('100');
    await page.getByRole('button', { name: 'Save the rate of Garden' }).click();
    await expect.poll(() => report.getByTestId('billable-total').textContent(), POLL).toBe(await money(200, 'EUR'));
    expect(await report.getByTestId('billable-amount').first().textContent()).toBe(await money(200, 'EUR'));
    await screenshot(page, 'time-billable', true);

    // Delete with undo: gone from the screen at once, back with Undo, deleted on the backend when not undone.
    const weeding = (await get<{ entries: TimeEntry[] }>('/api/time/entries')).entries.find((e) => e.description === 'Weeding')!;
    await page.getByRole('button', { name: 'Delete entry Weeding' }).click();
    await entries.getByText('Weeding').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Undo' }).click();
    await entries.getByText('Weeding').waitFor();
    expect((await get<TimeEntry>(`/api/time/entries/${weeding.id}`)).id).toBe(weeding.id);
    await page.getByRole('button', { name: 'Delete entry Weeding' }).click();
    await entries.getByText('Weeding').waitFor({ state: 'detached' });
    await expect.poll(async () => (await get<{ entries: TimeEntry[] }>('/api/time/entries')).entries.map((e) => e.description), POLL).toEqual(['Planting roses']);
    await expect.poll(() => report.getByTestId('billable-total').textContent(), POLL).toBe(await money(150, 'EUR'));
    expect(probe.errors).toEqual([]);
  }, T);

  it('music: adds folders as "~/..." and as a relative path, and refuses one that does not exist', async () => {
    const music = join(home.dir, 'Music', 'Mix');
    const other = join(home.dir, 'Shared', 'Relative');
    mkdirSync(music, { recursive: true });
    mkdirSync(other, { recursive: true });
    for (const [file, title] of [['a.wav', 'Alpha'], ['b.wav', 'Bravo'], ['c.wav', 'Charlie']]) writeWav(join(music, file!), { title: title!, artist: 'The Testers', album: 'Mix', genre: 'Test' });
    writeWav(join(other, 'd.wav'), { title: 'Delta', artist: 'Elsewhere', album: 'Far', genre: 'Test' });

    await goTo(page, 'music', 'Music');
    const field = page.getByRole('textbox', { name: 'Folder on this computer' });
    // No native dialog in a browser: the typed path it is.
    expect(await page.getByRole('button', { name: 'Choose folder…' }).count()).toBe(0);
    await field.fill('~/Nope/Music');
    await page.getByRole('button', { name: 'Add folder' }).click();
    const error = page.getByTestId('folder-error');
    await error.waitFor();
    expect(await error.textContent()).toContain(`${join(home.dir, 'Nope', 'Music')} does not exist`);
    expect(await field.inputValue()).toBe('~/Nope/Music'); // kept, to be fixed

    await field.fill('~/Music/Mix');
    await page.getByRole('button', { name: 'Add folder' }).click();
    await page.getByText(realpathSync(music), { exact: true }).waitFor();
    await error.waitFor({ state: 'detached' });
    await field.fill('Shared/Relative');
    await page.getByRole('button', { name: 'Add folder' }).click();
    await page.getByText(realpathSync(other), { exact: true }).waitFor();
    const folders = (await get<{ folders: { path: string; tracks: number }[] }>('/api/music/folders')).folders;
    expect(folders.map((f) => [f.path, f.tracks])).toEqual([
      [realpathSync(music), 3],
      [realpathSync(other), 1],
    ]);
    await page.locator('[data-testid="tracks"]').getByText('Delta').waitFor();
    expect(probe.errors).toEqual([]);
  }, T);

  it('music: a playlist created, filled, reordered, renamed, played and deleted', async () => {
    await page.getByRole('textbox', { name: 'Playlist name' }).fill('Road trip');
    await page.getByRole('button', { name: 'Create playlist' }).click();
    const panel = page.getByTestId('playlist');
    const listButton = (name: string) => page.getByRole('list', { name: 'Playlists' }).getByRole('button', { name, exact: true });
    await panel.getByText('Road trip').waitFor();
    for (const t of ['Alpha', 'Charlie', 'Bravo']) {
      await page.getByRole('button', { name: `Add ${t} to the playlist Road trip` }).click();
      await panel.getByTestId('playlist-item').getByText(t).waitFor();
    }
    const titles = () => panel.getByTestId('playlist-item').evaluateAll((els) => els.map((e) => e.getAttribute('data-title')));
    expect(await titles()).toEqual(['Alpha', 'Charlie', 'Bravo']);
    await panel.getByRole('button', { name: 'Move Bravo up' }).click();
    await expect.poll(titles, POLL).toEqual(['Alpha', 'Bravo', 'Charlie']);
    await panel.getByRole('button', { name: 'Remove Alpha from the playlist' }).click();
    await expect.poll(titles, POLL).toEqual(['Bravo', 'Charlie']);

    await panel.getByRole('button', { name: 'Rename' }).click();
    await panel.getByRole('textbox', { name: 'New name' }).fill('Road trip 2');
    await panel.getByRole('button', { name: 'Rename' }).click();
    await listButton('Road trip 2').waitFor();
    const lists = await get<{ playlists: { id: number; name: string; tracks: number }[] }>('/api/music/playlists');
    expect(lists.playlists.map((p) => [p.name, p.tracks])).toEqual([['Road trip 2', 2]]);
    const id = lists.playlists[0]!.id;
    expect((await get<PlaylistWithTracks>(`/api/music/playlists/${id}`)).items.map((t) => t.title)).toEqual(['Bravo', 'Charlie']);

    await panel.getByRole('button', { name: 'Play the playlist Road trip 2' }).click();
    await expect.poll(async () => (await get<PlayerState>('/api/music/player')).nowPlaying?.title, POLL).toBe('Bravo');
    expect((await get<PlayerState>('/api/music/player')).queue.map((t) => t.title)).toEqual(['Bravo', 'Charlie']);
    await screenshot(page, 'music-playlists', true);
    // At 420 px (a phone, the quick-ask window) both screens fit: wide tables scroll inside their cards.
    await page.setViewportSize({ width: 420, height: 800 });
    try {
      for (const [route, heading] of [['time', 'Time'], ['music', 'Music']] as const) {
        await goTo(page, route, heading);
        await expect.poll(() => overflow(`wf-${route}-view`), POLL).toBe(false);
        await screenshot(page, `${route}-420`, true);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }

    // Deleted after the undo time.
    await panel.getByRole('button', { name: 'Delete the playlist Road trip 2' }).click();
    await panel.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Undo' }).click();
    await listButton('Road trip 2').waitFor();
    await listButton('Road trip 2').click();
    await panel.getByRole('button', { name: 'Delete the playlist Road trip 2' }).click();
    await expect.poll(async () => (await get<{ playlists: unknown[] }>('/api/music/playlists')).playlists.length, POLL).toBe(0);
    expect(await listButton('Road trip 2').count()).toBe(0);
    expect(probe.errors).toEqual([]);
  }, T);

  it('music in the desktop app: "Choose folder…" adds the folder the native dialog picked', async () => {
    const picked = join(home.dir, 'Picked');
    mkdirSync(picked, { recursive: true });
    writeWav(join(picked, 'e.wav'), { title: 'Echo', artist: 'Dialog', album: 'Picked', genre: 'Test' });
    const desk = await openPage(browser);
    try {
      // What electron/preload/api.ts exposes, answering as the dialog would: Cancel first, then a folder.
      await desk.context.addInitScript(
        ([token, path]) => {
          const calls: unknown[] = [];
          Object.assign(window, {
            folderDialogCalls: calls,
            westfall: {
              appVersion: '0.1.0',
              getBackend: async () => ({ baseUrl: location.origin, wsUrl: location.origin.replace('http', 'ws'), token }),
              chooseFolder: async (options: unknown) => (calls.push(options), calls.length === 1 ? null : path),
            },
          });
        },
        [TOKEN, picked] as const,
      );
      await desk.page.goto(`${server.url}/`);
      await desk.page.locator('nav[aria-label="Main"]').waitFor({ timeout: 30_000 });
      await goTo(desk.page, 'music', 'Music');
      const choose = desk.page.getByRole('button', { name: 'Choose folder…' });
      await choose.click();
      await expect.poll(() => desk.page.evaluate(() => (window as unknown as { folderDialogCalls: unknown[] }).folderDialogCalls), POLL).toEqual([{ title: 'Add a music folder' }]);
      await choose.click();
      await desk.page.getByText(realpathSync(picked), { exact: true }).waitFor();
      await desk.page.locator('[data-testid="tracks"]').getByText('Echo').waitFor();
      // Cancel added nothing: only the picked folder is new.
      const folders = (await get<{ folders: { path: string }[] }>('/api/music/folders')).folders.map((f) => f.path);
      expect(folders).toHaveLength(3);
      expect(folders).toContain(realpathSync(picked));
      await screenshot(desk.page, 'music-desktop-picker');
      expect(desk.errors).toEqual([]);
    } finally {
      await desk.close();
    }
  }, T);
});
