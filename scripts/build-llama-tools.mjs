#!/usr/bin/env node
// Builds llama.cpp's own llama-bench and llama-server from the same vendored, pinned source and with the
// same CPU settings as our addon (native CPU flags, ggml's thread pool rather than OpenMP, static), so
// benchmarks compare engines rather than compilers. Output: build/llama-tools/bin/.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const src = path.join(root, 'third_party/llama.cpp');
const out = path.join(root, 'build/llama-tools');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

run(process.execPath, [path.join(root, 'scripts/vendor-llama.mjs')]);
const launcher = has('ccache') ? ['-DCMAKE_C_COMPILER_LAUNCHER=ccache', '-DCMAKE_CXX_COMPILER_LAUNCHER=ccache'] : [];
run('cmake', [
  '-S', src, '-B', out,
  ...(has('ninja') ? ['-G', 'Ninja'] : []),
  '-DCMAKE_BUILD_TYPE=Release',
  '-DCMAKE_POSITION_INDEPENDENT_CODE=ON',
  '-DBUILD_SHARED_LIBS=OFF',
  '-DGGML_NATIVE=ON',
  '-DGGML_OPENMP=OFF',
  '-DGGML_CCACHE=OFF',
  '-DLLAMA_BUILD_TOOLS=ON',
  '-DLLAMA_BUILD_SERVER=ON',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DLLAMA_BUILD_EXAMPLES=OFF',
  '-DLLAMA_BUILD_APP=OFF',
  '-DLLAMA_OPENSSL=OFF',
  '-DLLAMA_ALL_WARNINGS=OFF',
  ...launcher,
]);
const targets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['llama-bench', 'llama-server'];
run('cmake', ['--build', out, '--parallel', String(cpus().length), '--target', ...targets]);
