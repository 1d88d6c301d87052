#!/usr/bin/env node
// `npm start`: builds what is missing or stale, then
//   - with Electron's binary installed: runs the desktop app (Electron on dist/electron/main/index.js);
//   - without it (ELECTRON_SKIP_BINARY_DOWNLOAD, CI, servers): runs `westfall serve` and prints the browser
//     login URL.
// Arguments after `--` go to the app or to `westfall serve` (`npm start -- --port 9000`). Own flags:
//   --no-build   use dist/ as it is          --browser   never start Electron
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const argv = process.argv.slice(2);
const noBuild = argv.includes('--no-build');
const browserOnly = argv.includes('--browser');
const passThrough = argv.filter((a) => a !== '--no-build' && a !== '--browser');

const say = (line) => process.stderr.write(`[start] ${line}\n`);

function newestMtime(dir, exts) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p, exts));
    else if (exts.some((e) => entry.name.endsWith(e))) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function mtime(p) {
  return existsSync(p) ? statSync(p).mtimeMs : 0;
}

function run(what, args) {
  say(`${what}…`);
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  return r.status === 0;
}

function tscBin() {
  return join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
}

/** The Electron executable when its binary is installed, else null (and why). */
function findElectron() {
  try {
    const path = require('electron');
    if (typeof path === 'string' && existsSync(path)) return { path };
    return { path: null, why: `the electron package points at ${path}, which does not exist` };
  } catch (err) {
    return { path: null, why: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}

const cli = join(root, 'dist', 'cli', 'index.js');
const electronMain = join(root, 'dist', 'electron', 'main', 'index.js');
const electron = browserOnly ? { path: null, why: '--browser was given' } : findElectron();

if (!noBuild) {
  const addonBuilt =
    (existsSync(join(root, 'build', 'Release')) && readdirSync(join(root, 'build', 'Release')).some((f) => f.endsWith('.node'))) ||
    existsSync(join(root, 'prebuilds'));
  if (!addonBuilt && !run('building the native addon (first run; takes a while)', [join(root, 'scripts', 'build-native.mjs')])) process.exit(1);
  if (newestMtime(join(root, 'src'), ['.ts']) > mtime(cli)) {
    if (!run('compiling the backend (tsc)', [tscBin(), '-p', join(root, 'tsconfig.json')])) {
      if (!existsSync(cli)) process.exit(1);
      say('the TypeScript build reported errors; starting with what was emitted');
    }
  }
  // The web UI (served by the backend to the window and to browsers), when this checkout has one.
  const rendererBuild = join(root, 'scripts', 'build-renderer.mjs');
  if (existsSync(rendererBuild) && existsSync(join(root, 'renderer'))) {
    const built = join(root, 'dist', 'renderer', 'index.html');
    if (newestMtime(join(root, 'renderer'), ['.ts', '.css', '.html', '.svg', '.json']) > mtime(built) && !run('building the web UI', [rendererBuild])) {
      if (!existsSync(built)) say('the web UI could not be built; the backend will answer 503 at /');
    }
  }
  if (electron.path) {
    const stale = newestMtime(join(root, 'electron'), ['.ts', '.mjs', '.png', '.json']) > mtime(electronMain) || !existsSync(join(root, 'dist', 'electron', 'preload', 'index.cjs'));
    if (stale && !run('building the desktop shell', [join(root, 'electron', 'build.mjs')])) process.exit(1);
  }
}

function supervise(child) {
  // The child has its own process group on POSIX, so a terminal's Ctrl+C reaches only us and we pass it on
  // exactly once (a second SIGINT would make `westfall serve` exit without its graceful shutdown).
  let forwarded = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (forwarded && signal !== 'SIGINT') return;
      forwarded = true;
      child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
    });
  }
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
  child.on('error', (err) => {
    say(`could not start: ${err.message}`);
    process.exit(1);
  });
}

const detached = process.platform !== 'win32';

if (electron.path) {
  if (!existsSync(electronMain)) {
    say(`${electronMain} is missing; run \`node electron/build.mjs\``);
    process.exit(1);
  }
  say(`starting the desktop app with Electron (${electron.path})`);
  const child = spawn(electron.path, [electronMain, ...passThrough], {
    cwd: root,
    stdio: 'inherit',
    detached,
    // The backend child runs on this Node (whose ABI the native modules were built for), not Electron's.
    env: { ...process.env, WESTFALL_BACKEND_NODE: process.execPath },
  });
  supervise(child);
} else {
  if (!existsSync(cli)) {
    say(`${cli} is missing; run \`npm run build\``);
    process.exit(1);
  }
  process.stderr.write(
    [
      '',
      'Electron is not installed, so the desktop window cannot open.',
      `  (${electron.why})`,
      '  To get it: reinstall without ELECTRON_SKIP_BINARY_DOWNLOAD (`npm rebuild electron` or `node node_modules/electron/install.js`).',
      'Starting the backend only: open the login URL printed below in your browser.',
      '',
      '',
    ].join('\n'),
  );
  const child = spawn(process.execPath, [cli, 'serve', ...passThrough], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], detached });
  // Point at the login link of the banner (its first line says "listening on URL", the rest is indented):
  // the one-time link (`/#login=CODE`) when there is one, else the token link (`/?token=`), else the address.
  let pending = '';
  let banner = null;
  let pointed = false;
  const point = () => {
    pointed = true;
    const find = (re) => banner.map((l) => re.exec(l)?.[1]).find(Boolean);
    const login = find(/(https?:\/\/\S+\/#login=\S+)/);
    const tokenLink = find(/(https?:\/\/\S+\/\?token=\S+)/);
    const address = find(/listening on (https?:\/\/[^\s/]+)/);
    const hint = login
      ? `Open this one-time login link in your browser to use Westfall Assistant: ${login}\n    (the browser then stays signed in; a new link at any time: npx westfall login-link)`
      : tokenLink && !tokenLink.includes('<token>')
        ? `Open this link in your browser to use Westfall Assistant: ${tokenLink}`
        : `Open ${address ?? 'the address above'}/ in your browser and sign in with the token from WESTFALL_API_TOKEN.`;
    process.stdout.write(`\n==> ${hint}\n\n`);
  };
  child.stdout.setEncoding('utf8').on('data', (chunk) => {
    process.stdout.write(chunk);
    if (pointed) return;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (pointed) break;
      if (banner === null) {
        if (/is listening on https?:\/\//.test(line)) banner = [line];
      } else if (line.startsWith('  ')) banner.push(line);
      else point();
    }
    // The banner may be the last thing printed for a while.
    if (banner !== null && !pointed) setTimeout(() => pointed || point(), 200);
  });
  supervise(child);
}
