// The layout at 420 px (a phone, the desktop app's quick-ask window), 768 px and 1280 px, in Chromium: every
// view with real data in it (conversations, one with a wide markdown table; finance and time entries with
// long text) must not overflow the document or the app's scrolling <main> sideways, its main action must be
// on screen once scrolled to, and the chat's composer must sit inside the viewport without scrolling.
// Below 700 px the navigation is a top bar whose Menu opens and closes (click, Escape, a pick) and
// navigates; below 900 px the chat's conversation list is a drawer that opens and picks a conversation; the
// quick-ask window's page (#/quick) keeps its composer inside a small window.
// Screenshots: test-results/screenshots/<view>-<width>.png. One backend, one browser, one page throughout.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerPlugin } from '../../src/server/index.js';
import modelsRoutes from '../../src/server/routes/models.js';
import { createToolPlugins } from '../../src/server/routes/tool-plugins.js';
import { createToolServices, type ToolServices } from '../../src/tools/index.js';
import { HAVE_CHROMIUM, TINY_MODEL, TOKEN, buildRenderer, goTo, launchBrowser, login, openPage, screenshot, startInProcess, tempDir, type InProcessServer, type PageProbe } from './harness.js';

const T = 300_000;
const POLL = { timeout: 60_000 };
const WIDTHS = [420, 768, 1280] as const;
const HEIGHT = 800;

const WIDE_TABLE = [
  '| Month | Groceries | Rent | Transport | Insurance | Utilities | Eating out | Savings rate |',
  '|---|---|---|---|---|---|---|---|',
  '| January | 412.35 EUR | 1,150.00 EUR | 89.90 EUR | 120.00 EUR | 143.27 EUR | 96.40 EUR | 18.5 % |',
  '| February | 398.10 EUR | 1,150.00 EUR | 89.90 EUR | 120.00 EUR | 151.02 EUR | 73.15 EUR | 19.2 % |',
].join('\n');

/** A view, how to reach it, and the control that must be reachable on it. */
interface ViewCheck {
  route: string;
  heading: string | RegExp;
  key: (page: Page) => Locator;
}

const VIEWS: ViewCheck[] = [
  { route: 'chat', heading: 'Budget overview by month', key: (p) => p.getByRole('textbox', { name: 'Message' }) },
  { route: 'models', heading: 'Models', key: (p) => p.getByTestId('model-drop') },
  { route: 'finance', heading: 'Finance', key: (p) => p.getByRole('button', { name: 'Add', exact: true }) },
  { route: 'time', heading: 'Time', key: (p) => p.getByTestId('timer-start') },
  { route: 'vault', heading: 'Vault', key: (p) => p.getByRole('button', { name: 'Create vault' }) },
  { route: 'music', heading: 'Music', key: (p) => p.getByRole('button', { name: 'Add folder' }) },
  { route: 'settings', heading: 'Settings', key: (p) => p.getByRole('button', { name: 'Sign out', exact: true }) },
];

describe.skipIf(!HAVE_CHROMIUM)('responsive layout at 420, 768 and 1280 px', () => {
  const data = tempDir();
  let server: InProcessServer;
  let services: ToolServices;
  let browser: Browser;
  let probe: PageProbe;
  let page: Page;

  const call = async <R>(method: string, path: string, body: unknown): Promise<R> => {
    const r = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as R;
  };

  /** Sideways overflow of the document and of the shell's scrolling <main> (px beyond the box; <= 0 fits). */
  const overflow = () =>
    page.evaluate(() => {
      const doc = document.scrollingElement!;
      const main = document.querySelector('wf-app')?.shadowRoot?.querySelector('main');
      return { document: doc.scrollWidth - window.innerWidth, main: main ? main.scrollWidth - main.clientWidth : 0 };
    });

  /** What sticks out past the right edge of <main> (through shadow roots), for the failure message. */
  const sticking = () =>
    page.evaluate(() => {
      const main = document.querySelector('wf-app')!.shadowRoot!.querySelector('main')!;
      const edge = main.getBoundingClientRect().left + main.clientWidth + 1;
      const out: string[] = [];
      const walk = (root: Element | ShadowRoot, path: string): void => {
        for (const el of Array.from(root.children)) {
          const r = el.getBoundingClientRect();
          if (r.width === 0 && r.height === 0 && getComputedStyle(el).display === 'none') continue;
          const name = `${path}>${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : ''}`;
          if (r.right > edge && out.length < 8) out.push(`${name} (${Math.round(r.right - edge)} px)`);
          // What a scrolling box holds scrolls inside it and cannot widen <main>.
          const scrolls = getComputedStyle(el).overflowX !== 'visible';
          if (el.shadowRoot) walk(el.shadowRoot, name);
          else if (!scrolls) walk(el, name);
        }
      };
      walk(main, 'main');
      return out;
    });

  /** Whether the element lies wholly inside the viewport (after the page scrolled it into view). */
  const onScreen = async (target: Locator, scroll = true): Promise<boolean> => {
    if (scroll) await target.scrollIntoViewIfNeeded();
    const box = await target.boundingBox();
    const size = page.viewportSize()!;
    return box !== null && box.x >= -0.5 && box.y >= -0.5 && box.x + box.width <= size.width + 0.5 && box.y + box.height <= size.height + 0.5;
  };

  const menu = () => page.getByTestId('menu-toggle');
  const chatsToggle = () => page.getByTestId('chats-toggle');
  const drawer = () => page.locator('aside#chat-list');

  beforeAll(async () => {
    buildRenderer();
    services = createToolServices(data.dir, { vault: { kdf: { N: 2 ** 10, r: 8, p: 1 } } });
    const plugins = createToolPlugins(services, { heartbeatMs: 1000 }) as unknown as ServerPlugin[];
    // One installed model (not loaded), so the models screen has its table.
    const modelsDir = join(data.dir, 'models');
    mkdirSync(modelsDir);
    copyFileSync(TINY_MODEL, join(modelsDir, 'e2e-tiny-model-with-a-long-file-name.Q4_K_M.gguf'));
    const models: ServerPlugin = async (app, opts) => {
      await app.register(modelsRoutes, opts);
    };
    server = await startInProcess({ plugins: [...plugins, models], settings: { WESTFALL_DATA_DIR: data.dir, WESTFALL_MODELS_DIR: modelsDir, WESTFALL_HUB_URL: 'http://127.0.0.1:9' } });

    // Data with long, unbreakable-looking text: what used to push tables past a narrow window.
    await call('POST', '/api/conversations', { title: 'Packing list for the Lisbon trip', messages: [{ role: 'user', content: 'What should I pack?' }, { role: 'assistant', content: 'Sunscreen, walking shoes and a light jacket.' }] });
    await call('POST', '/api/conversations', { title: 'Budget overview by month', messages: [{ role: 'user', content: 'Show my budget as a table' }, { role: 'assistant', content: `Here it is:\n\n${WIDE_TABLE}` }] });
    const account = await call<{ id: number }>('POST', '/api/finance/accounts', { name: 'Girokonto Sparkasse Musterstadt', currency: 'EUR' });
    for (const [i, payee] of ['Stadtwerke Musterstadt Energieversorgung GmbH', 'Supermarkt am Hauptbahnhof', 'Versicherungsgesellschaft Beispiel AG'].entries()) {
      await call('POST', '/api/finance/transactions', { accountId: account.id, date: `2026-11-0${i + 1}`, amount: -(12_345 + i), payee, note: 'Monthly payment with a rather long note to see that it wraps' });
    }
    const project = await call<{ id: number }>('POST', '/api/time/projects', { name: 'Garden redesign and irrigation', client: 'Neighbourhood association', hourlyRate: 8550, currency: 'EUR' });
    for (const [i, description] of ['Planting the raised beds along the southern fence', 'Laying the drip irrigation lines'].entries()) {
      await call('POST', '/api/time/entries', { projectId: project.id, startAt: new Date(Date.now() - (i + 2) * 3_600_000).toISOString(), durationMs: 5_400_000, description, billable: true });
    }

    browser = await launchBrowser();
    probe = await openPage(browser);
    page = probe.page;
    await login(page, server.loginUrl());
    await page.locator('a[data-nav="chat"]').click();
    await page.getByRole('button', { name: /Open conversation Budget overview by month/ }).click();
    await page.getByRole('heading', { level: 1, name: 'Budget overview by month' }).waitFor();
  }, T);

  afterAll(async () => {
    await probe?.close();
    await browser?.close();
    await server?.close();
    services?.close();
    data.cleanup();
  }, T);

  for (const width of WIDTHS) {
    it(`${width} px: no view overflows sideways, each view's main control is on screen, the composer stays in view`, async () => {
      await page.setViewportSize({ width, height: HEIGHT });
      const narrow = width < 700;
      expect(await menu().isVisible()).toBe(narrow);
      expect(await page.locator('a[data-nav="chat"]').isVisible()).toBe(!narrow);
      const failures: string[] = [];
      for (const view of VIEWS) {
        await goTo(page, view.route, view.heading);
        const key = view.key(page);
        await key.waitFor();
        // Views lay out asynchronously after data arrives: wait for a fit, then record what does not.
        try {
          await expect.poll(async () => Math.max(...Object.values(await overflow())), POLL).toBeLessThanOrEqual(0);
        } catch {
          failures.push(`${view.route}@${width}: overflows sideways ${JSON.stringify(await overflow())}: ${(await sticking()).join(', ')}`);
        }
        if (view.route === 'chat') {
          // The composer without scrolling anything, and the wide table scrolls inside its message.
          if (!(await onScreen(key, false))) failures.push(`${view.route}@${width}: the composer is not inside the viewport`);
          if (!(await onScreen(page.getByRole('button', { name: 'Send message' }), false))) failures.push(`${view.route}@${width}: Send is not inside the viewport`);
          const log = await page.locator('wf-chat-log').evaluate((el) => {
            const box = el.shadowRoot!.querySelector<HTMLElement>('.log')!;
            return box.scrollWidth - box.clientWidth;
          });
          if (log > 0) failures.push(`${view.route}@${width}: the chat log scrolls sideways by ${log} px`);
          expect(await page.locator('table').first().isVisible()).toBe(true);
        } else if (!(await onScreen(key))) failures.push(`${view.route}@${width}: its main control is not on screen`);
        await screenshot(page, `${view.route}-${width}`);
        // The menu must not stay open over the view after navigating.
        if (narrow) expect(await menu().getAttribute('aria-expanded')).toBe('false');
      }
      expect(failures).toEqual([]);
    }, T);
  }

  it('420 px: the Menu button opens and closes the navigation (click, Escape, picking a view) and navigates', async () => {
    await page.setViewportSize({ width: 420, height: HEIGHT });
    await goTo(page, 'settings', 'Settings');
    const link = page.locator('a[data-nav="finance"]');
    expect(await menu().getAttribute('aria-expanded')).toBe('false');
    expect(await link.isVisible()).toBe(false);

    await menu().click();
    expect(await menu().getAttribute('aria-expanded')).toBe('true');
    expect(await link.isVisible()).toBe(true);
    expect(await onScreen(link, false)).toBe(true);
    await menu().click();
    expect(await menu().getAttribute('aria-expanded')).toBe('false');
    expect(await link.isVisible()).toBe(false);

    // Keyboard: Enter opens, the arrow keys walk the links, Escape closes and gives focus back to the button.
    await menu().focus();
    await page.keyboard.press('Enter');
    await link.waitFor();
    await page.keyboard.press('Tab');
    await expect.poll(() => page.evaluate(() => document.querySelector('wf-app')?.shadowRoot?.activeElement?.getAttribute('data-nav'))).toBe('chat');
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.evaluate(() => document.querySelector('wf-app')?.shadowRoot?.activeElement?.getAttribute('data-nav'))).toBe('models');
    await page.keyboard.press('Escape');
    await link.waitFor({ state: 'hidden' });
    await expect.poll(() => page.evaluate(() => document.querySelector('wf-app')?.shadowRoot?.activeElement?.getAttribute('data-testid'))).toBe('menu-toggle');

    // Picking a view navigates and closes the menu.
    await page.keyboard.press('Enter');
    await link.click();
    await page.getByRole('heading', { level: 1, name: 'Finance' }).waitFor();
    expect(await menu().getAttribute('aria-expanded')).toBe('false');
    expect(await link.isVisible()).toBe(false);
    await menu().click();
    expect(await page.locator('a[data-nav="finance"][aria-current="page"]').isVisible()).toBe(true);
    await screenshot(page, 'menu-420');
    // Tab past its last entry (the theme toggle) into the view closes it too.
    await page.getByTestId('theme-toggle').focus();
    await page.keyboard.press('Tab');
    await link.waitFor({ state: 'hidden' });
    expect(await menu().getAttribute('aria-expanded')).toBe('false');
  }, T);

  it('420 px: the chat list is a drawer that opens, picks a conversation and closes; at 1280 px it is always there', async () => {
    await page.setViewportSize({ width: 420, height: HEIGHT });
    await goTo(page, 'chat', /./);
    expect(await drawer().isVisible()).toBe(false);
    expect(await chatsToggle().getAttribute('aria-expanded')).toBe('false');

    await chatsToggle().click();
    expect(await chatsToggle().getAttribute('aria-expanded')).toBe('true');
    const pick = page.getByRole('button', { name: /Open conversation Packing list for the Lisbon trip/ });
    await pick.waitFor();
    expect(await onScreen(pick, false)).toBe(true);
    expect(await onScreen(page.getByTestId('new-chat'), false)).toBe(true);
    await screenshot(page, 'chat-drawer-420');
    await pick.click();
    await page.getByRole('heading', { level: 1, name: 'Packing list for the Lisbon trip' }).waitFor();
    await drawer().waitFor({ state: 'hidden' });
    expect(await chatsToggle().getAttribute('aria-expanded')).toBe('false');
    await page.getByText('Sunscreen, walking shoes and a light jacket.').waitFor();
    expect(await onScreen(page.getByRole('textbox', { name: 'Message' }), false)).toBe(true);

    // Escape closes it and returns focus to the button; so does a click on the scrim beside it.
    await chatsToggle().click();
    await pick.waitFor();
    await pick.focus();
    await page.keyboard.press('Escape');
    await drawer().waitFor({ state: 'hidden' });
    expect(await chatsToggle().evaluate((el) => el.matches(':focus'))).toBe(true);
    await chatsToggle().click();
    await pick.waitFor();
    await page.mouse.click(410, 400);
    await drawer().waitFor({ state: 'hidden' });

    await page.setViewportSize({ width: 1280, height: HEIGHT });
    await drawer().waitFor();
    expect(await chatsToggle().isVisible()).toBe(false);
  }, T);

  it('the quick-ask window (#/quick, the chat alone) at 420 × 320: the composer inside it, nothing sideways', async () => {
    await page.setViewportSize({ width: 420, height: 320 });
    await page.goto(`${server.url}/#/quick`);
    await page.reload(); // the shell reads #/quick when it starts
    const box = page.getByRole('textbox', { name: 'Message' });
    await box.waitFor();
    expect(await page.locator('nav[aria-label="Main"]').count()).toBe(0);
    expect(await chatsToggle().isVisible()).toBe(false);
    await expect.poll(async () => Math.max(...Object.values(await overflow())), POLL).toBeLessThanOrEqual(0);
    expect(await onScreen(box, false)).toBe(true);
    expect(await onScreen(page.getByRole('button', { name: 'Send message' }), false)).toBe(true);
    await screenshot(page, 'quick-ask-420');
    // No model is loaded: the context meter's count is refused (503), which the meter shows as unknown.
    expect(probe.httpErrors.filter((e) => e.startsWith('503') && !e.endsWith('/api/llm/tokens'))).toEqual([]);
    expect(probe.errors.filter((e) => !/status of 503/.test(e))).toEqual([]);
    expect(probe.cspViolations).toEqual([]);
  }, T);
});
