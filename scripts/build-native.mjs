#!/usr/bin/env node
// Builds the native addon (llama.cpp + native/) with cmake-js.
//   node scripts/build-native.mjs [--backend=cpu|cuda|vulkan|metal] [--portable] [--debug]
// The build directory is kept between runs (with ccache, a rebuild after an addon edit takes seconds).
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BACKENDS = ['cpu', 'cuda', 'vulkan', 'metal'];

const args = process.argv.slice(2);
const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const backend = opt('backend') ?? process.env.WESTFALL_BUILD_BACKEND ?? 'cpu';
if (!BACKENDS.includes(backend)) {
  console.error(`--backend must be one of ${BACKENDS.join(', ')} (got '${backend}')`);
  process.exit(2);
}
const portable = args.includes('--portable') || process.env.WESTFALL_PORTABLE === '1';
const outDir = backend === 'cpu' ? 'build' : `build-${backend}`;

const vendor = spawnSync(process.execPath, [path.join(root, 'scripts/vendor-llama.mjs')], { stdio: 'inherit' });
if (vendor.status !== 0) process.exit(vendor.status ?? 1);

const cmakeJs = path.join(root, 'node_modules/cmake-js/bin/cmake-js');
const cmdArgs = [
  cmakeJs, 'build', '-O', outDir,
  '--parallel', String(Math.max(1, cpus().length)),
  `--CDWESTFALL_BACKEND=${backend}`,
  `--CDWESTFALL_NATIVE=${portable ? 'OFF' : 'ON'}`,
  ...(args.includes('--debug') ? ['--debug'] : []),
];
const res = spawnSync(process.execPath, cmdArgs, { stdio: 'inherit', cwd: root });
process.exit(res.status ?? 1);
