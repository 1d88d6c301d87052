// The electron-builder configuration, loaded and schema-validated by electron-builder's own code (no build:
// packaging needs Electron's binaries from the network).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { appPaths } from '../../electron/main/paths.js';
import { repoRoot } from './helpers.js';

const require = createRequire(import.meta.url);

interface Target {
  target: string;
  arch?: string[];
}
interface BuilderConfig {
  appId?: string;
  productName?: string;
  directories?: { output?: string; buildResources?: string };
  extraMetadata?: { main?: string };
  /** Normalized by getConfig to [{ filter: [...] }]. */
  files?: (string | { filter?: string[] })[];
  asar?: boolean;
  asarUnpack?: string[];
  npmRebuild?: boolean;
  electronFuses?: Record<string, boolean>;
  win?: { target?: Target[] };
  mac?: { target?: Target[]; category?: string };
  linux?: { target?: Target[]; category?: string; maintainer?: string };
  nsis?: Record<string, unknown>;
}

async function loadConfig(): Promise<BuilderConfig> {
  const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
    getConfig(projectDir: string, configPath: string | null, fromOptions: null): Promise<BuilderConfig>;
    validateConfiguration(config: BuilderConfig, logger: unknown): Promise<void>;
  };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  const config = await getConfig(repoRoot, null, null); // finds electron-builder.yml like the CLI does
  await validateConfiguration(config, new DebugLogger(false)); // throws on unknown or misplaced options
  return config;
}

const targets = (t: { target?: Target[] } | undefined): string[] => (t?.target ?? []).map((x) => x.target);

describe('electron-builder configuration', () => {
  it('is valid and names the app', async () => {
    const c = await loadConfig();
    expect(c.appId).toBe('com.westfall.assistant');
    expect(c.productName).toBe('Westfall Assistant');
    expect(c.directories?.output).toBe('release');
    // build/ is the native addon's CMake tree, not electron-builder's resources.
    expect(c.directories?.buildResources).toBe('electron/resources');
    expect(existsSync(join(repoRoot, 'electron', 'resources', 'icon.png'))).toBe(true);
  });

  it('builds NSIS for Windows, DMG for macOS, AppImage and deb for Linux', async () => {
    const c = await loadConfig();
    expect(targets(c.win)).toEqual(['nsis']);
    expect(targets(c.mac)).toEqual(['dmg']);
    expect(targets(c.linux).sort()).toEqual(['AppImage', 'deb']);
    expect(c.linux?.maintainer).toMatch(/<.+@.+>/); // deb needs one
    expect(c.nsis).toMatchObject({ oneClick: false, perMachine: false });
  });

  it('starts the compiled main process and ships the backend, the preload and the native addons', async () => {
    const c = await loadConfig();
    expect(c.extraMetadata?.main).toBe('dist/electron/main/index.js');
    // The main process finds the CLI and the preload where the config ships them.
    const paths = appPaths(pathToFileURL(join(repoRoot, c.extraMetadata!.main!)).href);
    expect(paths.cli).toBe(join(repoRoot, 'dist', 'cli', 'index.js'));
    expect(paths.preload).toBe(join(repoRoot, 'dist', 'electron', 'preload', 'index.cjs'));
    const files = (c.files ?? []).flatMap((f) => (typeof f === 'string' ? [f] : (f.filter ?? [])));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'dist/**/*', 'build/Release/*.node', 'prebuilds/**/*', '!dist/**/*.map']));
    expect(c.asar).toBe(true);
    expect(c.asarUnpack).toEqual(
      expect.arrayContaining(['build/Release/*.node', 'prebuilds/**/*', 'node_modules/better-sqlite3/build/Release/better_sqlite3.node']),
    );
    expect(c.npmRebuild).toBe(true); // better-sqlite3 is rebuilt for Electron's ABI
    expect(c.electronFuses?.runAsNode).toBe(true); // the backend runs with ELECTRON_RUN_AS_NODE
  });

  it('unpacks patterns that match the files the build produces', async () => {
    const c = await loadConfig();
    const { minimatch } = require('minimatch') as { minimatch: (p: string, pattern: string) => boolean };
    const addon = join('build', 'Release', 'westfall_llama.node');
    if (existsSync(join(repoRoot, addon))) expect(c.asarUnpack!.some((p) => minimatch(addon, p))).toBe(true);
    expect(c.asarUnpack!.some((p) => minimatch('prebuilds/linux-x64/westfall_llama.node', p))).toBe(true);
    expect(c.asarUnpack!.some((p) => minimatch('node_modules/better-sqlite3/build/Release/better_sqlite3.node', p))).toBe(true);
    // electron-builder and electron are devDependencies (never shipped inside the app).
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['electron', 'electron-builder']));
  });
});
