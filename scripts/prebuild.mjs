#!/usr/bin/env node
// Packs a built addon variant into prebuilds/<platform>-<arch>/ with prebuildify, one tag per backend:
//   prebuilds/linux-x64/westfall_llama.vulkan.glibc.node     (+ westfall_llama.vulkan.json, the build manifest)
//   prebuilds/linux-x64/westfall_llama.cpu.glibc.node        (+ libggml-base.so.0 libggml.so.0 libllama.so.0
//                                                              libggml-cpu-<generation>.so: the portable cpu
//                                                              variant loads its CPU code at runtime)
// src/engine/variants.ts finds them by that tag (node-gyp-build's own lookup ignores tags it does not know).
//
//   node scripts/prebuild.mjs --backend=cpu|cuda|vulkan|metal [--build] [--cuda-arch=LIST]
//                             [--from=DIR] [--allow-native] [--no-strip] [--no-tag-libc] [--out=DIR]
//
//   --build         first run scripts/build-native.mjs --portable for that backend
//   --from          the Release folder to pack (default build-<backend>-portable/Release)
//   --allow-native  pack a local non-portable build when there is no portable one (for testing only: it
//                   may use instructions other machines lack)
//
// prebuildify normally runs node-gyp itself; here the build is done by cmake-js beforehand, so the
// addon and its libraries are staged into a scratch folder's build/Release and prebuildify's build
// command is a no-op. Everything else (naming, tags, strip, shared libraries next to the addon) is
// prebuildify's.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const BACKENDS = ['cpu', 'cuda', 'vulkan', 'metal'];

const args = process.argv.slice(2);
const opt = (name) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? undefined : a.slice(name.length + 3);
};
const flag = (name) => args.includes(`--${name}`);
const backend = opt('backend') ?? 'cpu';
if (!BACKENDS.includes(backend)) {
  console.error(`--backend must be one of ${BACKENDS.join(', ')} (got '${backend}')`);
  process.exit(2);
}
const log = (m) => console.error(`[prebuild] ${m}`);

if (flag('build')) {
  const buildArgs = [path.join(root, 'scripts/build-native.mjs'), `--backend=${backend}`, '--portable'];
  if (opt('cuda-arch')) buildArgs.push(`--cuda-arch=${opt('cuda-arch')}`);
  if (opt('jobs')) buildArgs.push(`--jobs=${opt('jobs')}`);
  const r = spawnSync(process.execPath, buildArgs, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function pickSource() {
  if (opt('from')) return path.resolve(opt('from'));
  const portable = path.join(root, `build-${backend}-portable`, 'Release');
  if (existsSync(path.join(portable, 'westfall_llama.node'))) return portable;
  const local = path.join(root, backend === 'cpu' ? 'build' : `build-${backend}`, 'Release');
  if (flag('allow-native') && existsSync(path.join(local, 'westfall_llama.node'))) {
    log(`packing ${path.relative(root, local)}: a native build, tuned for this machine's CPU (--allow-native)`);
    return local;
  }
  console.error(`no portable ${backend} build in ${path.relative(root, portable)}: run with --build (or --allow-native to pack ${path.relative(root, local)})`);
  process.exit(1);
}

const from = pickSource();
const addon = path.join(from, 'westfall_llama.node');
if (!existsSync(addon)) {
  console.error(`${addon} does not exist`);
  process.exit(1);
}
const manifestFile = path.join(from, 'westfall_llama.variant.json');
const manifest = existsSync(manifestFile) ? JSON.parse(readFileSync(manifestFile, 'utf8')) : null;
if (manifest && manifest.backend !== backend) {
  console.error(`${from} holds a ${manifest.backend} build, not ${backend}`);
  process.exit(1);
}

// Stage: <stage>/build/Release with the addon and the shared libraries it needs at runtime.
const stage = path.join(tmpdir(), `westfall-prebuild-${backend}-${process.pid}`);
const stageRelease = path.join(stage, 'build', 'Release');
rmSync(stage, { recursive: true, force: true });
mkdirSync(stageRelease, { recursive: true });
copyFileSync(addon, path.join(stageRelease, 'westfall_llama.node'));
// Shared libraries copied next to the addon by CMakeLists.txt (only the dynamic cpu variant has any).
const libs = readdirSync(from).filter((f) => /\.(so(\.\d+)?|dll|dylib)$/.test(f));
for (const f of libs) copyFileSync(path.join(from, f), path.join(stageRelease, f));
writeFileSync(path.join(stage, 'package.json'), JSON.stringify({ name: 'westfall_llama', private: true }));
const shim = path.join(stage, process.platform === 'win32' ? 'already-built.cmd' : 'already-built.sh');
writeFileSync(shim, process.platform === 'win32' ? '@exit /b 0\r\n' : '#!/bin/sh\n# the addon was built by scripts/build-native.mjs\nexit 0\n');
chmodSync(shim, 0o755);

const prebuildify = require('prebuildify');
const out = path.resolve(opt('out') ?? root);
const tagLibc = process.platform === 'linux' && !flag('no-tag-libc');
const strip = (process.platform === 'linux' || process.platform === 'darwin') && !flag('no-strip');
const name = `westfall_llama.${backend}`;

prebuildify(
  {
    cwd: stage,
    out,
    name,
    napi: true,
    nodeGyp: shim,
    shell: process.platform === 'win32' ? true : undefined,
    strip,
    tagLibc,
    quiet: true,
  },
  (err) => {
    if (err) {
      console.error(`prebuildify failed: ${err.message}`);
      rmSync(stage, { recursive: true, force: true });
      process.exit(1);
    }
    const dir = path.join(out, 'prebuilds', `${process.platform}-${process.arch}`);
    if (manifest) writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify({ ...manifest, packedAt: new Date().toISOString() }, null, 2)}\n`);
    rmSync(stage, { recursive: true, force: true });
    const packed = readdirSync(dir).filter((f) => f.startsWith(`${name}.`) || libs.includes(f));
    log(`${path.relative(root, from)} -> ${path.relative(root, dir) || dir}/: ${packed.join(', ')}`);
  },
);
