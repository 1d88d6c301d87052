#!/usr/bin/env node
// Builds the web UI (renderer/) into dist/renderer: esbuild bundles renderer/src/main.ts (Lit, marked,
// DOMPurify, highlight.js) into one ES module, assets/app.js, next to index.html and renderer/public/*, and
// renderer/src/sw.ts (which retires the media service worker of earlier versions) into sw.js.
// The backend serves that folder at `/` (src/server/routes/renderer.ts); the desktop app loads it from there.
//
//   node scripts/build-renderer.mjs              production build (minified, with a source map)
//   node scripts/build-renderer.mjs --dev        unminified
//   node scripts/build-renderer.mjs --watch      rebuild on change
//   node scripts/build-renderer.mjs --typecheck  type-check renderer/ (tsc -p renderer/tsconfig.json) first
//   --out DIR                                    another output folder
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'renderer');
const args = process.argv.slice(2);
const flag = (f) => args.includes(f);
const outIdx = args.indexOf('--out');
const OUT = outIdx >= 0 && args[outIdx + 1] ? resolve(args[outIdx + 1]) : join(ROOT, 'dist', 'renderer');
const dev = flag('--dev') || flag('--watch');

if (flag('--typecheck')) {
  const tsc = join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'tsc.cmd' : 'tsc');
  const r = spawnSync(tsc, ['--noEmit', '-p', join(SRC, 'tsconfig.json')], { stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.status !== 0) {
    process.stderr.write('build-renderer: type check failed\n');
    process.exit(r.status ?? 1);
  }
}

function copyStatic() {
  mkdirSync(join(OUT, 'assets'), { recursive: true });
  writeFileSync(join(OUT, 'index.html'), readFileSync(join(SRC, 'index.html')));
  const pub = join(SRC, 'public');
  if (existsSync(pub) && statSync(pub).isDirectory()) cpSync(pub, join(OUT, 'assets'), { recursive: true });
}

/** @type {import('esbuild').BuildOptions} */
const options = {
  absWorkingDir: ROOT,
  entryPoints: { app: join(SRC, 'src', 'main.ts') },
  outdir: join(OUT, 'assets'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox120', 'safari17'],
  tsconfig: join(SRC, 'tsconfig.json'),
  minify: !dev,
  sourcemap: true,
  legalComments: 'linked',
  logLevel: 'warning',
  // Lit's production build (no dev-mode warnings).
  conditions: dev ? ['development'] : [],
  define: { 'process.env.NODE_ENV': JSON.stringify(dev ? 'development' : 'production') },
  metafile: true,
};

/** @type {import('esbuild').BuildOptions} */
const swOptions = {
  absWorkingDir: ROOT,
  entryPoints: [join(SRC, 'src', 'sw.ts')],
  outfile: join(OUT, 'sw.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: options.target,
  tsconfig: options.tsconfig,
  minify: !dev,
  logLevel: 'warning',
};

const started = Date.now();
rmSync(OUT, { recursive: true, force: true });
copyStatic();
if (flag('--watch')) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [{ name: 'static', setup: (b) => b.onEnd(() => copyStatic()) }],
  });
  await ctx.watch();
  await (await esbuild.context(swOptions)).watch();
  process.stdout.write(`build-renderer: watching renderer/ → ${OUT}\n`);
} else {
  const result = await esbuild.build(options);
  // /sw.js, the worker that retires earlier versions' one: a classic script.
  await esbuild.build({ ...swOptions });
  const js = result.metafile.outputs[Object.keys(result.metafile.outputs).find((k) => k.endsWith('app.js'))];
  process.stdout.write(`build-renderer: ${OUT} (app.js ${(js.bytes / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms\n`);
}
