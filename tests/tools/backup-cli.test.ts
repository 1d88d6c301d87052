// `westfall backup` copies the live database into a complete, readable file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { createToolServices } from '../../src/tools/index.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('westfall backup', () => {
  it('writes a consistent copy while the database is open', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'westfall-backup-'));
    const services = createToolServices(dataDir, { startReminders: false });
    try {
      services.finance.accounts.create({ name: 'Checking', currency: 'EUR' });
      const out = path.join(dataDir, 'copy.db');
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli/index.ts'), 'backup', '--data-dir', dataDir, '--out', out], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, WESTFALL_LOG_LEVEL: 'silent' },
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe(out);
      expect(existsSync(out)).toBe(true);
      const copy = new Database(out, { readonly: true });
      try {
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(copy.prepare('SELECT name FROM fin_accounts').all()).toEqual([{ name: 'Checking' }]);
      } finally {
        copy.close();
      }
    } finally {
      services.close();
    }
  });
});
