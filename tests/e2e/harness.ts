// End-to-end harness: builds the renderer, starts the backend (a real `westfall serve` child process, or
// createApp in-process when a test needs plugins the CLI does not register yet), drives Debian's Chromium
// through playwright-core, and saves screenshots to test-results/screenshots/.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { configFrom, type Config, type RawSettings } from '../../src/config/index.js';
import { DEFAULT_MODELS_DIR, SYNTHETIC_FILES } from '../../src/gguf/index.js';
import { createApp, ModelManager, type AppDeps, type ServerPlugin } from '../../src/server/index.js';
import { LoginCodes, rendererRoutes } from '../../src/server/routes/renderer.js';

export const ROOT = join(import.meta.dirname, '..', '..');
export const CLI = join(ROOT, 'src', 'cli', 'index.ts');
export const TINY_MODEL = join(DEFAULT_MODELS_DIR, SYNTHETIC_FILES.tiny);
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');
export const CHROMIUM = process.env.WESTFALL_E2E_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
export const TOKEN = 'e2e-token-0123456789abcdefghij';

let built = false;
/** Builds dist/renderer once per test process (esbuild, well under a second). */
export function buildRenderer(): void {
  if (built) return;
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-renderer.mjs')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`renderer build failed:\n${r.stdout}\n${r.stderr}`);
  built = true;
}

export function tempDir(prefix = 'westfall-e2e-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 20_000, stepMs = 50, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await sleep(stepMs);
  }
}

// ---------------------------------------------------------------------------------------------------
// The backend as `westfall serve`

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** The one-time login link of the banner. */
  loginUrl: string;
  stdout: () => string;
  stderr: () => string;
  stop: () => Promise<void>;
}

export async function startServe(args: string[], env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--port', '0', '--host', '127.0.0.1', ...args], {
    cwd: ROOT,
    env: { ...process.env, NODE_OPTIONS: '', WESTFALL_THREADS: '1', WESTFALL_LOG_FILE: 'false', WESTFALL_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (err += String(d)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const loginUrl = await eventually(
    (): string | undefined => {
      if (child.exitCode !== null) throw new Error(`westfall serve exited with ${child.exitCode}:\n${out}\n${err}`);
      return /(http:\/\/127\.0\.0\.1:\d+\/#login=[A-Za-z0-9_-]+)/.exec(out)?.[1];
    },
    60_000,
    100,
    'the login link of westfall serve',
  );
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
  return {
    child,
    url,
    loginUrl,
    stdout: () => out,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

export async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  await eventually(async () => (await fetch(`${url}/health/ready`).catch(() => null))?.status === 200, timeoutMs, 100, 'model ready');
}

// ---------------------------------------------------------------------------------------------------
// The backend in-process (for plugins the CLI does not register yet)

export interface InProcessServer {
  url: string;
  config: Config;
  manager: ModelManager;
  logins: LoginCodes;
  loginUrl: () => string;
  close: () => Promise<void>;
}

export async function startInProcess(opts: { settings?: RawSettings; plugins?: ServerPlugin[]; load?: boolean; deps?: (manager: ModelManager) => Partial<AppDeps> }): Promise<InProcessServer> {
  const config = configFrom({
    WESTFALL_API_TOKEN: TOKEN,
    WESTFALL_CONTEXT_SIZE: 2048,
    WESTFALL_THREADS: 1,
    WESTFALL_PARALLEL: 1,
    WESTFALL_LOG_FILE: false,
    WESTFALL_SHUTDOWN_TIMEOUT_MS: 3000,
    ...opts.settings,
  });
  const manager = ModelManager.fromConfig(config);
  if (opts.load) await manager.load(TINY_MODEL);
  const logins = new LoginCodes();
  const app = createApp(config, { ...opts.deps?.(manager), manager, extraPlugins: [...(opts.plugins ?? []), rendererRoutes({ logins })] });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const url = `http://127.0.0.1:${port}`;
  return { url, config, manager, logins, loginUrl: () => `${url}/#login=${logins.issue()}`, close: () => app.close() };
}

// ---------------------------------------------------------------------------------------------------
// The browser

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-dev-shm-usage'],
  });
}

export interface PageProbe {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions and console errors (4xx answers excepted: the UI handles them, e.g. a wrong master password; see httpErrors). */
  errors: string[];
  /** Content-Security-Policy violations reported by the browser. */
  cspViolations: string[];
  /** Responses with status >= 400: "STATUS METHOD URL". */
  httpErrors: string[];
  close: () => Promise<void>;
}

export async function openPage(browser: Browser, opts: { colorScheme?: 'light' | 'dark'; origin?: string } = {}): Promise<PageProbe> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: opts.colorScheme ?? 'light' });
  if (opts.origin) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: opts.origin });
  // Playwright's 30 s default is a speed assertion on a busy 2-core CI machine; a wait that succeeds
  // returns as soon as it does, so the longer limit costs nothing.
  context.setDefaultTimeout(120_000);
  context.setDefaultNavigationTimeout(120_000);
  const page = await context.newPage();
  const errors: string[] = [];
  const cspViolations: string[] = [];
  const httpErrors: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) httpErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content.Security.Policy/i.test(text)) cspViolations.push(text);
    else if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) errors.push(`console: ${text}`);
  });
  return { context, page, errors, cspViolations, httpErrors, close: () => context.close() };
}

/**
 * Saves test-results/screenshots/<name>.png. `whole`: the view's full height (the app scrolls inside <main>,
 * so Playwright's fullPage would not see it): the viewport grows to fit for the shot.
 */
export async function screenshot(page: Page, name: string, whole = false): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  const size = page.viewportSize();
  if (whole && size) {
    const height = await page.evaluate(() => {
      const main = document.querySelector('wf-app')?.shadowRoot?.querySelector('main');
      if (!main) return 0;
      main.scrollTop = 0;
      return main.scrollHeight;
    });
    if (height > size.height) {
      await page.setViewportSize({ width: size.width, height: Math.min(4000, height) });
      await sleep(150);
      await page.screenshot({ path });
      await page.setViewportSize(size);
      return path;
    }
  }
  await page.screenshot({ path });
  return path;
}

/** Signs in through a one-time login link and waits for the app shell. */
export async function login(page: Page, loginUrl: string): Promise<void> {
  await page.goto(loginUrl);
  await page.locator('nav[aria-label="Main"]').waitFor();
}

/** Goes to a view through the navigation (opening the narrow layout's menu first) and waits for its heading. */
export async function goTo(page: Page, route: string, heading: string | RegExp): Promise<void> {
  const link = page.locator(`a[data-nav="${route}"]`);
  // Narrow windows keep the links in the top bar's Menu.
  if (!(await link.isVisible())) await page.getByTestId('menu-toggle').click();
  await link.click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}
