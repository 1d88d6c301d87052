// The part of the `electron` module the main process uses, as structural interfaces. The logic modules take
// an `ElectronLike` instead of importing 'electron', so the tests drive them with a fake (Electron's binary
// is not needed to test); electron/main/index.ts passes the real module, and the compiler checks that the
// real module satisfies these interfaces.
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { BrowserWindowConstructorOptions, MenuItemConstructorOptions } from 'electron';

export type Listener = (...args: any[]) => void;

export interface EventLike {
  preventDefault(): void;
}

export interface HeadersReceivedDetails {
  url: string;
  resourceType?: string;
  responseHeaders?: Record<string, string[]>;
}

export interface HeadersReceivedResponse {
  cancel?: boolean;
  responseHeaders?: Record<string, string | string[]>;
}

export interface SessionLike {
  webRequest: {
    onHeadersReceived(listener: ((details: HeadersReceivedDetails, callback: (response: HeadersReceivedResponse) => void) => void) | null): void;
  };
  setPermissionRequestHandler(
    handler: ((webContents: any, permission: string, callback: (granted: boolean) => void, details: any) => void) | null,
  ): void;
  setPermissionCheckHandler(handler: ((webContents: any, permission: string, requestingOrigin: string, details: any) => boolean) | null): void;
}

export interface WindowOpenDetails {
  url: string;
}

export interface WebContentsLike {
  readonly id: number;
  on(event: string, listener: Listener): unknown;
  setWindowOpenHandler(handler: (details: WindowOpenDetails) => { action: 'deny' } | { action: 'allow' }): void;
  send(channel: string, ...args: any[]): void;
  getURL(): string;
  reload(): void;
  isDestroyed(): boolean;
  isLoading(): boolean;
  readonly session: SessionLike;
}

export interface BrowserWindowLike {
  readonly webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  show(): void;
  hide(): void;
  focus(): void;
  restore(): void;
  close(): void;
  destroy(): void;
  isMinimized(): boolean;
  isVisible(): boolean;
  isFocused(): boolean;
  isDestroyed(): boolean;
  setPosition(x: number, y: number): void;
  on(event: string, listener: Listener): unknown;
  once(event: string, listener: Listener): unknown;
}

export type BrowserWindowOptions = BrowserWindowConstructorOptions;

export interface NativeImageLike {
  isEmpty(): boolean;
}

export interface TrayLike {
  setToolTip(text: string): void;
  setContextMenu(menu: any): void;
  on(event: string, listener: Listener): unknown;
  destroy(): void;
  isDestroyed(): boolean;
}

export type MenuTemplateItem = MenuItemConstructorOptions;

export interface NotificationLike {
  show(): void;
  on(event: string, listener: Listener): unknown;
}

export interface IpcMainInvokeEventLike {
  readonly sender: WebContentsLike;
  readonly senderFrame: { readonly url: string } | null;
}

export interface OpenDialogOptionsLike {
  title?: string;
  buttonLabel?: string;
  properties: ('openDirectory' | 'createDirectory' | 'dontAddToRecent')[];
}

export interface AppLike {
  readonly isPackaged: boolean;
  requestSingleInstanceLock(additionalData?: Record<any, any>): boolean;
  on(event: string, listener: Listener): unknown;
  whenReady(): Promise<void>;
  quit(): void;
  exit(exitCode?: number): void;
  getVersion(): string;
  getPath(name: 'userData' | 'logs'): string;
  focus(options?: { steal: boolean }): void;
}

export interface ElectronLike {
  app: AppLike;
  BrowserWindow: new (options: BrowserWindowOptions) => BrowserWindowLike;
  session: { readonly defaultSession: SessionLike };
  ipcMain: {
    handle(channel: string, listener: (event: any, ...args: any[]) => unknown): void;
    removeHandler(channel: string): void;
  };
  shell: { openExternal(url: string): Promise<void> };
  Tray: new (image: any) => TrayLike;
  Menu: { buildFromTemplate(template: MenuTemplateItem[]): unknown };
  nativeImage: { createFromPath(path: string): NativeImageLike; createEmpty(): NativeImageLike };
  globalShortcut: {
    register(accelerator: string, callback: () => void): boolean;
    unregisterAll(): void;
  };
  Notification: (new (options: { title: string; body: string; silent?: boolean }) => NotificationLike) & { isSupported(): boolean };
  screen: {
    getCursorScreenPoint(): { x: number; y: number };
    getDisplayNearestPoint(point: { x: number; y: number }): { workArea: { x: number; y: number; width: number; height: number } };
  };
  dialog: {
    showErrorBox(title: string, content: string): void;
    showOpenDialog(window: BrowserWindowLike, options: OpenDialogOptionsLike): Promise<{ canceled: boolean; filePaths: string[] }>;
  };
}
