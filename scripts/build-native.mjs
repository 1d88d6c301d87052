#!/usr/bin/env node
// Builds the native addon (llama.cpp + native/) with cmake-js, for one compute backend.
//   node scripts/build-native.mjs [--backend=cpu|cuda|vulkan|metal] [--portable] [--debug]
//                                 [--cuda-arch=LIST] [--jobs=N] [--tsc] [--llama-tools] [--llama-dir=PATH]
//
//   --backend    cpu (default; also WESTFALL_BUILD_BACKEND or npm's --backend=), cuda, vulkan or metal
//   --portable   for prebuilds (also WESTFALL_PORTABLE=1): no -march=native. The cpu backend becomes
//                ggml's dynamically loaded per-CPU-generation backends (GGML_BACKEND_DL +
//                GGML_CPU_ALL_VARIANTS); GPU backends keep ggml's x86 baseline (AVX2 FMA F16C BMI2).
//   --cuda-arch  CMAKE_CUDA_ARCHITECTURES, e.g. "75-virtual;80-virtual;86-real;89-real;90-virtual"
//   --tsc        run `tsc -p tsconfig.json` after a successful build (for `npm run build -- --backend=X`)
//   --llama-tools  also build llama.cpp's llama-bench in the same build tree (bin/llama-bench), so a
//                benchmark reference uses the very ggml objects the addon links (GPU build machines)
//   --llama-dir  use this llama.cpp tree as it is, without vendoring: for a build machine without git,
//                given a copy of a checkout that scripts/vendor-llama.mjs verified elsewhere
//   --if-no-prebuild  do nothing when prebuilds/<platform>-<arch>/ already holds a cpu prebuild (for the
//                package's install script: users of a packaged release need no compiler)
//
// Output folders, so several variants sit side by side (src/engine/variants.ts finds them):
//   build/Release/westfall_llama.node                 cpu, native flags (the default every test uses)
//   build-<backend>/Release/westfall_llama.node        other backends, native CPU flags
//   build-<backend>-portable/Release/...               --portable (what scripts/prebuild.mjs packs)
// Each Release folder also gets westfall_llama.variant.json describing the build.
// The build directory is kept between runs (with ccache, a rebuild after an addon edit takes seconds).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BACKENDS = ['cpu', 'cuda', 'vulkan', 'metal'];
// Each backend builds from a patched copy of the pinned tree (scripts/patches/series.json): vulkan from its
// own set (Debian's older Vulkan toolchain), every other backend from 'default'.
const patchSet = (b) => (b === 'vulkan' ? 'vulkan' : 'default');

const args = process.argv.slice(2);
const opt = (name) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 3);
};
// `npm run build --backend=vulkan` (without `--`) reaches us as npm_config_backend.
const backend = opt('backend') ?? process.env.WESTFALL_BUILD_BACKEND ?? process.env.npm_config_backend ?? 'cpu';
if (!BACKENDS.includes(backend)) {
  console.error(`--backend must be one of ${BACKENDS.join(', ')} (got '${backend}')`);
  process.exit(2);
}
if (backend === 'metal' && process.platform !== 'darwin') {
  console.error('--backend=metal builds only on macOS');
  process.exit(2);
}
const portable = args.includes('--portable') || process.env.WESTFALL_PORTABLE === '1';
const debug = args.includes('--debug');
const outDir = backend === 'cpu' && !portable ? 'build' : `build-${backend}${portable ? '-portable' : ''}`;
const jobs = Number(opt('jobs') ?? process.env.WESTFALL_BUILD_JOBS ?? cpus().length) || 1;

if (args.includes('--if-no-prebuild')) {
  const dir = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
  const found = existsSync(dir) ? readdirSync(dir).find((f) => /^westfall_llama\.cpu(\.[^.]+)*\.node$/.test(f)) : undefined;
  if (found) {
    console.error(`[build-native] using the prebuilt ${path.relative(root, path.join(dir, found))}; nothing to build`);
    process.exit(0);
  }
}

let llamaDir;
if (opt('llama-dir')) {
  llamaDir = path.resolve(root, opt('llama-dir'));
  if (!existsSync(path.join(llamaDir, 'CMakeLists.txt'))) {
    console.error(`--llama-dir: ${llamaDir} holds no llama.cpp tree`);
    process.exit(1);
  }
  console.error(`[build-native] using ${llamaDir} as it is (not vendored or verified here)`);
} else {
  const vendorArgs = [path.join(root, 'scripts/vendor-llama.mjs'), `--variant=${patchSet(backend)}`];
  const vendor = spawnSync(process.execPath, vendorArgs, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (vendor.status !== 0) process.exit(vendor.status ?? 1);
  llamaDir = vendor.stdout.trim().split('\n').at(-1);
}
const llamaTools = args.includes('--llama-tools');

const cudaArch = opt('cuda-arch');
const cmakeJs = path.join(root, 'node_modules/cmake-js/bin/cmake-js');
const cmdArgs = [
  cmakeJs, 'build', '-O', outDir,
  '--parallel', String(Math.max(1, jobs)),
  `--CDWESTFALL_BACKEND=${backend}`,
  `--CDWESTFALL_NATIVE=${portable ? 'OFF' : 'ON'}`,
  `--CDWESTFALL_LLAMA_DIR=${llamaDir.replaceAll('\\', '/')}`,
  ...(cudaArch ? [`--CDCMAKE_CUDA_ARCHITECTURES=${cudaArch}`] : []),
  `--CDWESTFALL_LLAMA_TOOLS=${llamaTools ? 'ON' : 'OFF'}`,
  ...(debug ? ['--debug'] : []),
];
console.error(`[build-native] ${backend}${portable ? ' (portable)' : ''} -> ${outDir}/`);
// Paths relative to the checkout in ccache's keys, so a fresh clone elsewhere (CI) reuses earlier objects.
const env = { ...process.env, CCACHE_BASEDIR: process.env.CCACHE_BASEDIR ?? root };
// cmake-js `build` configures only a build folder without a cache, so a setting that changed since (another
// llama.cpp tree, backend or CPU baseline) would be ignored: configure again first, keeping the objects.
const cached = readCache(path.join(root, outDir, 'CMakeCache.txt'));
const stale = Object.keys(cached).length > 0 && cmdArgs.some((a) => {
  const m = /^--CD([A-Za-z0-9_]+)=(.*)$/.exec(a);
  return m !== null && cached[m[1]] !== undefined && cached[m[1]] !== m[2];
});
if (stale) {
  console.error(`[build-native] ${outDir}/ was configured with other settings; configuring it again`);
  const cfg = spawnSync(process.execPath, [cmakeJs, 'configure', ...cmdArgs.slice(2)], { stdio: 'inherit', cwd: root, env });
  if (cfg.status !== 0) process.exit(cfg.status ?? 1);
}
const res = spawnSync(process.execPath, cmdArgs, { stdio: 'inherit', cwd: root, env });
if (res.status !== 0) process.exit(res.status ?? 1);

writeManifest();

if (llamaTools) {
  // Same build tree, so only llama-bench's own sources compile; ggml is shared with the addon.
  const r = spawnSync('cmake', ['--build', path.join(root, outDir), '--parallel', String(Math.max(1, jobs)), '--target', 'llama-bench'], { stdio: 'inherit', cwd: root, env });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (args.includes('--tsc')) {
  const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit', cwd: root });
  process.exit(r.status ?? 1);
}

/** westfall_llama.variant.json next to the addon: what src/engine/variants.ts and prebuild.mjs read. */
function writeManifest() {
  const releaseDir = path.join(root, outDir, debug ? 'Debug' : 'Release');
  if (!existsSync(path.join(releaseDir, 'westfall_llama.node'))) return;
  const cache = readCache(path.join(root, outDir, 'CMakeCache.txt'));
  const dl = cache.GGML_BACKEND_DL === 'ON';
  const x86 = /^(x64|ia32)$/.test(process.arch);
  const pin = JSON.parse(readFileSync(path.join(root, 'third_party/llama.cpp.pin.json'), 'utf8'));
  const series = opt('llama-dir') ? null : JSON.parse(readFileSync(path.join(root, 'scripts/patches/series.json'), 'utf8'))[patchSet(backend)];
  const manifest = {
    name: 'westfall_llama',
    backend,
    portable,
    platform: process.platform,
    arch: process.arch,
    // What the CPU code in this build needs from the processor (variants.ts checks it before loading).
    cpu: dl
      ? { dispatch: 'ggml-backend-dl', variants: readdirSync(releaseDir).filter((f) => /ggml-cpu-.+\.(so|dll|dylib)$/.test(f)).sort() }
      : !portable
        ? { dispatch: 'native', baseline: 'this machine (-march=native)' }
        : x86
          ? { dispatch: 'static', baseline: 'x86-64 with SSE4.2 AVX F16C FMA AVX2 BMI2', requires: ['avx', 'avx2', 'fma', 'f16c', 'bmi2'] }
          : { dispatch: 'static', baseline: 'compiler default for the target' },
    llamaCpp: { release: pin.release, tree: pin.tree, patchedTree: series?.tree ?? null, patches: series?.patches ?? [] },
    cudaArchitectures: backend === 'cuda' ? (cache.CMAKE_CUDA_ARCHITECTURES ?? null) : undefined,
    builtAt: new Date().toISOString(),
  };
  writeFileSync(path.join(releaseDir, 'westfall_llama.variant.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

function readCache(file) {
  const out = {};
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Za-z0-9_]+):[A-Z]+=(.*)$/.exec(line);
      if (m) out[m[1]] = m[2];
    }
  } catch {
    // no cache: the manifest just lacks the details
  }
  return out;
}
