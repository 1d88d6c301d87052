// The quick-ask window: small, frameless, always on top, shown by a global shortcut (configurable, default
// CommandOrControl+Shift+Space), the tray or `--quick-ask "text"`. It loads the renderer at
// `<backend>/#/quick` (the renderer's compact chat); the text arrives through window.westfall.onQuickAsk.
import type { BrowserWindowLike, BrowserWindowOptions, ElectronLike } from './electron-api.js';
import { CHANNELS, MAX_QUICK_ASK_CHARS, type QuickAskEvent } from '../shared/contract.js';
import { secureWebPreferences } from './windows.js';

export const DEFAULT_QUICK_ASK_SHORTCUT = 'CommandOrControl+Shift+Space';
/** The renderer route of the quick-ask window (part of the contract with the renderer). */
export const QUICK_ASK_ROUTE = '/#/quick';
export const QUICK_ASK_SIZE = { width: 640, height: 180 } as const;

export function quickAskWindowOptions(preloadPath: string, appVersion: string): BrowserWindowOptions {
  return {
    ...QUICK_ASK_SIZE,
    show: false,
    frame: false,
    alwaysOnTop: true,
    resizable: false,
    minimizable: false,
    maximizable: false,
    fullscreenable: false,
    skipTaskbar: true,
    title: 'Quick ask',
    backgroundColor: '#1e1e1e',
    webPreferences: secureWebPreferences(preloadPath, appVersion),
  };
}

export interface QuickAskOptions {
  preloadPath: string;
  appVersion: string;
  /** The backend's base URL now, or null while it is not ready. */
  baseUrl: () => string | null;
  /** Hide when the window loses focus (default true). */
  hideOnBlur?: boolean;
}

export class QuickAsk {
  private win: BrowserWindowLike | null = null;
  private loadedFrom: string | null = null;
  /** Taken by the page through CHANNELS.takeQuickAsk once it subscribes. */
  private pending: QuickAskEvent | null = null;
  private closing = false;

  constructor(
    private readonly electron: Pick<ElectronLike, 'BrowserWindow' | 'screen'>,
    private readonly options: QuickAskOptions,
  ) {}

  get window(): BrowserWindowLike | null {
    return this.win && !this.win.isDestroyed() ? this.win : null;
  }

  /** Shows the window (creating it if needed) and hands it `text`. Returns false while the backend is not ready. */
  open(text = ''): boolean {
    if (this.closing) return false;
    const base = this.options.baseUrl();
    if (!base) return false;
    const event: QuickAskEvent = { text: text.slice(0, MAX_QUICK_ASK_CHARS) };
    const win = this.ensureWindow();
    const url = `${base}${QUICK_ASK_ROUTE}`;
    if (this.loadedFrom !== base) {
      this.loadedFrom = base;
      this.pending = event;
      void win.loadURL(url).catch(() => undefined);
    } else if (win.webContents.isLoading()) {
      this.pending = event;
    } else {
      win.webContents.send(CHANNELS.quickAsk, event);
    }
    this.position(win);
    win.show();
    win.focus();
    return true;
  }

  /** The shortcut's action: hide when focused, otherwise open. */
  toggle(): void {
    const win = this.window;
    if (win && win.isVisible() && win.isFocused()) win.hide();
    else this.open('');
  }

  /** For CHANNELS.takeQuickAsk: the pending event of this window, once. */
  takePending(webContentsId: number): QuickAskEvent | null {
    if (!this.window || this.window.webContents.id !== webContentsId) return null;
    const p = this.pending;
    this.pending = null;
    return p;
  }

  /** After a backend restart the page must be reloaded from the new address. */
  invalidate(): void {
    this.loadedFrom = null;
    this.window?.hide();
  }

  destroy(): void {
    this.closing = true;
    const win = this.window;
    this.win = null;
    win?.destroy();
  }

  private ensureWindow(): BrowserWindowLike {
    const existing = this.window;
    if (existing) return existing;
    const win = new this.electron.BrowserWindow(quickAskWindowOptions(this.options.preloadPath, this.options.appVersion));
    if (this.options.hideOnBlur ?? true) win.on('blur', () => win.isDestroyed() || win.hide());
    win.on('closed', () => {
      if (this.win === win) {
        this.win = null;
        this.loadedFrom = null;
      }
    });
    this.win = win;
    return win;
  }

  private position(win: BrowserWindowLike): void {
    try {
      const point = this.electron.screen.getCursorScreenPoint();
      const { workArea } = this.electron.screen.getDisplayNearestPoint(point);
      const x = Math.round(workArea.x + (workArea.width - QUICK_ASK_SIZE.width) / 2);
      const y = Math.round(workArea.y + workArea.height * 0.25);
      win.setPosition(x, y);
    } catch {
      // screen is unavailable on some Linux sessions; the window manager places it
    }
  }
}

export interface ShortcutResult {
  accelerator: string | null;
  registered: boolean;
}

/** Registers the quick-ask shortcut; null disables it. A taken shortcut is reported, not thrown. */
export function registerQuickAskShortcut(
  globalShortcut: ElectronLike['globalShortcut'],
  accelerator: string | null,
  action: () => void,
): ShortcutResult {
  if (!accelerator) return { accelerator: null, registered: false };
  let ok = false;
  try {
    ok = globalShortcut.register(accelerator, action);
  } catch {
    ok = false;
  }
  return { accelerator, registered: ok };
}
