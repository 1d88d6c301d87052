// Starts the whole main process (startDesktopApp) on the fake electron module with the fake backend.
import { startDesktopApp, type DesktopApp, type DesktopAppOptions } from '../../electron/main/app.js';
import type { NotificationSource } from '../../electron/main/notifications.js';
import { DEFAULT_QUICK_ASK_SHORTCUT } from '../../electron/main/quick-ask.js';
import { createFakeElectron, type FakeElectron, type FakeElectronOptions } from './fake-electron.js';
import { fakeBackend, type FakeBackendEnv } from './helpers.js';

export const MAIN_TITLE = 'Westfall Assistant';
export const QUICK_TITLE = 'Quick ask';

export interface Launched {
  fake: FakeElectron;
  desktop: DesktopApp;
  backend: ReturnType<typeof fakeBackend>;
  logs: string[];
}

const launched: Launched[] = [];

export interface LaunchOptions {
  args?: string[];
  fake?: FakeElectron;
  fakeOptions?: FakeElectronOptions;
  backendEnv?: FakeBackendEnv;
  backend?: Partial<DesktopAppOptions['backend']>;
  shortcut?: string | null;
  sources?: NotificationSource[];
  /** Resolve only once the backend is ready (default true). */
  waitReady?: boolean;
  worker?: DesktopAppOptions['worker'];
  workerPort?: number;
}

export async function launch(o: LaunchOptions = {}): Promise<Launched> {
  const fake = o.fake ?? createFakeElectron(o.fakeOptions);
  const backend = fakeBackend(o.backendEnv ?? {}, o.backend ?? {});
  const logs: string[] = [];
  const desktop = startDesktopApp(fake, {
    args: o.args ?? [],
    preloadPath: '/app/dist/electron/preload/index.cjs',
    iconPath: '/app/dist/electron/resources/icon.png',
    trayIconPath: '/app/dist/electron/resources/tray.png',
    logsDir: '/home/user/.config/Westfall Assistant/logs',
    backend: backend.options,
    settings: { quickAskShortcut: o.shortcut === undefined ? DEFAULT_QUICK_ASK_SHORTCUT : o.shortcut, workerHost: '127.0.0.1', workerPort: o.workerPort ?? 50052 },
    ...(o.worker ? { worker: o.worker } : {}),
    sources: o.sources ?? [],
    log: (level, message, data) => logs.push(`${level} ${message}${data ? ` ${JSON.stringify(data)}` : ''}`),
  });
  const l: Launched = { fake, desktop, backend, logs };
  launched.push(l);
  fake.ready();
  await desktop.started;
  if (o.waitReady ?? true) {
    if (desktop.supervisor?.state !== 'ready') await new Promise<void>((resolve) => desktop.supervisor?.once('ready', () => resolve()));
  }
  return l;
}

/** Quits every app launched by the test (afterEach). */
export async function quitAll(): Promise<void> {
  for (const l of launched.splice(0)) {
    if (!l.desktop.primary) continue;
    if (!l.fake.app.quitted) l.fake.app.quit();
    await l.desktop.quitDone;
  }
}

export function backendUrl(l: Launched): string {
  const addr = l.desktop.supervisor?.address;
  if (!addr) throw new Error('the backend is not running');
  return addr.baseUrl;
}
