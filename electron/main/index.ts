// The real entry of the Electron main process (dist/electron/main/index.js): wires the electron module into
// startDesktopApp. Everything with logic lives in the modules it imports, which are tested with a fake.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as electron from 'electron';
import { startDesktopApp, type Log } from './app.js';
import type { ElectronLike } from './electron-api.js';
import { downloadsSource, remindersSource } from './notifications.js';
import { appPaths } from './paths.js';
import { loadDesktopSettings } from './settings.js';
import { ownArgs } from './single-instance.js';

const real: ElectronLike = {
  app: electron.app,
  BrowserWindow: electron.BrowserWindow,
  session: electron.session,
  ipcMain: electron.ipcMain,
  shell: electron.shell,
  Tray: electron.Tray,
  Menu: electron.Menu,
  nativeImage: electron.nativeImage,
  globalShortcut: electron.globalShortcut,
  Notification: electron.Notification,
  screen: electron.screen,
  dialog: {
    showErrorBox: (title, content) => electron.dialog.showErrorBox(title, content),
    // Every BrowserWindowLike here was made by electron.BrowserWindow (real.BrowserWindow above).
    showOpenDialog: (window, options) => electron.dialog.showOpenDialog(window as electron.BrowserWindow, options),
  },
};

const { app } = electron;
const paths = appPaths(import.meta.url);
const logsDir = app.getPath('logs');

// The terminal gets what WESTFALL_LOG_LEVEL (shared with the backend) lets through; desktop.log gets everything.
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
const consoleLevel = ({ trace: 0, debug: 0, info: 1, warn: 2, error: 3, fatal: 3, silent: 4 } as Record<string, number>)[process.env.WESTFALL_LOG_LEVEL ?? 'info'] ?? 1;
const log: Log = (level, message, data) => {
  const line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}${data ? ` ${JSON.stringify(data)}` : ''}`;
  if (LEVELS.indexOf(level) >= consoleLevel) (level === 'error' ? console.error : console.log)(line);
  try {
    mkdirSync(logsDir, { recursive: true });
    appendFileSync(join(logsDir, 'desktop.log'), `${line}\n`);
  } catch {
    // logging must never take the app down
  }
};

if (process.platform === 'win32') app.setAppUserModelId('com.westfall.assistant');

const userData = app.getPath('userData');
mkdirSync(userData, { recursive: true }); // the backend's working directory
const { settings, warnings } = loadDesktopSettings(userData);
for (const w of warnings) log('warn', w);

// Packaged: Electron's own Node (ELECTRON_RUN_AS_NODE) runs the CLI from app.asar. In development
// (`npm start`), the Node that ran npm does, so native modules built for Node's ABI load.
const devNode = !app.isPackaged ? process.env.WESTFALL_BACKEND_NODE : undefined;
const command = devNode || process.execPath;
const env: NodeJS.ProcessEnv = { ...process.env };
delete env.WESTFALL_BACKEND_NODE;
if (!devNode) env.ELECTRON_RUN_AS_NODE = '1';

startDesktopApp(real, {
  args: ownArgs(process.argv, app.isPackaged),
  preloadPath: paths.preload,
  iconPath: paths.icon,
  trayIconPath: paths.trayIcon,
  logsDir,
  settings,
  log,
  backend: {
    command,
    args: (port) => [paths.cli, 'serve', '--port', String(port)],
    env,
    cwd: userData,
  },
  worker: { command, args: (flags) => [paths.cli, 'worker', ...flags], env, cwd: userData },
  // A click on a notification opens the main window (the notifier's default).
  sources: [downloadsSource(), remindersSource()],
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());
