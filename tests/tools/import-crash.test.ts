// Killing the process in the middle of a large CSV import leaves the database consistent: the import runs
// in one transaction, so after SIGKILL the database passes integrity_check and holds none of its rows.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/storage/index.js';
import { FinanceService } from '../../src/tools/finance/index.js';
import { tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/import-child.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

function bigCsv(rows: number): string {
  const lines = ['date,amount,payee,category'];
  for (let i = 0; i < rows; i++) {
    const day = String((i % 28) + 1).padStart(2, '0');
    const month = String(((i / 28) | 0) % 12 + 1).padStart(2, '0');
    lines.push(`2023-${month}-${day},-${(i % 500) + 1}.${String(i % 100).padStart(2, '0')},Shop ${i},${i % 2 ? 'Food' : 'Misc'}`);
  }
  return `${lines.join('\n')}\n`;
}

describe('an import killed mid-transaction', () => {
  it('leaves the database consistent with no partial rows', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const dbPath = join(t.dir, 'westfall.db');
    const csvPath = join(t.dir, 'big.csv');
    writeFileSync(csvPath, bigCsv(40_000));

    // A committed import before the crash, which must survive it.
    const db = openDatabase(dbPath);
    const finance = new FinanceService(db);
    const acc = finance.accounts.create({ name: 'Checking', currency: 'EUR' });
    finance.importer.import({ accountId: acc.id, csv: 'date,amount,payee\n2022-01-01,-1.00,Before\n2022-01-02,2.00,Before too\n', mapping: { date: 'date', amount: 'amount', payee: 'payee' } });
    db.close();

    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dbPath, csvPath], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the child never got mid-import: ${out} ${err}`)), 90_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/progress (5|6|7|8|9)\d{3}\n/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the child exited early: ${out} ${err}`));
      });
    });
    child.kill('SIGKILL');
    const exit = await exited;
    expect(exit.signal).toBe('SIGKILL');
    expect(out).not.toContain('done');

    const after = openDatabase(dbPath);
    try {
      expect(after.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(after.pragma('foreign_key_check')).toEqual([]);
      expect(after.prepare('SELECT count(*) AS n FROM fin_transactions').get()).toEqual({ n: 2 });
      expect(after.prepare('SELECT count(*) AS n FROM fin_imports').get()).toEqual({ n: 1 });
      expect(after.prepare("SELECT count(*) AS n FROM fin_categories WHERE name IN ('Food', 'Misc')").get()).toEqual({ n: 0 });
      // The database is usable: the same import now runs to the end.
      const f = new FinanceService(after);
      const r = f.importer.import({ accountId: acc.id, csv: bigCsv(40_000), mapping: { date: 'date', amount: 'amount', payee: 'payee', category: 'category' } });
      expect(r.imported).toBe(40_000);
      expect(after.prepare('SELECT count(*) AS n FROM fin_transactions').get()).toEqual({ n: 40_002 });
    } finally {
      after.close();
    }
  }, 180_000);
});
