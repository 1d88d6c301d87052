// createToolServices over a data directory, backups, and the tools' plugins inside the real service
// (createApp: bearer token, error handler) as the CLI will wire them.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { configFrom } from '../../src/config/index.js';
import { createApp } from '../../src/server/index.js';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import { createToolServices } from '../../src/tools/index.js';
import { FAST_KDF, makeServices, tempDir } from './helpers.js';

let cleanup: (() => void) | undefined;
afterEach(() => {
  vi.useRealTimers();
  cleanup?.();
});

describe('createToolServices', () => {
  it('opens <dataDir>/westfall.db with migrations, schedules reminders, backs up and closes', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    // Its scheduler stays off: the reminder must fall due while the services are down, whatever the time
    // the vault's setup takes (it fired during a slow setup on a busy machine and was then not overdue).
    const first = makeServices(t.dir, { startReminders: false });
    expect(first.databasePath).toBe(join(t.dir, 'westfall.db'));
    first.time.reminders.create({ message: 'Due while down', dueAt: Date.now() + 50 });
    await first.vault.setup('master password');
    first.close();
    first.close(); // idempotent
    expect(first.vault.unlocked).toBe(false);
    await new Promise((r) => setTimeout(r, 100));

    // Restart: the overdue reminder is delivered by the scheduler that starts with the services.
    const delivered: string[] = [];
    const again = createToolServices(t.dir, { vault: { kdf: FAST_KDF }, startReminders: false });
    again.time.reminders.on('reminder', (e) => delivered.push(e.message));
    again.time.reminders.start();
    expect(delivered).toEqual(['Due while down']);
    expect(again.vault.status()).toMatchObject({ initialized: true, unlocked: false });
    expect(again.registry.names.length).toBeGreaterThan(20);

    const b = await again.backup();
    expect(b.path).toMatch(/backups\/westfall-\d{8}-\d{6}\.db$/);
    const copy = new Database(b.path, { readonly: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.prepare('SELECT count(*) AS n FROM time_reminders').get()).toEqual({ n: 1 });
    copy.close();
    const named = await again.backup(join(t.dir, 'elsewhere', 'my.db'));
    expect(existsSync(named.path)).toBe(true);
    again.close();
  });
});

describe('inside createApp', () => {
  it('the tool routes sit behind the bearer token and use the server error shape', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const services = makeServices(join(t.dir, 'data'));
    const config = configFrom({ WESTFALL_API_TOKEN: 'tools-test-token-0123456789', WESTFALL_DATA_DIR: t.dir, WESTFALL_LOG_FILE: false });
    const app = createApp(config, { extraPlugins: createToolPlugins(services) });
    try {
      const auth = { authorization: 'Bearer tools-test-token-0123456789', host: '127.0.0.1' };
      expect((await app.inject({ method: 'GET', url: '/api/tools', headers: { host: '127.0.0.1' } })).statusCode).toBe(401);
      const ok = await app.inject({ method: 'GET', url: '/api/finance/accounts', headers: auth });
      expect(ok.statusCode).toBe(200);
      expect(JSON.parse(ok.body)).toEqual({ accounts: [] });
      const locked = await app.inject({ method: 'GET', url: '/api/vault/entries', headers: auth });
      expect(locked.statusCode).toBe(409); // not set up yet
      expect(JSON.parse(locked.body).error).toMatchObject({ code: 'vault_not_initialized', type: expect.any(String) });
      const chat = await app.inject({ method: 'POST', url: '/api/agent/chat', headers: auth, payload: { message: 'hi' } });
      expect(chat.statusCode).toBe(503);
      expect(JSON.parse(chat.body).error.code).toBe('model_not_loaded');
    } finally {
      await app.close();
      services.close();
    }
  });
});
