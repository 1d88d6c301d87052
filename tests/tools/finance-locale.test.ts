// Amounts typed as text, through the finance routes and the model's tools: read strictly in the request's
// locale or the user's setting, a typed amount_invalid otherwise; the user's locale kept in the settings;
// the CSV inspection that the import screen starts from.
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorsPlugin } from '../../src/server/errors.js';
import { settingsRoutes } from '../../src/server/routes/settings.js';
import { UserSettings } from '../../src/server/user-settings.js';
import type { ToolServices } from '../../src/tools/index.js';
import { makeApp, makeServices, tempDir } from './helpers.js';

let services: ToolServices;
let app: FastifyInstance;
let cleanup: () => void;
let userLocale: string | null = 'de-DE';

beforeAll(async () => {
  const t = tempDir('westfall-finance-locale-');
  cleanup = t.cleanup;
  services = makeServices(join(t.dir, 'data'), { defaultCurrency: 'EUR' });
  services.finance.setLocaleSource(() => userLocale);
  app = await makeApp(services);
});
afterAll(async () => {
  await app.close();
  services.close();
  cleanup();
});

async function call(method: InjectOptions['method'], url: string, payload?: unknown, expected = 200, on: FastifyInstance = app): Promise<any> {
  const res = await on.inject({ method, url, ...(payload !== undefined ? { payload: payload as object } : {}) });
  if (res.statusCode !== expected) throw new Error(`${method} ${url} → ${res.statusCode} (expected ${expected}): ${res.body}`);
  return JSON.parse(res.body);
}

describe('amounts as text on the finance routes', () => {
  it('stores "85,20" typed in de-DE as an 85.20 expense, and refuses it in en-US saying what was expected', async () => {
    const acc = await call('POST', '/api/finance/accounts', { name: 'Giro', currency: 'EUR' }, 201);
    const t = await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2025-11-22', amountText: '85,20', kind: 'expense', locale: 'de-DE', payee: 'Tankstelle' }, 201);
    expect(t.amount).toBe(-8520);
    const income = await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2025-11-23', amountText: '1.234,50', kind: 'income', locale: 'de-DE' }, 201);
    expect(income.amount).toBe(123450);

    const refused = await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2025-11-22', amountText: '85,20', kind: 'expense', locale: 'en-US' }, 400);
    expect(refused.error).toMatchObject({ code: 'amount_invalid', type: 'invalid_request_error', details: { field: 'amountText', reason: 'grouping', expected: '1,234,567.50' } });
    expect(refused.error.message).toContain('"85,20" is not an amount in en-US');
    // A stray minus when the user chose expense or income is refused, not applied twice or ignored.
    const signed = await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2025-11-22', amountText: '-85,20', kind: 'expense', locale: 'de-DE' }, 400);
    expect(signed.error).toMatchObject({ code: 'amount_invalid', details: { reason: 'sign' } });
    expect((await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2025-11-22', amount: -5, kind: 'income' }, 400)).error.code).toBe('amount_invalid');
    expect((await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2025-11-22', amount: 5, amountText: '5' }, 400)).error.code).toBe('invalid_params');
    expect((await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2025-11-22' }, 400)).error.code).toBe('invalid_request');
    expect((await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2025-11-22', amountText: '5', locale: 'nope nope' }, 400)).error.code).toBe('invalid_request');
    // Nothing of the refused ones was stored.
    expect((await call('GET', `/api/finance/transactions?accountId=${acc.id}`)).total).toBe(2);

    // Without a locale in the request: the user's setting.
    const byDefault = await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2025-11-24', amountText: '12,5' }, 201);
    expect(byDefault.amount).toBe(1250);
    userLocale = 'en-US';
    expect((await call('POST', '/api/finance/transactions', { accountId: acc.id, date: '2025-11-24', amountText: '12,5' }, 400)).error.code).toBe('amount_invalid');
    userLocale = 'de-DE';

    // Edits read text the same way.
    const edited = await call('PATCH', `/api/finance/transactions/${t.id}`, { amountText: '90,10', kind: 'expense', locale: 'de-DE', payee: 'Tankstelle Nord' });
    expect(edited).toMatchObject({ amount: -9010, payee: 'Tankstelle Nord' });
    expect((await call('PATCH', `/api/finance/transactions/${t.id}`, { amountText: '90.10', locale: 'de-DE' }, 400)).error.code).toBe('amount_invalid');
    expect((await call('GET', `/api/finance/transactions/${t.id}`)).amount).toBe(-9010);
  });

  it('sets budgets from text, never negative', async () => {
    const cat = await call('POST', '/api/finance/categories', { name: 'Auto' }, 201);
    const b = await call('PUT', '/api/finance/budgets', { categoryId: cat.id, month: '2025-11', amountText: '1.200,00', locale: 'de-DE', currency: 'EUR' });
    expect(b).toMatchObject({ amount: 120000, currency: 'EUR' });
    expect((await call('PUT', '/api/finance/budgets', { categoryId: cat.id, month: '2025-11', amountText: '-5', locale: 'de-DE' }, 400)).error.code).toBe('amount_invalid');
    expect((await call('PUT', '/api/finance/budgets', { categoryId: cat.id, month: '2025-11' }, 400)).error.code).toBe('invalid_request');
  });
});

describe('amounts the model writes', () => {
  it('reads a text amount in the user locale and a number exactly; refuses more decimals than the currency has', async () => {
    const acc = services.finance.accounts.create({ name: 'Karte', currency: 'EUR' });
    const ctx = { caller: 'user' as const };
    const r = (await services.registry.invoke('finance_add_transaction', { accountId: acc.id, date: '2025-11-25', amount: '85,20', type: 'expense', payee: 'Tool' }, ctx)) as { created: { amount: string } };
    expect(r.created.amount).toBe('-85.20 EUR');
    const n = (await services.registry.invoke('finance_add_transaction', { accountId: acc.id, date: '2025-11-25', amount: 85.2, type: 'income' }, ctx)) as { created: { amount: string } };
    expect(n.created.amount).toBe('85.20 EUR');
    await expect(services.registry.invoke('finance_add_transaction', { accountId: acc.id, date: '2025-11-25', amount: 85.205 }, ctx)).rejects.toMatchObject({ code: 'amount_invalid' });
    await expect(services.registry.invoke('finance_add_transaction', { accountId: acc.id, date: '2025-11-25', amount: '85.20', type: 'expense' }, ctx)).rejects.toMatchObject({ code: 'amount_invalid' });
    await expect(services.registry.invoke('finance_add_transaction', { accountId: acc.id, date: '2025-11-25', amount: -3, type: 'income' }, ctx)).rejects.toMatchObject({ code: 'amount_invalid' });
    expect(services.finance.transactions.list({ accountId: acc.id }).total).toBe(2);
  });
});

describe('CSV inspection and import with kept duplicates', () => {
  it('guesses the separator, the columns and the decimal mark, and imports what the user keeps', async () => {
    const acc = await call('POST', '/api/finance/accounts', { name: 'Import', currency: 'EUR' }, 201);
    const csv = 'Buchungstag;Beschreibung;Betrag;Kategorie\n01.03.2024;Kaffee;-2,50;Essen\n01.03.2024;Kaffee;-2,50;Essen\n02.03.2024;Miete;-800,00;Wohnen\n';
    const info = await call('POST', '/api/finance/import/inspect', { csv });
    expect(info).toMatchObject({ delimiter: ';', columns: ['Buchungstag', 'Beschreibung', 'Betrag', 'Kategorie'], rowCount: 3, decimalMark: ',', locale: 'de-DE' });
    expect(info.suggested).toEqual({ date: 'Buchungstag', payee: 'Beschreibung', amount: 'Betrag', category: 'Kategorie' });
    expect(info.rows[0]).toEqual(['01.03.2024', 'Kaffee', '-2,50', 'Essen']);
    const mapping = { date: 'Buchungstag', amount: 'Betrag', payee: 'Beschreibung', category: 'Kategorie', locale: 'de-DE' };
    const preview = await call('POST', '/api/finance/import', { accountId: acc.id, csv, mapping, preview: true });
    expect(preview).toMatchObject({ total: 3, new: 2, duplicates: 1, fileDuplicates: 1 });
    const done = await call('POST', '/api/finance/import', { accountId: acc.id, csv, mapping });
    expect(done).toMatchObject({ imported: 2, duplicates: 1, kept: 0 });
    const kept = await call('POST', '/api/finance/import', { accountId: acc.id, csv, mapping, keep: [3] });
    expect(kept).toMatchObject({ imported: 1, duplicates: 2, kept: 1 });
    expect((await call('POST', '/api/finance/import/inspect', { csv: '"unclosed\n' }, 422)).error.code).toBe('csv_invalid');
  });
});

describe('the locale setting', () => {
  it('defaults to none (the browser or OS locale), accepts a locale and refuses a made-up one', async () => {
    const settings = UserSettings.inMemory();
    const s = Fastify({ logger: false });
    await s.register(errorsPlugin);
    await s.register(settingsRoutes(settings));
    expect((await call('GET', '/api/settings', undefined, 200, s)).locale).toBeNull();
    expect((await call('PATCH', '/api/settings', { locale: 'fr-FR' }, 200, s)).locale).toBe('fr-FR');
    expect((await call('PATCH', '/api/settings', { locale: 'xx-notreal-123456789' }, 400, s)).error.code).toBe('invalid_request');
    expect(settings.get().locale).toBe('fr-FR');
    expect((await call('PATCH', '/api/settings', { locale: null }, 200, s)).locale).toBeNull();
    await s.close();
  });
});
