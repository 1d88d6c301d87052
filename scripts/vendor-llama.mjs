#!/usr/bin/env node
// Populates third_party/llama.cpp with exactly the pinned tree. Sources, in order:
//   1. an existing checkout whose HEAD tree hash matches the pin (left untouched);
//   2. the git bundle shipped inside the exact node-llama-cpp devDependency (the lockfile's
//      integrity hash pins those bytes, so this works offline);
//   3. a shallow clone of the upstream release tag, when the network allows.
// Any tree whose hash differs from the pin is refused: building from unknown sources is worse than failing.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pin = JSON.parse(readFileSync(path.join(root, 'third_party/llama.cpp.pin.json'), 'utf8'));
const dest = path.join(root, 'third_party/llama.cpp');

const git = (args, opts = {}) =>
  execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }).trim();

function treeOf(dir) {
  try {
    // A dirty working tree would not be the pinned source even if HEAD is.
    const dirty = git(['-C', dir, 'status', '--porcelain', '--untracked-files=no']);
    if (dirty) return { tree: git(['-C', dir, 'rev-parse', 'HEAD^{tree}']), dirty: true };
    return { tree: git(['-C', dir, 'rev-parse', 'HEAD^{tree}']), dirty: false };
  } catch {
    return null;
  }
}

function log(msg) {
  process.stderr.write(`[vendor-llama] ${msg}\n`);
}

function verifyOrThrow(dir, source) {
  const t = treeOf(dir);
  if (!t) throw new Error(`${source}: ${dir} is not a git checkout`);
  if (t.tree !== pin.tree) {
    throw new Error(`${source}: tree ${t.tree} does not match the pinned tree ${pin.tree}; refusing it`);
  }
  if (t.dirty) throw new Error(`${source}: checkout has local modifications; refusing it`);
}

function fromExisting() {
  if (!existsSync(dest)) return false;
  const t = treeOf(dest);
  if (t && t.tree === pin.tree && !t.dirty) {
    log(`existing checkout matches tree ${pin.tree}`);
    return true;
  }
  log(t ? `existing checkout has tree ${t.tree}${t.dirty ? ' (modified)' : ''}; replacing it` : 'existing folder is not a checkout; replacing it');
  rmSync(dest, { recursive: true, force: true });
  return false;
}

function bundlePath() {
  try {
    // The package's exports map hides package.json from require.resolve, so look it up on disk.
    const pkgJson = path.join(root, 'node_modules', pin.bundle.package, 'package.json');
    const pkg = JSON.parse(readFileSync(pkgJson, 'utf8'));
    if (pkg.version !== pin.bundle.version) {
      log(`${pin.bundle.package} is ${pkg.version}, the pin wants ${pin.bundle.version}; skipping its bundle`);
      return null;
    }
    const p = path.join(path.dirname(pkgJson), pin.bundle.path);
    return existsSync(p) ? p : null;
  } catch {
    return null;
  }
}

function cloneFrom(source, extraArgs, label) {
  mkdirSync(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    git(['clone', '--quiet', '-c', 'advice.detachedHead=false', ...extraArgs, source, tmp]);
    verifyOrThrow(tmp, label);
    execFileSync('mv', [tmp, dest]);
    log(`populated from ${label}; tree ${pin.tree} verified`);
    return true;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    log(`${label} failed: ${err.message.split('\n')[0]}`);
    return false;
  }
}

function main() {
  if (fromExisting()) return;
  const bundle = bundlePath();
  if (bundle && cloneFrom(bundle, [], `bundle ${path.relative(root, bundle)}`)) return;
  if (cloneFrom(pin.repository, ['--depth', '1', '--branch', pin.release], `${pin.repository}@${pin.release}`)) return;
  log('could not obtain the pinned llama.cpp source (no matching checkout, no bundle, no network)');
  process.exit(1);
}

main();
