// Builds the desktop shell into dist/electron:
//   main/*.js      ESM, compiled by tsc (electron/tsconfig.json)
//   preload/index.cjs   the preload bundled with its dependencies (zod) by esbuild: sandboxed preloads can
//                       only require('electron') and a few built-ins, never npm packages
//   resources/     icons
// Run: node electron/build.mjs   (needs the backend's dist/ too for a working app: `npm run build:ts`)
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'electron');
const require = createRequire(import.meta.url);

// typescript's package exports hide bin/tsc; find it next to package.json.
const tscBin = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');
const tsc = spawnSync(process.execPath, [tscBin, '-p', join(root, 'electron', 'tsconfig.json')], {
  stdio: 'inherit',
  cwd: root,
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('electron/build.mjs: esbuild is needed to bundle the preload (npm install --save-dev esbuild)');
  process.exit(1);
}
await esbuild.build({
  entryPoints: [join(root, 'electron', 'preload', 'index.ts')],
  outfile: join(out, 'preload', 'index.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'browser',
  target: 'es2022',
  external: ['electron'],
  sourcemap: false,
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});

mkdirSync(join(out, 'resources'), { recursive: true });
for (const f of ['icon.png', 'tray.png']) copyFileSync(join(root, 'electron', 'resources', f), join(out, 'resources', f));
console.log(`built ${out}`);
