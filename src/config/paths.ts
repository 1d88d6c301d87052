// Where Westfall keeps its files on each operating system. Pure: the platform, environment and home
// directory are parameters so tests can check every OS from any machine.
import { homedir } from 'node:os';
import path from 'node:path';

export interface PlatformInfo {
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  home: string;
}

function currentPlatform(): PlatformInfo {
  return { platform: process.platform, env: process.env, home: homedir() };
}

/**
 * The per-user data directory:
 * - Windows: %LOCALAPPDATA%/Westfall/Assistant
 * - macOS: ~/Library/Application Support/Westfall/Assistant
 * - Linux and others: $XDG_DATA_HOME/westfall-assistant, or ~/.local/share/westfall-assistant
 */
export function defaultDataDir(info: PlatformInfo = currentPlatform()): string {
  const { platform, env, home } = info;
  if (platform === 'win32') {
    const p = path.win32;
    const local = env.LOCALAPPDATA || p.join(home, 'AppData', 'Local');
    return p.join(local, 'Westfall', 'Assistant');
  }
  if (platform === 'darwin') return path.posix.join(home, 'Library', 'Application Support', 'Westfall', 'Assistant');
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  const base = xdg && path.posix.isAbsolute(xdg) ? xdg : path.posix.join(home, '.local', 'share');
  return path.posix.join(base, 'westfall-assistant');
}

/** The folders under the data directory. */
export function dataSubdirs(dataDir: string): { logsDir: string; stateDir: string; modelsDir: string } {
  return {
    logsDir: path.join(dataDir, 'logs'),
    stateDir: path.join(dataDir, 'state'),
    modelsDir: path.join(dataDir, 'models'),
  };
}
