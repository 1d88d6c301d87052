// Where the compiled pieces are, relative to the compiled main (dist/electron/main/index.js), both in the
// repository and inside the packaged app (app.asar keeps the same layout).
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AppPaths {
  /** The package root (the repository, or app.asar). */
  root: string;
  cli: string;
  preload: string;
  icon: string;
  trayIcon: string;
}

export function appPaths(mainModuleUrl: string): AppPaths {
  const mainDir = dirname(fileURLToPath(mainModuleUrl)); // dist/electron/main
  const electronDir = resolve(mainDir, '..'); // dist/electron
  const root = resolve(electronDir, '..', '..');
  return {
    root,
    cli: join(root, 'dist', 'cli', 'index.js'),
    preload: join(electronDir, 'preload', 'index.cjs'),
    icon: join(electronDir, 'resources', 'icon.png'),
    trayIcon: join(electronDir, 'resources', 'tray.png'),
  };
}
