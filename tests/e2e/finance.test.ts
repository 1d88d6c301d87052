// Finance in the web UI, end to end in Chromium against a real backend (createApp in-process with the
// tools' plugins and the settings route, a real SQLite file): amounts and dates in the user's locale (the
// picker saves the setting; "85,20" in de-DE is stored as 85.20, in en-US it is refused with the reason
// shown under the field and nothing stored), a transaction edited and deleted (with Undo), a monthly budget
// set, shown against spending and changed, and a CSV import with the file's preview, the column mapping, the
// file's locale, duplicates (already stored, and repeated in the file) skipped unless kept, and the result.
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import { settingsRoutes } from '../../src/server/routes/settings.js';
import { UserSettings } from '../../src/server/user-settings.js';
import { createToolServices, type ToolServices } from '../../src/tools/index.js';
import type { ServerPlugin } from '../../src/server/index.js';
import { HAVE_CHROMIUM, buildRenderer, goTo, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 180_000;

function todayIso(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

describe.skipIf(!HAVE_CHROMIUM)('finance in the web UI', () => {
  let server: InProcessServer;
  let services: ToolServices;
  let settings: UserSettings;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;
  let view: Locator;
  let accountId: number;
  const data = tempDir();

  const transactions = () => services.finance.transactions.list({ accountId }).transactions;

  beforeAll(async () => {
    buildRenderer();
    services = createToolServices(data.dir, { startReminders: false });
    settings = UserSettings.inMemory();
    services.finance.setLocaleSource(() => settings.get().locale);
    const plugins = [...(createToolPlugins(services) as unknown as ServerPlugin[]), settingsRoutes(settings) as unknown as ServerPlugin];
    server = await startInProcess({ plugins, settings: { WESTFALL_DATA_DIR: data.dir } });
    browser = await launchBrowser();
    probe = await openPage(browser, { origin: server.url });
    page = probe.page;
    view = page.locator('wf-finance-view');
    await login(page, server.loginUrl());
    await goTo(page, 'finance', 'Finance');
    await view.getByRole('textbox', { name: 'Account name' }).fill('Giro');
    await view.getByRole('textbox', { name: 'Currency' }).fill('EUR');
    await view.getByRole('button', { name: 'Add account' }).click();
    await view.getByTestId('finance-summary').waitFor();
    accountId = services.finance.accounts.list()[0]!.id;
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await server?.close();
    services?.close();
    data.cleanup();
  }, T);

  const addForm = () => view.locator('form.add');

  it('"85,20" typed in de-DE is stored as 85.20; in en-US it is refused with the reason visible and nothing stored', async () => {
    const picker = view.getByTestId('locale-select');
    await picker.selectOption('de-DE');
    await expect.poll(() => settings.get().locale).toBe('de-DE');
    await expect.poll(() => view.getByTestId('locale-example').textContent()).toContain('1.234.567,50');
    // The date field follows the locale's order.
    const [y, m, d] = todayIso().split('-');
    await expect.poll(() => addForm().getByRole('textbox', { name: 'Date' }).inputValue()).toBe(`${d}.${m}.${y}`);

    await addForm().getByRole('radio', { name: 'Expense' }).check();
    await addForm().getByRole('textbox', { name: 'Amount' }).fill('85,20');
    await addForm().getByRole('combobox', { name: 'Category' }).fill('Fuel');
    await addForm().getByRole('textbox', { name: 'Payee' }).fill('Tankstelle');
    await addForm().getByRole('button', { name: 'Add', exact: true }).click();
    await view.getByTestId('transactions').getByText('Tankstelle').waitFor();
    expect(transactions().map((t) => [t.amount, t.payee, t.category, t.date])).toEqual([[-8520, 'Tankstelle', 'Fuel', todayIso()]]);
    // Shown as de-DE writes it.
    await expect.poll(() => view.getByTestId('transactions').textContent()).toContain('-85,20\u00a0€');
    await screenshot(page, 'finance-locale-de', true);

    // A sign typed although Expense is chosen: refused, not applied twice.
    await addForm().getByRole('textbox', { name: 'Amount' }).fill('-5');
    await addForm().getByRole('button', { name: 'Add', exact: true }).click();
    await expect.poll(() => addForm().getByTestId('amount-error').textContent()).toContain('without a sign');

    await picker.selectOption('en-US');
    await expect.poll(() => settings.get().locale).toBe('en-US');
    await addForm().getByRole('textbox', { name: 'Amount' }).fill('85,20');
    await addForm().getByRole('textbox', { name: 'Payee' }).fill('Should not be stored');
    await addForm().getByRole('button', { name: 'Add', exact: true }).click();
    const error = addForm().getByTestId('amount-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('"85,20" is not an amount in en-US: "," separates groups of 3 digits and "." marks the decimals, e.g. 1,234,567.50');
    expect(await addForm().getByRole('textbox', { name: 'Amount' }).getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'finance-locale-en-refused');
    expect(transactions()).toHaveLength(1);
    // The list now reads in en-US too.
    await expect.poll(() => view.getByTestId('transactions').textContent()).toContain('-€85.20');
    // The picker still shows the choice after everything re-rendered in it.
    expect(await picker.inputValue()).toBe('en-US');
    await addForm().getByRole('textbox', { name: 'Payee' }).fill('');
    await addForm().getByRole('textbox', { name: 'Amount' }).fill('');
  }, T);

  it('edits a transaction in the list', async () => {
    await view.getByRole('button', { name: /^Edit transaction Tankstelle/ }).click();
    const edit = view.locator('form.edit');
    await edit.waitFor();
    // The stored amount, without a sign, as en-US writes it; Expense is chosen.
    expect(await edit.getByRole('textbox', { name: 'Amount' }).inputValue()).toBe('85.20');
    expect(await edit.getByRole('radio', { name: 'Expense' }).isChecked()).toBe(true);
    await edit.getByRole('textbox', { name: 'Amount' }).fill('90.10');
    await edit.getByRole('textbox', { name: 'Payee' }).fill('Tankstelle Nord');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => transactions().map((t) => [t.amount, t.payee])).toEqual([[-9010, 'Tankstelle Nord']]);
    await view.getByTestId('transactions').getByText('Tankstelle Nord').waitFor();
    expect(await view.locator('form.edit').count()).toBe(0);
  }, T);

  it('sets a monthly budget and shows spending against it; changes it', async () => {
    await view.getByRole('tab', { name: 'Budgets' }).click();
    await view.getByRole('combobox', { name: 'Budget category' }).fill('Fuel');
    await view.getByRole('textbox', { name: /Monthly budget/ }).fill('100');
    await view.getByRole('button', { name: 'Set budget' }).click();
    const row = view.locator('[data-testid="budgets"] tr[data-category="Fuel"]');
    await row.waitFor();
    await expect.poll(() => row.getByTestId('budget-amount').textContent()).toContain('€100.00');
    expect(await row.getByTestId('budget-spent').textContent()).toContain('€90.10');
    expect(await row.getByTestId('budget-remaining').textContent()).toContain('€9.90 left');
    const month = todayIso().slice(0, 7);
    expect(services.finance.budgets.list(month).map((b) => [b.category, b.amount, b.currency])).toEqual([['Fuel', 10000, 'EUR']]);
    await screenshot(page, 'finance-budgets');

    await row.getByRole('button', { name: 'Edit the Fuel budget' }).click();
    const input = row.getByRole('textbox', { name: 'New budget for Fuel' });
    expect(await input.inputValue()).toBe('100.00');
    await input.fill('80');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => row.getByTestId('budget-remaining').textContent()).toContain('€10.10 over');
    expect(services.finance.budgets.list(month)[0]!.amount).toBe(8000);

    // Another budget, deleted after confirming; Fuel's stays.
    await view.getByRole('combobox', { name: 'Budget category' }).fill('Books');
    await view.getByRole('textbox', { name: /Monthly budget/ }).fill('1,000');
    await view.getByRole('button', { name: 'Set budget' }).click();
    const books = view.locator('[data-testid="budgets"] tr[data-category="Books"]');
    await expect.poll(() => books.getByTestId('budget-amount').textContent()).toContain('€1,000.00');
    await books.getByRole('button', { name: 'Delete the Books budget' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await expect.poll(() => services.finance.budgets.list(month).map((b) => b.category)).toEqual(['Fuel']);
    // Books is an expense category without spending this month: its line goes with its budget.
    await expect.poll(() => books.count()).toBe(0);
  }, T);

  it('imports a CSV file: preview, mapping, the file locale, duplicates skipped, a summary', async () => {
    // Already stored: the bakery of 1 November. In the file: the bakery again, and the cinema twice.
    services.finance.transactions.create({ accountId, date: '2025-11-01', amount: -1250, payee: 'Bäckerei' });
    const csv = ['Buchungstag;Beschreibung;Betrag;Kategorie', '01.11.2025;Bäckerei;-12,50;Essen', '02.11.2025;Kino;-9,00;Freizeit', '02.11.2025;Kino;-9,00;Freizeit', '03.11.2025;Gehalt;2.500,00;Gehalt', ''].join('\n');
    await view.getByRole('tab', { name: 'Import CSV' }).click();
    await view.locator('input[type="file"]').setInputFiles({ name: 'november.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    // The file's first rows, and a mapping guessed from its column names.
    const raw = view.getByTestId('import-raw');
    await raw.waitFor();
    expect(await raw.locator('th').allTextContents()).toEqual(['Buchungstag', 'Beschreibung', 'Betrag', 'Kategorie']);
    expect(await raw.locator('tbody tr').count()).toBe(4);
    expect(await view.locator('select[data-field="date"]').inputValue()).toBe('Buchungstag');
    expect(await view.locator('select[data-field="amount"]').inputValue()).toBe('Betrag');
    // The user's locale is en-US, the file writes decimal commas: the file's locale is de-DE.
    expect(await view.getByTestId('import-locale').inputValue()).toBe('de-DE');
    // The mapping as the user sets it: no category column this time.
    await view.locator('select[data-field="payee"]').selectOption('Beschreibung');
    await view.locator('select[data-field="category"]').selectOption('');

    // Read in en-US the file is refused with its line, nothing written.
    await view.getByTestId('import-locale').selectOption('en-US');
    await view.getByRole('button', { name: 'Check rows' }).click();
    await expect.poll(() => view.getByTestId('import-error').textContent()).toMatch(/line 2: "-12,50" is not an amount in en-US/);
    await view.getByTestId('import-locale').selectOption('de-DE');
    await view.getByRole('button', { name: 'Check rows' }).click();

    const summary = view.getByTestId('import-summary');
    await summary.waitFor();
    expect((await summary.textContent())!.replace(/\s+/g, ' ')).toContain('4 rows: 2 new, 2 duplicates (1 already stored, 1 repeated in the file), skipped unless you keep them');
    const preview = view.getByTestId('import-preview');
    expect(await preview.locator('tr[data-line="2"]').textContent()).toContain('already stored');
    expect(await preview.locator('tr[data-line="4"]').textContent()).toContain('repeated in the file');
    expect(await preview.locator('tr[data-line="5"]').textContent()).toContain('€2,500.00');
    await screenshot(page, 'finance-import-preview', true);

    // The second cinema ticket was real (two people): kept. The bakery, already stored, stays skipped.
    await preview.locator('tr[data-line="4"]').getByRole('checkbox').check();
    await view.getByRole('button', { name: 'Import 3 rows' }).click();
    const result = view.getByTestId('import-result');
    await result.waitFor();
    expect((await result.textContent())!.replace(/\s+/g, ' ')).toContain('Imported 3 of 4 rows (1 duplicate kept); skipped 1 duplicate.');
    const all = transactions().map((t) => [t.date, t.payee, t.amount, t.category]);
    expect(all.filter((t) => t[1] === 'Kino')).toEqual([
      ['2025-11-02', 'Kino', -900, null],
      ['2025-11-02', 'Kino', -900, null],
    ]);
    expect(all.filter((t) => t[1] === 'Bäckerei')).toHaveLength(1);
    expect(all.filter((t) => t[1] === 'Gehalt')).toEqual([['2025-11-03', 'Gehalt', 250000, null]]);
  }, T);

  it('deletes a transaction after the Undo time; Undo brings it back', async () => {
    await view.getByRole('tab', { name: 'Overview' }).click();
    const list = view.getByTestId('transactions');
    await list.getByText('Tankstelle Nord').waitFor();
    await view.getByRole('button', { name: /^Delete transaction Tankstelle Nord/ }).click();
    await expect.poll(() => list.getByText('Tankstelle Nord').count()).toBe(0);
    await page.getByRole('button', { name: 'Undo' }).click();
    await list.getByText('Tankstelle Nord').waitFor();
    expect(transactions().some((t) => t.payee === 'Tankstelle Nord')).toBe(true);

    await view.getByRole('button', { name: /^Delete transaction Tankstelle Nord/ }).click();
    await expect.poll(() => list.getByText('Tankstelle Nord').count()).toBe(0);
    await expect.poll(() => transactions().some((t) => t.payee === 'Tankstelle Nord'), { timeout: 60_000 }).toBe(false);
    expect(transactions()).toHaveLength(4);
    await screenshot(page, 'finance-after-delete', true);
  }, T);

  it('fits a 420 px window: no part of the finance screen is wider than the window', async () => {
    await page.setViewportSize({ width: 420, height: 800 });
    try {
      for (const tab of ['Overview', 'Budgets', 'Import CSV']) {
        await view.getByRole('tab', { name: tab }).click();
        await expect
          .poll(() =>
            page.evaluate(() => {
              const main = document.querySelector('wf-app')?.shadowRoot?.querySelector('main');
              return main ? main.scrollWidth - main.clientWidth : -1;
            }),
          )
          .toBeLessThanOrEqual(0);
        await screenshot(page, `finance-420-${tab.split(' ')[0]!.toLowerCase()}`, true);
      }
      // The import done before is still on its tab: panels stay mounted while another tab is shown.
      expect(await view.getByTestId('import-result').isVisible()).toBe(true);
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  }, T);

  it('shows the locale setting in Settings too, and left no errors', async () => {
    await goTo(page, 'settings', 'Settings');
    const picker = page.locator('wf-settings-view').getByTestId('locale-select');
    expect(await picker.inputValue()).toBe('en-US');
    await picker.selectOption('');
    await expect.poll(() => settings.get().locale).toBeNull();
    expect(probe.errors).toEqual([]);
    expect(probe.cspViolations).toEqual([]);
  }, T);
});
