#!/usr/bin/env node
// Populates third_party/llama.cpp with exactly the pinned tree. Sources, in order:
//   1. an existing checkout whose HEAD tree hash matches the pin (left untouched);
//   2. the git bundle shipped inside the exact node-llama-cpp devDependency (the lockfile's
//      integrity hash pins those bytes, so this works offline);
//   3. a shallow clone of the upstream release tag, when the network allows.
// Any tree whose hash differs from the pin is refused: building from unknown sources is worse than failing.
//
//   node scripts/vendor-llama.mjs                  the pristine tree (every build)
//   node scripts/vendor-llama.mjs --variant=vulkan  also a patched copy for that variant (prints its path)
//
// Patched variants (scripts/patches/series.json) never touch the pristine tree: the pristine checkout is
// verified first, cloned locally into the variant's folder (third_party/llama.cpp-vulkan), the variant's
// patches are applied to the copy's index and working tree, and the result must hash to the tree recorded
// in series.json. An existing copy is reused only if its HEAD is the pinned tree, its index is exactly the
// patched tree and its working tree has no further changes.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pin = JSON.parse(readFileSync(path.join(root, 'third_party/llama.cpp.pin.json'), 'utf8'));
const dest = path.join(root, 'third_party/llama.cpp');
const patchesDir = path.join(root, 'scripts/patches');

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
    renameSync(tmp, dest);
    log(`populated from ${label}; tree ${pin.tree} verified`);
    return true;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    log(`${label} failed: ${err.message.split('\n')[0]}`);
    return false;
  }
}

function ensurePristine() {
  if (fromExisting()) return true;
  const bundle = bundlePath();
  if (bundle && cloneFrom(bundle, [], `bundle ${path.relative(root, bundle)}`)) return true;
  if (cloneFrom(pin.repository, ['--depth', '1', '--branch', pin.release], `${pin.repository}@${pin.release}`)) return true;
  log('could not obtain the pinned llama.cpp source (no matching checkout, no bundle, no network)');
  return false;
}

// --- patched variants -------------------------------------------------------------------------------

function loadSeries(variant) {
  const series = JSON.parse(readFileSync(path.join(patchesDir, 'series.json'), 'utf8'));
  const s = series[variant];
  if (!s || typeof s !== 'object' || !Array.isArray(s.patches)) {
    const known = Object.keys(series).filter((k) => !k.startsWith('$'));
    throw new Error(`no patch set '${variant}' in scripts/patches/series.json (known: ${known.join(', ')})`);
  }
  if (s.base !== pin.tree) {
    throw new Error(`patch set '${variant}' was made for tree ${s.base}, but the pin is ${pin.tree}: refresh the patches and their tree hash`);
  }
  return { ...s, dir: path.join(root, s.dir) };
}

/** Why an existing patched copy is not exactly base + patches, or null when it is. */
function patchedCopyProblem(dir, s) {
  if (!existsSync(path.join(dir, '.git'))) return 'not a git checkout';
  try {
    const head = git(['-C', dir, 'rev-parse', 'HEAD^{tree}']);
    if (head !== pin.tree) return `HEAD tree ${head} is not the pinned tree`;
    // refresh stat info so that a touched but unchanged file does not count as a change
    git(['-C', dir, 'update-index', '-q', '--refresh'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const index = git(['-C', dir, 'write-tree']);
    if (index !== s.tree) return `index tree ${index} is not the patched tree ${s.tree}`;
    const unstaged = git(['-C', dir, 'diff', '--name-only']);
    if (unstaged) return `working tree differs from the patched tree (${unstaged.split('\n').slice(0, 3).join(', ')})`;
    return null;
  } catch (err) {
    return err.message.split('\n')[0];
  }
}

function ensurePatched(variant) {
  const s = loadSeries(variant);
  const problem = existsSync(s.dir) ? patchedCopyProblem(s.dir, s) : 'missing';
  if (!problem) {
    log(`${path.relative(root, s.dir)}: pinned tree + ${s.patches.length} patch(es) = ${s.tree} verified`);
    return s.dir;
  }
  if (problem !== 'missing') log(`${path.relative(root, s.dir)}: ${problem}; recreating it`);
  rmSync(s.dir, { recursive: true, force: true });
  const tmp = `${s.dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    const commit = git(['-C', dest, 'rev-parse', 'HEAD']);
    // A local clone hard-links the objects: cheap, and independent of the pristine checkout's state.
    git(['clone', '--quiet', '--no-checkout', '-c', 'advice.detachedHead=false', dest, tmp]);
    git(['-C', tmp, 'checkout', '--quiet', '--detach', commit]);
    verifyOrThrow(tmp, `local copy for ${variant}`);
    for (const p of s.patches) {
      const file = path.join(patchesDir, p);
      // --index: the patched content goes to the index too, so `git write-tree` can verify it.
      git(['-C', tmp, 'apply', '--index', '--whitespace=nowarn', file]);
      log(`applied ${p}`);
    }
    const tree = git(['-C', tmp, 'write-tree']);
    if (tree !== s.tree) throw new Error(`patched tree is ${tree}, series.json expects ${s.tree}; refusing it`);
    renameSync(tmp, s.dir);
    log(`${path.relative(root, s.dir)}: pinned tree ${pin.tree} + ${s.patches.length} patch(es) = ${tree} verified`);
    return s.dir;
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

function main() {
  const variant = process.argv.slice(2).find((a) => a.startsWith('--variant='))?.slice('--variant='.length);
  if (!ensurePristine()) process.exit(1);
  if (!variant) return;
  try {
    const dir = ensurePatched(variant);
    process.stdout.write(`${dir}\n`);
  } catch (err) {
    log(`patch set '${variant}': ${err.message}`);
    process.exit(1);
  }
}

main();
