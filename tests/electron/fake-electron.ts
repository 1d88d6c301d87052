// A fake of the parts of the electron module the main process uses (electron/main/electron-api.ts), with
// recording, so the main process's logic runs under vitest without Electron's binary. Every call that
// matters for ordering is appended to `calls`.
import { EventEmitter } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ElectronLike, MenuTemplateItem } from '../../electron/main/electron-api.js';

export class FakeEvent {
  defaultPrevented = false;
  constructor(readonly url?: string) {}
  preventDefault(): void {
    this.defaultPrevented = true;
  }
}

type HeadersListener = (
  details: { url: string; responseHeaders?: Record<string, string[]> },
  callback: (r: { responseHeaders?: Record<string, string | string[]>; cancel?: boolean }) => void,
) => void;

export class FakeSession {
  headersListener: HeadersListener | null = null;
  permissionRequestHandler: ((wc: unknown, permission: string, cb: (granted: boolean) => void, details: unknown) => void) | null = null;
  permissionCheckHandler: ((wc: unknown, permission: string, origin: string, details: unknown) => boolean) | null = null;
  webRequest = {
    onHeadersReceived: (listener: HeadersListener | null) => {
      this.headersListener = listener;
    },
  };
  setPermissionRequestHandler(h: FakeSession['permissionRequestHandler']): void {
    this.permissionRequestHandler = h;
  }
  setPermissionCheckHandler(h: FakeSession['permissionCheckHandler']): void {
    this.permissionCheckHandler = h;
  }
  /** Runs a response through the headers listener and returns the headers it answers with. */
  respond(url: string, headers: Record<string, string[]> = {}): Record<string, string | string[]> | undefined {
    let out: Record<string, string | string[]> | undefined;
    this.headersListener?.({ url, responseHeaders: headers }, (r) => (out = r.responseHeaders));
    return out;
  }
  /** Asks for a permission; resolves with the handler's answer (undefined when there is no handler). */
  request(permission: string): Promise<boolean | undefined> {
    return new Promise((resolve) => {
      if (!this.permissionRequestHandler) return resolve(undefined);
      this.permissionRequestHandler({}, permission, resolve, {});
    });
  }
}

let nextId = 1;

export class FakeWebContents extends EventEmitter {
  readonly id = nextId++;
  url = '';
  loading = false;
  destroyed = false;
  reloads = 0;
  sent: [string, ...unknown[]][] = [];
  windowOpenHandler: ((details: { url: string }) => { action: 'deny' } | { action: 'allow' }) | null = null;
  constructor(readonly session: FakeSession) {
    super();
  }
  setWindowOpenHandler(h: NonNullable<FakeWebContents['windowOpenHandler']>): void {
    this.windowOpenHandler = h;
  }
  send(channel: string, ...args: unknown[]): void {
    this.sent.push([channel, ...args]);
  }
  getURL(): string {
    return this.url;
  }
  reload(): void {
    this.reloads++;
  }
  isDestroyed(): boolean {
    return this.destroyed;
  }
  isLoading(): boolean {
    return this.loading;
  }
  /** Simulates the page navigating (a link click): returns whether the navigation was prevented. */
  navigate(url: string): boolean {
    const e = new FakeEvent(url);
    this.emit('will-navigate', e, url);
    return e.defaultPrevented;
  }
  redirect(url: string): boolean {
    const e = new FakeEvent(url);
    this.emit('will-redirect', e, url);
    return e.defaultPrevented;
  }
  attachWebview(): boolean {
    const e = new FakeEvent();
    this.emit('will-attach-webview', e, {}, {});
    return e.defaultPrevented;
  }
  open(url: string): { action: string } | undefined {
    return this.windowOpenHandler?.({ url });
  }
}

export interface FakeMenu {
  template: MenuTemplateItem[];
}

export interface LockRegistry {
  holder: FakeElectron | null;
}

export interface FakeElectronOptions {
  /** Shared between fakes to simulate two launches of the same app. */
  lock?: LockRegistry;
  /** Accelerators some other app holds. */
  takenShortcuts?: string[];
  version?: string;
  notificationsSupported?: boolean;
}

export type FakeElectron = ReturnType<typeof createFakeElectron>;

export function createFakeElectron(options: FakeElectronOptions = {}) {
  const calls: string[] = [];
  const lock = options.lock ?? { holder: null };
  const defaultSession = new FakeSession();
  const userData = mkdtempSync(join(tmpdir(), 'westfall-fake-electron-'));

  class FakeApp extends EventEmitter {
    isPackaged = false;
    quitCount = 0;
    exited: number | null = null;
    quitted = false;
    lockData: unknown = undefined;
    readyResolve!: () => void;
    private readonly ready = new Promise<void>((r) => (this.readyResolve = r));
    requestSingleInstanceLock(additionalData?: Record<string, unknown>): boolean {
      this.lockData = additionalData;
      if (lock.holder && lock.holder !== fake) {
        // Electron delivers the second launch to the first instance's app.
        lock.holder.app.emit('second-instance', new FakeEvent(), ['/opt/westfall/westfall', '--mangled-by-chromium', ...((additionalData?.argv as string[]) ?? [])], '/home/user', additionalData);
        return false;
      }
      lock.holder = fake;
      return true;
    }
    whenReady(): Promise<void> {
      return this.ready;
    }
    quit(): void {
      calls.push('app.quit');
      this.quitCount++;
      const e = new FakeEvent();
      this.emit('before-quit', e);
      if (e.defaultPrevented) return;
      this.emit('will-quit', new FakeEvent());
      this.quitted = true;
      calls.push('app.quitted');
      if (lock.holder === fake) lock.holder = null;
    }
    exit(code = 0): void {
      calls.push(`app.exit(${code})`);
      this.exited = code;
    }
    getVersion(): string {
      return options.version ?? '0.1.0';
    }
    getPath(name: string): string {
      return join(userData, name);
    }
    focus(): void {
      calls.push('app.focus');
    }
  }
  const app = new FakeApp();

  const windows: FakeBrowserWindow[] = [];
  class FakeBrowserWindow extends EventEmitter {
    readonly webContents: FakeWebContents;
    loaded: string[] = [];
    visible: boolean;
    focused = false;
    minimized = false;
    destroyed = false;
    position: [number, number] | null = null;
    constructor(readonly options: ConstructorParameters<ElectronLike['BrowserWindow']>[0]) {
      super();
      this.visible = options.show !== false;
      this.webContents = new FakeWebContents(defaultSession);
      windows.push(this);
      calls.push(`window.create(${options.title ?? ''})`);
      app.emit('web-contents-created', new FakeEvent(), this.webContents);
    }
    loadURL(url: string): Promise<void> {
      this.loaded.push(url);
      this.webContents.url = url;
      return Promise.resolve();
    }
    get lastUrl(): string | undefined {
      return this.loaded.at(-1);
    }
    show(): void {
      this.visible = true;
    }
    hide(): void {
      this.visible = false;
      this.focused = false;
    }
    focus(): void {
      this.focused = true;
      calls.push(`window.focus(${this.options.title ?? ''})`);
    }
    restore(): void {
      this.minimized = false;
    }
    minimize(): void {
      this.minimized = true;
      this.focused = false;
    }
    close(): void {
      const e = new FakeEvent();
      this.emit('close', e);
      if (!e.defaultPrevented) this.destroy();
    }
    destroy(): void {
      if (this.destroyed) return;
      this.destroyed = true;
      this.webContents.destroyed = true;
      calls.push(`window.destroy(${this.options.title ?? ''})`);
      this.emit('closed');
    }
    isMinimized(): boolean {
      return this.minimized;
    }
    isVisible(): boolean {
      return this.visible;
    }
    isFocused(): boolean {
      return this.focused;
    }
    isDestroyed(): boolean {
      return this.destroyed;
    }
    setPosition(x: number, y: number): void {
      this.position = [x, y];
    }
  }

  const trays: FakeTray[] = [];
  class FakeTray extends EventEmitter {
    menu: FakeMenu | null = null;
    tooltip = '';
    destroyed = false;
    constructor(readonly image: unknown) {
      super();
      trays.push(this);
      calls.push('tray.create');
    }
    setToolTip(t: string): void {
      this.tooltip = t;
    }
    setContextMenu(menu: FakeMenu): void {
      this.menu = menu;
    }
    destroy(): void {
      this.destroyed = true;
      calls.push('tray.destroy');
    }
    isDestroyed(): boolean {
      return this.destroyed;
    }
    item(id: string): MenuTemplateItem | undefined {
      return this.menu?.template.find((i) => i.id === id);
    }
    click(id: string): void {
      const item = this.item(id);
      if (!item) throw new Error(`no tray menu item ${id}`);
      if (item.enabled === false) throw new Error(`tray menu item ${id} is disabled`);
      (item.click as () => void)();
    }
  }

  const notifications: FakeNotification[] = [];
  class FakeNotification extends EventEmitter {
    static isSupported(): boolean {
      return options.notificationsSupported ?? true;
    }
    shown = false;
    constructor(readonly options: { title: string; body: string; silent?: boolean }) {
      super();
      notifications.push(this);
    }
    show(): void {
      this.shown = true;
      calls.push(`notification(${this.options.title})`);
    }
  }

  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  const ipcMain = {
    handle(channel: string, listener: (event: unknown, ...args: unknown[]) => unknown): void {
      if (handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
      handlers.set(channel, listener);
    },
    removeHandler(channel: string): void {
      if (handlers.delete(channel)) calls.push(`ipc.removeHandler(${channel})`);
    },
    /** What ipcRenderer.invoke would get, from a page at `frameUrl` in `sender`. */
    async invoke(channel: string, from: { url: string; sender?: FakeWebContents }, ...args: unknown[]): Promise<unknown> {
      const h = handlers.get(channel);
      if (!h) throw new Error(`No handler registered for '${channel}'`);
      return await h({ sender: from.sender ?? new FakeWebContents(defaultSession), senderFrame: { url: from.url } }, ...args);
    },
    handlers,
  };

  const shortcuts = new Map<string, () => void>();
  const globalShortcut = {
    register(accelerator: string, cb: () => void): boolean {
      if (options.takenShortcuts?.includes(accelerator)) return false;
      shortcuts.set(accelerator, cb);
      calls.push(`globalShortcut.register(${accelerator})`);
      return true;
    },
    unregisterAll(): void {
      shortcuts.clear();
      calls.push('globalShortcut.unregisterAll');
    },
    trigger(accelerator: string): void {
      const cb = shortcuts.get(accelerator);
      if (!cb) throw new Error(`${accelerator} is not registered`);
      cb();
    },
    shortcuts,
  };

  const opened: string[] = [];
  const openDialogs: { window: FakeBrowserWindow; options: { title?: string; buttonLabel?: string; properties: string[] } }[] = [];
  const openDialogAnswers: (string | null)[] = [];
  const fake = {
    app,
    BrowserWindow: FakeBrowserWindow,
    session: { defaultSession },
    ipcMain,
    shell: {
      async openExternal(url: string): Promise<void> {
        opened.push(url);
      },
    },
    Tray: FakeTray,
    Menu: { buildFromTemplate: (template: MenuTemplateItem[]): FakeMenu => ({ template }) },
    nativeImage: {
      createFromPath: (path: string) => ({ path, isEmpty: () => false }),
      createEmpty: () => ({ path: '', isEmpty: () => true }),
    },
    globalShortcut,
    Notification: FakeNotification,
    screen: {
      getCursorScreenPoint: () => ({ x: 100, y: 100 }),
      getDisplayNearestPoint: () => ({ workArea: { x: 0, y: 0, width: 1920, height: 1080 } }),
    },
    dialog: {
      showErrorBox: (title: string, content: string) => calls.push(`dialog(${title}: ${content})`),
      /** Answers with the next of `openDialogAnswers` (a path, or null for Cancel); each call is in `openDialogs`. */
      async showOpenDialog(window: FakeBrowserWindow, opts: { title?: string; buttonLabel?: string; properties: string[] }) {
        openDialogs.push({ window, options: opts });
        calls.push(`dialog.open(${window.options.title})`);
        const answer = openDialogAnswers.shift();
        return answer ? { canceled: false, filePaths: [answer] } : { canceled: true, filePaths: [] };
      },
    },
    openDialogs,
    openDialogAnswers,
    // inspection
    calls,
    windows,
    trays,
    notifications,
    opened,
    userData,
    /** The window with this title (the last one created). */
    window(title: string): FakeBrowserWindow | undefined {
      return windows.filter((w) => w.options.title === title).at(-1);
    },
    ready(): void {
      app.readyResolve();
    },
  };
  // The fake must satisfy the interface the main process is written against.
  const typed: ElectronLike = fake;
  void typed;
  return fake;
}
