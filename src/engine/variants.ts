// Build variants of the native addon (cpu, cuda, vulkan, metal) and the choice between them at startup.
//
// Where variants come from (first found wins within a backend):
//   build/Release/westfall_llama.node                  the local cpu build (native CPU flags)
//   build-<backend>[-portable]/Release/westfall_llama.node   other local builds (scripts/build-native.mjs)
//   prebuilds/<platform>-<arch>/westfall_llama.<backend>[.glibc|.musl].node   prebuildify's layout, packed by
//     scripts/prebuild.mjs (prebuildify --napi --name westfall_llama.<backend>); the backend is one more
//     dot-separated tag. node-gyp-build ignores
//     tags it does not know, so it cannot tell backends apart: this module filters by the backend tag and
//     applies node-gyp-build's own rules (platform-arch tuple, napi, libc, armv, <NAME>_PREBUILD and
//     PREBUILDS_ONLY) to the rest; node-gyp-build itself remains the last resort (native.ts).
//
// How one is chosen (WESTFALL_BACKEND=auto|cuda|vulkan|metal|cpu, or configureNative({ backend })):
//   auto tries cuda, then vulkan, then cpu (macOS: metal, then cpu); a named backend is tried first and
//   cpu remains the fallback. A GPU variant is skipped without loading it when the machine plainly cannot
//   run it (no NVIDIA driver, no Vulkan loader, no GPU device node, a CPU without the instructions the
//   build needs); otherwise it is probed in a child process, so that a crash (a missing libcublas, SIGILL,
//   a driver bug) costs the probe and not the app: the child loads the addon, lists the devices, loads a
//   tiny generated model with every layer on the GPU, evaluates it, and compares the result with the same
//   evaluation on the CPU. Every skip and failure is kept with its reason (variantReport(), westfall doctor).
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeAddon, NativeSystemInfo } from './native.js';
import { ensureProbeModelSync } from './probe-model.js';

export const BACKENDS = ['cpu', 'cuda', 'vulkan', 'metal'] as const;
export type Backend = (typeof BACKENDS)[number];
export type BackendRequest = 'auto' | Backend;
export const ADDON_NAME = 'westfall_llama';
/** Bump when the probe changes, so cached results are not reused. */
export const PROBE_VERSION = 1;

export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function isBackend(v: unknown): v is Backend {
  return typeof v === 'string' && (BACKENDS as readonly string[]).includes(v);
}

export function parseBackendRequest(v: string | undefined): BackendRequest | undefined {
  if (v === undefined || v.trim() === '') return undefined;
  const s = v.trim().toLowerCase();
  return s === 'auto' || isBackend(s) ? s : undefined;
}

/** The order in which backends are tried. */
export function backendOrder(request: BackendRequest, platform: NodeJS.Platform = process.platform): Backend[] {
  if (request === 'auto') return platform === 'darwin' ? ['metal', 'cpu'] : ['cuda', 'vulkan', 'cpu'];
  return request === 'cpu' ? ['cpu'] : [request, 'cpu'];
}

// ---------------------------------------------------------------------------------------------------
// Discovery

/** westfall_llama.variant.json, written by scripts/build-native.mjs next to the addon. */
export interface VariantManifest {
  backend?: string;
  portable?: boolean;
  cpu?: { dispatch?: string; baseline?: string; requires?: string[]; variants?: string[] };
  llamaCpp?: { release?: string; tree?: string; patchedTree?: string | null; patches?: string[] };
}

export interface VariantCandidate {
  backend: Backend;
  /** The .node file. */
  file: string;
  source: 'build' | 'prebuild';
  /** Short description for people: the folder or file relative to the package. */
  label: string;
  /** The cpu variant made of ggml's dynamically loaded per-CPU backends (ggml-cpu-*.so next to it). */
  dynamicCpu: boolean;
  manifest?: VariantManifest;
}

export interface DiscoverOptions {
  root?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  arch?: string;
  libc?: 'glibc' | 'musl';
  armv?: string;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

const CPU_MODULE = /^(lib)?ggml-cpu-[^.]+\.(so|dll|dylib)$/;

function hostLibc(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): 'glibc' | 'musl' {
  // node-gyp-build's rule: LIBC, else musl on Alpine.
  if (env.LIBC === 'musl' || env.LIBC === 'glibc') return env.LIBC;
  return platform === 'linux' && existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
}

/** Local builds first (as node-gyp-build prefers build/ over prebuilds/), then prebuilds; grouped by backend. */
export function discoverVariants(opts: DiscoverOptions = {}): VariantCandidate[] {
  const root = path.resolve(opts.root ?? packageRoot);
  const env = opts.env ?? process.env;
  const platform = opts.platform ?? process.platform;
  const arch = opts.arch ?? process.arch;
  const libc = opts.libc ?? hostLibc(platform, env);
  const armv = opts.armv ?? env.ARM_VERSION ?? (arch === 'arm64' ? '8' : '');
  const out: VariantCandidate[] = [];

  if (!env.PREBUILDS_ONLY) {
    for (const backend of BACKENDS) {
      const dirs = backend === 'cpu' ? ['build', 'build-cpu-portable'] : [`build-${backend}`, `build-${backend}-portable`];
      for (const d of dirs) {
        const release = path.join(root, d, 'Release');
        const file = path.join(release, `${ADDON_NAME}.node`);
        if (!existsSync(file)) continue;
        const manifest = readJson<VariantManifest>(path.join(release, `${ADDON_NAME}.variant.json`));
        // A build folder holds what its name says; a manifest that disagrees means a stale or moved folder.
        if (manifest?.backend && manifest.backend !== backend) continue;
        const dynamicCpu = backend === 'cpu' && (manifest?.cpu?.dispatch === 'ggml-backend-dl' || listDir(release).some((f) => CPU_MODULE.test(f)));
        out.push({ backend, file, source: 'build', label: `${d}/Release`, dynamicCpu, ...(manifest ? { manifest } : {}) });
      }
    }
  }

  // node-gyp-build's override: <PACKAGE_NAME>_PREBUILD names a folder holding prebuilds/.
  const roots = [env.WESTFALL_ASSISTANT_PREBUILD, root].filter((r): r is string => typeof r === 'string' && r.length > 0);
  for (const r of roots) {
    const prebuilds = path.join(r, 'prebuilds');
    const tuples = listDir(prebuilds)
      .map((name) => {
        const [p, archs, ...rest] = name.split('-');
        return rest.length === 0 && p === platform && archs?.split('+').includes(arch) ? { name, n: archs.split('+').length } : null;
      })
      .filter((t): t is { name: string; n: number } => t !== null)
      .sort((a, b) => a.n - b.n); // single-arch folders before multi-arch ones, as node-gyp-build does
    for (const t of tuples) {
      const dir = path.join(prebuilds, t.name);
      const files = listDir(dir);
      const hasCpuModules = files.some((f) => CPU_MODULE.test(f));
      const found: (VariantCandidate & { specificity: number })[] = [];
      for (const f of files) {
        const tags = parsePrebuildName(f);
        if (!tags) continue;
        // node-gyp-build's matching: an ABI tag must be ours unless the build is Node-API (ours always are)
        if (tags.abi && tags.abi !== process.versions.modules && !tags.napi) continue;
        if (tags.libc && tags.libc !== libc) continue;
        if (tags.armv && tags.armv !== armv) continue;
        const manifest = readJson<VariantManifest>(path.join(dir, `${ADDON_NAME}.${tags.backend}.json`));
        found.push({
          backend: tags.backend,
          file: path.join(dir, f),
          source: 'prebuild',
          label: path.relative(root, path.join(dir, f)) || f,
          dynamicCpu: tags.backend === 'cpu' && hasCpuModules,
          specificity: tags.specificity,
          ...(manifest ? { manifest } : {}),
        });
      }
      found.sort((a, b) => b.specificity - a.specificity);
      for (const { specificity: _s, ...c } of found) out.push(c);
    }
  }

  const rank = (b: Backend) => BACKENDS.indexOf(b);
  // stable: keeps build-before-prebuild inside each backend
  return out.map((c, i) => ({ c, i })).sort((a, b) => rank(a.c.backend) - rank(b.c.backend) || a.i - b.i).map((x) => x.c);
}

export interface PrebuildTags {
  backend: Backend;
  napi: boolean;
  abi?: string;
  libc?: 'glibc' | 'musl';
  armv?: string;
  specificity: number;
}

/**
 * Tags of a prebuild file name, prebuildify's `<name>[.napi|.abiN][.uvN][.armvN][.glibc|.musl].node` with
 * name = westfall_llama.<backend> (prebuildify 6 writes Node-API builds without a napi tag).
 */
export function parsePrebuildName(file: string): PrebuildTags | null {
  const parts = file.split('.');
  if (parts.pop() !== 'node' || parts.shift() !== ADDON_NAME) return null;
  const tags: PrebuildTags = { backend: 'cpu', napi: false, specificity: 0 };
  for (const t of parts) {
    if (isBackend(t)) tags.backend = t;
    else if (t === 'napi') tags.napi = true;
    else if (/^abi\d+$/.test(t)) tags.abi = t.slice(3);
    else if (t === 'glibc' || t === 'musl') tags.libc = t;
    else if (t.startsWith('armv')) tags.armv = t.slice(4);
    else if (/^uv\d+$/.test(t)) {
      // matched like node-gyp-build (libuv major of this Node); counts toward specificity
      if (t.slice(2) !== (process.versions.uv ?? '').split('.')[0]) return null;
    } else continue;
    tags.specificity++;
  }
  return tags;
}

// ---------------------------------------------------------------------------------------------------
// The machine

export interface HostInfo {
  platform: NodeJS.Platform;
  arch: string;
  cpuModel: string;
  /** Linux /proc/cpuinfo flags; null where unknown. */
  cpuFlags: ReadonlySet<string> | null;
  /** The NVIDIA driver's version line, or where its library was found; null if none. */
  nvidiaDriver: string | null;
  /** The Vulkan loader library, if found. */
  vulkanLoader: string | null;
  /** GPU device nodes (Linux): /dev/dri/renderD*, /dev/nvidia<N>, /dev/dxg (WSL). */
  gpuDeviceNodes: string[];
  /** VK_ICD_FILENAMES / VK_DRIVER_FILES, when the user points Vulkan at a driver explicitly. */
  vulkanDriverOverride: string | null;
}

function linuxLibDirs(env: NodeJS.ProcessEnv): string[] {
  return [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    '/usr/lib/x86_64-linux-gnu',
    '/usr/lib/aarch64-linux-gnu',
    '/lib/x86_64-linux-gnu',
    '/lib/aarch64-linux-gnu',
    '/usr/lib64',
    '/lib64',
    '/usr/lib',
    '/usr/local/lib',
    '/usr/lib/wsl/lib',
  ];
}

function findLib(dirs: string[], names: string[]): string | null {
  for (const d of dirs) for (const n of names) if (existsSync(path.join(d, n))) return path.join(d, n);
  return null;
}

export function detectHost(env: NodeJS.ProcessEnv = process.env): HostInfo {
  const platform = process.platform;
  const info: HostInfo = {
    platform,
    arch: process.arch,
    cpuModel: os.cpus()[0]?.model?.trim() ?? 'unknown',
    cpuFlags: null,
    nvidiaDriver: null,
    vulkanLoader: null,
    gpuDeviceNodes: [],
    vulkanDriverOverride: env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES || null,
  };
  if (platform === 'linux') {
    try {
      const m = /^(?:flags|Features)\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
      if (m) info.cpuFlags = new Set(m[1]!.trim().split(/\s+/));
    } catch {
      // no /proc: unknown
    }
    const libDirs = linuxLibDirs(env);
    try {
      info.nvidiaDriver = readFileSync('/proc/driver/nvidia/version', 'utf8').split('\n')[0]!.trim() || 'present';
    } catch {
      const lib = findLib(libDirs, ['libcuda.so.1']);
      if (lib) info.nvidiaDriver = lib;
    }
    info.vulkanLoader = findLib(libDirs, ['libvulkan.so.1', 'libvulkan.so']);
    info.gpuDeviceNodes = [
      ...listDir('/dev/dri').filter((f) => f.startsWith('renderD')).map((f) => `/dev/dri/${f}`),
      ...listDir('/dev').filter((f) => /^nvidia\d+$/.test(f) || f === 'dxg').map((f) => `/dev/${f}`),
    ];
  } else if (platform === 'win32') {
    const sys = path.join(env.SystemRoot ?? env.windir ?? 'C:\\Windows', 'System32');
    if (existsSync(path.join(sys, 'nvcuda.dll'))) info.nvidiaDriver = path.join(sys, 'nvcuda.dll');
    if (existsSync(path.join(sys, 'vulkan-1.dll'))) info.vulkanLoader = path.join(sys, 'vulkan-1.dll');
  }
  return info;
}

/** Why a variant cannot run here, decided without loading it; null when it may (then it is probed). */
export function precheck(c: VariantCandidate, host: HostInfo, request: BackendRequest): string | null {
  const requires = c.manifest?.cpu?.requires ?? [];
  if (host.cpuFlags && requires.length > 0) {
    const missing = requires.filter((f) => !host.cpuFlags!.has(f));
    if (missing.length > 0) return `this build's CPU code needs ${missing.join(' ')}, which this processor lacks`;
  }
  switch (c.backend) {
    case 'cpu':
      return null;
    case 'metal':
      return host.platform === 'darwin' ? null : 'Metal exists only on macOS';
    case 'cuda':
      if (host.platform === 'darwin') return 'CUDA does not run on macOS';
      if (!host.nvidiaDriver) {
        return host.platform === 'win32' ? 'no NVIDIA driver (nvcuda.dll not found)' : 'no NVIDIA driver (no /proc/driver/nvidia/version, no libcuda.so.1)';
      }
      return null;
    case 'vulkan':
      if (host.platform === 'darwin') return 'the Vulkan variant is not built for macOS (Metal is used there)';
      if (!host.vulkanLoader) return host.platform === 'win32' ? 'no Vulkan loader (vulkan-1.dll not found)' : 'no Vulkan loader (libvulkan.so.1 not found)';
      if (host.platform === 'linux' && request === 'auto' && host.gpuDeviceNodes.length === 0 && !host.vulkanDriverOverride) {
        return 'no GPU device node (/dev/dri/renderD*, /dev/nvidia*, /dev/dxg): only a software Vulkan driver could run, which is slower than the CPU variant (WESTFALL_BACKEND=vulkan tries it anyway)';
      }
      return null;
  }
}

// ---------------------------------------------------------------------------------------------------
// The probe: a child process that loads the variant and evaluates a tiny model on the GPU and the CPU

export interface ProbeResult {
  ok: boolean;
  /** The step that failed, or 'done'. */
  stage: string;
  error?: string;
  systemInfo?: NativeSystemInfo;
  /** Layers llama.cpp reported offloaded to the GPU (from its log), and of how many. */
  offloadedLayers?: number;
  totalLayers?: number;
  /** Cosine similarity of the GPU's and the CPU's embedding of the same tokens. */
  cosine?: number;
  /** Warm evaluation time of the probe's tokens, GPU and CPU, in ms. */
  gpuMs?: number;
  cpuMs?: number;
  durationMs: number;
  cached?: boolean;
}

const PROBE_MARK = '@@WESTFALL_PROBE@@';

// Plain CommonJS, run with `node -e`, so it works the same from dist/ and from the TypeScript sources.
// It talks to the raw addon (src/engine/native.ts describes its surface).
const PROBE_SCRIPT = String.raw`
const MARK = ${JSON.stringify(PROBE_MARK)};
const out = { ok: false, stage: 'load the addon' };
const logs = [];
function finish(code) {
  try { process.stdout.write('\n' + MARK + JSON.stringify(out) + '\n'); } finally { process.exit(code); }
}
function fail(err) {
  out.error = String((err && err.message) || err).split('\n')[0].slice(0, 500);
  const tail = logs.filter((l) => /^(error|warn)/.test(l)).slice(-3).join(' | ');
  if (tail) out.error += ' (llama.cpp: ' + tail.slice(0, 400) + ')';
  finish(1);
}
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);
const tick = () => new Promise((r) => setImmediate(r));
async function evaluate(addon, model, gpuLayers, tokens) {
  const m = await addon.loadModel(model, { gpuLayers, useMmap: false }, () => {}).promise;
  const ctx = await addon.createContext(m, { contextSize: 128, batchSize: 32, ubatchSize: 32, sequences: 1, threads: 2, threadsBatch: 2, embeddings: true, flashAttention: 'auto' }, () => {});
  await ctx.embed(tokens); // first run: pipelines, buffers
  const t0 = performance.now();
  const e = await ctx.embed(tokens);
  const ms = performance.now() - t0;
  ctx.dispose();
  m.dispose();
  return { e, ms };
}
(async () => {
  const mod = { exports: {} };
  process.dlopen(mod, process.env.WESTFALL_PROBE_ADDON);
  const addon = mod.exports;
  addon.setLogCallback((level, msg) => { if (logs.length < 400) logs.push(level + ': ' + String(msg).trim()); }, 'info');
  out.stage = 'list devices';
  out.systemInfo = addon.systemInfo();
  const gpus = out.systemInfo.devices.filter((d) => d.type !== 'cpu');
  if (gpus.length === 0) throw new Error('the addon found no GPU device');
  const model = process.env.WESTFALL_PROBE_MODEL;
  // 16 tokens: below the 32-token batch at which GPU backends take over CPU-resident matrix products,
  // so the gpuLayers=0 run really is the CPU's result.
  const tokens = Int32Array.from({ length: 16 }, (_, i) => (i * 37 + 11) % 256);
  out.stage = 'load the model with every layer on the GPU and evaluate it';
  const gpu = await evaluate(addon, model, 999, tokens);
  await tick(); await tick();
  const off = logs.map((l) => /offloaded (\d+)\/(\d+) layers to GPU/.exec(l)).filter(Boolean).pop();
  if (off) { out.offloadedLayers = Number(off[1]); out.totalLayers = Number(off[2]); }
  if (off && out.offloadedLayers === 0) throw new Error('llama.cpp offloaded no layer to the GPU');
  out.stage = 'evaluate the same model on the CPU';
  const cpu = await evaluate(addon, model, 0, tokens);
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < gpu.e.length; i++) { dot += gpu.e[i] * cpu.e[i]; na += gpu.e[i] * gpu.e[i]; nb += cpu.e[i] * cpu.e[i]; }
  out.cosine = dot / Math.sqrt(na * nb);
  out.gpuMs = gpu.ms;
  out.cpuMs = cpu.ms;
  out.stage = 'compare the GPU result with the CPU result';
  if (!(out.cosine > 0.99)) throw new Error('the GPU computed a different result than the CPU (cosine similarity ' + out.cosine + ')');
  out.stage = 'done';
  out.ok = true;
  finish(0);
})().catch(fail);
`;

export interface ProbeOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** The model the probe evaluates (default: the generated probe model in the OS temp folder). */
  model?: string;
}

function probeEnv(file: string, o: ProbeOptions): NodeJS.ProcessEnv {
  return { ...(o.env ?? process.env), WESTFALL_PROBE_ADDON: path.resolve(file), WESTFALL_PROBE_MODEL: path.resolve(o.model ?? ensureProbeModelSync()) };
}

/** The probe runs in the addon's folder: where ggml looks for dynamically loaded backends (portable cpu). */
function probeCwd(file: string): string {
  return path.dirname(path.resolve(file));
}

function probeResultFrom(
  r: { stdout: string; stderr: string; status: number | null; signal: NodeJS.Signals | null; error?: Error },
  started: number,
  timeoutMs: number,
): ProbeResult {
  const durationMs = Math.round(performance.now() - started);
  const line = r.stdout.split('\n').find((l) => l.startsWith(PROBE_MARK));
  if (line) {
    try {
      return { ...(JSON.parse(line.slice(PROBE_MARK.length)) as Omit<ProbeResult, 'durationMs'>), durationMs };
    } catch {
      // fall through: a garbled report is a failure like any other
    }
  }
  const stderr = r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 600);
  let why: string;
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' || r.signal === 'SIGTERM') why = `timed out after ${timeoutMs} ms`;
  else if (r.signal) why = `the probe process died with ${r.signal}${r.signal === 'SIGILL' ? ' (an instruction this CPU lacks)' : ''}`;
  else if (r.error) why = r.error.message;
  else why = `the probe process exited with code ${r.status}`;
  return { ok: false, stage: 'run the probe', error: stderr ? `${why}: ${stderr}` : why, durationMs };
}

export function probeVariantSync(file: string, o: ProbeOptions = {}): ProbeResult {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const started = performance.now();
  let r: SpawnSyncReturns<string>;
  try {
    r = spawnSync(process.execPath, ['-e', PROBE_SCRIPT], {
      env: probeEnv(file, o),
      cwd: probeCwd(file),
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 16 << 20,
      windowsHide: true,
    });
  } catch (err) {
    return { ok: false, stage: 'start the probe', error: (err as Error).message, durationMs: 0 };
  }
  return probeResultFrom(r, started, timeoutMs);
}

export function probeVariant(file: string, o: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const started = performance.now();
  return new Promise((resolve) => {
    let env: NodeJS.ProcessEnv;
    try {
      env = probeEnv(file, o);
    } catch (err) {
      resolve({ ok: false, stage: 'write the probe model', error: (err as Error).message, durationMs: 0 });
      return;
    }
    const child = spawn(process.execPath, ['-e', PROBE_SCRIPT], { env, cwd: probeCwd(file), windowsHide: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8192)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      resolve(probeResultFrom({ stdout, stderr, status: null, signal: null, error }, started, timeoutMs));
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const error = timedOut ? Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' }) : undefined;
      resolve(probeResultFrom({ stdout, stderr, status, signal, ...(error ? { error } : {}) }, started, timeoutMs));
    });
  });
}

/** Software Vulkan/OpenGL-on-CPU implementations: they work, but slower than our CPU backend. */
export const SOFTWARE_DEVICE = /llvmpipe|lavapipe|swiftshader|softpipe|software rasterizer/i;

/** Why a probed variant is not used; null when it is good. */
export function judgeProbe(c: VariantCandidate, p: ProbeResult, request: BackendRequest): string | null {
  if (!p.ok) {
    const hint =
      c.backend === 'vulkan' && /no GPU device/.test(p.error ?? '')
        ? ' (ggml ignores CPU-type Vulkan devices such as lavapipe unless GGML_VK_VISIBLE_DEVICES names them)'
        : '';
    return `probe failed (${p.stage}): ${p.error ?? 'unknown error'}${hint}`;
  }
  const gpus = (p.systemInfo?.devices ?? []).filter((d) => d.type !== 'cpu');
  if (gpus.length === 0) return 'the addon found no GPU device';
  if (request === 'auto' && gpus.every((d) => SOFTWARE_DEVICE.test(`${d.name} ${d.description}`))) {
    return `only a software ${c.backend} device (${gpus.map((d) => d.description || d.name).join(', ')}), which is slower than the CPU variant (WESTFALL_BACKEND=${c.backend} uses it anyway)`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Probe cache: probes cost a second or more (driver start-up), so results are kept per file and machine

export interface ProbeCacheOptions {
  /** Cache file; null disables the cache. Default: WESTFALL_VARIANT_CACHE or <tmp>/westfall-variant-probes-<uid>.json */
  file?: string | null;
  maxAgeMs?: number;
  /** Ignore cached results (they are still written). */
  refresh?: boolean;
}

export function defaultProbeCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WESTFALL_VARIANT_CACHE) return env.WESTFALL_VARIANT_CACHE;
  let user = 'user';
  try {
    user = String(os.userInfo().uid >= 0 ? os.userInfo().uid : os.userInfo().username);
  } catch {
    // no user database entry: shared name
  }
  return path.join(os.tmpdir(), `westfall-variant-probes-${user}.json`);
}

function probeKey(file: string, host: HostInfo, env: NodeJS.ProcessEnv): string | null {
  try {
    const st = statSync(file);
    return JSON.stringify({
      v: PROBE_VERSION,
      file: path.resolve(file),
      size: st.size,
      mtime: st.mtimeMs,
      abi: process.versions.modules,
      driver: host.nvidiaDriver,
      nodes: host.gpuDeviceNodes,
      icd: host.vulkanDriverOverride,
      visible: [env.CUDA_VISIBLE_DEVICES, env.GGML_VK_VISIBLE_DEVICES, env.GGML_VK_DISABLE_COOPMAT],
    });
  } catch {
    return null;
  }
}

type CacheData = Record<string, { at: number; result: ProbeResult }>;

function readCache(file: string): CacheData {
  return readJson<CacheData>(file) ?? {};
}

function writeCache(file: string, key: string, result: ProbeResult): void {
  try {
    const data = readCache(file);
    const now = Date.now();
    for (const [k, v] of Object.entries(data)) if (now - v.at > 7 * 86_400_000) delete data[k];
    data[key] = { at: now, result: { ...result, cached: undefined } as ProbeResult };
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(data));
    renameSync(tmp, file);
  } catch {
    // a cache that cannot be written only costs a probe next time
  }
}

// ---------------------------------------------------------------------------------------------------
// Selection

export type AttemptOutcome = 'selected' | 'skipped' | 'failed' | 'unused';

export interface VariantAttempt {
  backend: Backend;
  outcome: AttemptOutcome;
  reason: string;
  label?: string;
  file?: string;
  source?: VariantCandidate['source'];
  probe?: ProbeResult;
}

export interface SelectedVariant {
  backend: Backend;
  file: string;
  label: string;
  source: VariantCandidate['source'] | 'node-gyp-build';
  dynamicCpu: boolean;
  /** For the dynamic cpu variant: the ggml-cpu module ggml chose for this processor (Linux only). */
  cpuModule?: string | null;
  manifest?: VariantManifest;
}

export interface VariantReport {
  requested: BackendRequest;
  requestSource: 'option' | 'env' | 'default';
  selected: SelectedVariant | null;
  attempts: VariantAttempt[];
  host: HostInfo;
  /** The selected addon's systemInfo() (devices with free/total memory). */
  systemInfo: NativeSystemInfo | null;
  durationMs: number;
}

export interface SelectionOptions {
  backend?: BackendRequest;
  env?: NodeJS.ProcessEnv;
  /** Overrides for tests: the candidates, the machine, the probe and the loader. */
  candidates?: VariantCandidate[];
  host?: HostInfo;
  probe?: ProbeOptions & { cache?: ProbeCacheOptions; run?: (c: VariantCandidate) => ProbeResult | Promise<ProbeResult> };
  load?: (c: VariantCandidate) => NativeAddon;
}

type Step =
  | { kind: 'probe'; candidate: VariantCandidate }
  | { kind: 'load'; candidate: VariantCandidate };
type StepResult = ProbeResult | { addon?: NativeAddon; error?: unknown };

interface Decision {
  selected: VariantCandidate | null;
  addon: NativeAddon | null;
  attempts: VariantAttempt[];
}

/**
 * The decision procedure, written once as a generator that asks its driver for probes and loads, so the
 * synchronous path (the first native() call) and the asynchronous one (initNative) share it.
 */
function* decide(request: BackendRequest, candidates: VariantCandidate[], host: HostInfo): Generator<Step, Decision, StepResult> {
  const attempts: VariantAttempt[] = [];
  const order = backendOrder(request, host.platform);
  for (const backend of order) {
    const mine = candidates.filter((c) => c.backend === backend);
    if (mine.length === 0) {
      attempts.push({
        backend,
        outcome: 'skipped',
        reason: `no ${backend} build or prebuild for ${host.platform}-${host.arch} (npm run build -- --backend=${backend})`,
      });
      continue;
    }
    for (const c of mine) {
      const base = { backend, label: c.label, file: c.file, source: c.source };
      const skip = precheck(c, host, request);
      if (skip) {
        attempts.push({ ...base, outcome: 'skipped', reason: skip });
        continue;
      }
      let probe: ProbeResult | undefined;
      if (backend !== 'cpu') {
        probe = (yield { kind: 'probe', candidate: c }) as ProbeResult;
        const bad = judgeProbe(c, probe, request);
        if (bad) {
          attempts.push({ ...base, outcome: 'failed', reason: bad, probe });
          continue;
        }
      }
      const loaded = (yield { kind: 'load', candidate: c }) as { addon?: NativeAddon; error?: unknown };
      if (!loaded.addon) {
        const msg = loaded.error instanceof Error ? loaded.error.message : String(loaded.error);
        attempts.push({ ...base, outcome: 'failed', reason: `could not be loaded: ${msg.split('\n')[0]}`, ...(probe ? { probe } : {}) });
        continue;
      }
      const reason =
        backend === 'cpu'
          ? request === 'cpu'
            ? 'requested'
            : 'fallback: no GPU variant is usable here'
          : `probe passed: ${probe?.offloadedLayers ?? '?'}/${probe?.totalLayers ?? '?'} layers on ${probe?.systemInfo?.devices.find((d) => d.type !== 'cpu')?.description ?? 'the GPU'}, matches the CPU (cosine ${probe?.cosine?.toFixed(5) ?? '?'})`;
      attempts.push({ ...base, outcome: 'selected', reason, ...(probe ? { probe } : {}) });
      for (const rest of order.slice(order.indexOf(backend) + 1)) {
        attempts.push({ backend: rest, outcome: 'unused', reason: `${backend} was selected first` });
      }
      return { selected: c, addon: loaded.addon, attempts };
    }
  }
  return { selected: null, addon: null, attempts };
}

export function resolveRequest(o: SelectionOptions): { request: BackendRequest; source: VariantReport['requestSource'] } {
  if (o.backend !== undefined) return { request: o.backend, source: 'option' };
  const raw = (o.env ?? process.env).WESTFALL_BACKEND;
  if (raw !== undefined && raw.trim() !== '') {
    const parsed = parseBackendRequest(raw);
    if (!parsed) throw new RangeError(`WESTFALL_BACKEND must be auto, cuda, vulkan, metal or cpu (got '${raw}')`);
    return { request: parsed, source: 'env' };
  }
  return { request: 'auto', source: 'default' };
}

const requireHere = createRequire(import.meta.url);

/**
 * Loads an addon file. The dynamic cpu variant's llama_backend_init() asks ggml to load the best
 * ggml-cpu-<generation> module from the executable's folder and the current directory, so the current
 * directory is the addon's folder while it loads (synchronous: nothing else runs meanwhile). A worker
 * thread cannot change directory (nor reach the native environment through process.env); there the
 * addon only works if the main thread loaded it first, which is checked.
 */
export function loadAddon(c: Pick<VariantCandidate, 'file' | 'dynamicCpu'>): NativeAddon {
  if (!c.dynamicCpu) return requireHere(c.file) as NativeAddon;
  const before = process.cwd();
  let moved = false;
  try {
    process.chdir(path.dirname(c.file));
    moved = true;
  } catch {
    // worker thread: see below
  }
  let addon: NativeAddon;
  try {
    addon = requireHere(c.file) as NativeAddon;
  } finally {
    if (moved) process.chdir(before);
  }
  if (!addon.systemInfo().devices.some((d) => d.type === 'cpu')) {
    throw new Error(
      moved
        ? `ggml found none of its CPU modules (ggml-cpu-*) next to ${c.file}`
        : 'the portable cpu build must be loaded on the main thread first (a worker cannot make ggml find its CPU modules)',
    );
  }
  return addon;
}

/** The ggml-cpu module a dynamic cpu variant loaded (Linux: from /proc/self/maps), for reports. */
export function loadedCpuModule(): string | null {
  try {
    const m = /\S*ggml-cpu-[^/\s]+\.so/.exec(readFileSync('/proc/self/maps', 'utf8'));
    return m ? path.basename(m[0]) : null;
  } catch {
    return null;
  }
}

interface Prepared {
  request: BackendRequest;
  source: VariantReport['requestSource'];
  candidates: VariantCandidate[];
  host: HostInfo;
  env: NodeJS.ProcessEnv;
  cacheFile: string | null;
}

function prepare(o: SelectionOptions): Prepared {
  const env = o.env ?? process.env;
  const { request, source } = resolveRequest({ ...o, env });
  const cacheOpt = o.probe?.cache?.file;
  return {
    request,
    source,
    env,
    candidates: o.candidates ?? discoverVariants({ env }),
    host: o.host ?? detectHost(env),
    cacheFile: cacheOpt === null ? null : (cacheOpt ?? defaultProbeCacheFile(env)),
  };
}

function cachedProbe(p: Prepared, o: SelectionOptions, c: VariantCandidate): { key: string | null; hit?: ProbeResult } {
  if (!p.cacheFile || o.probe?.run) return { key: null };
  const key = probeKey(c.file, p.host, p.env);
  if (!key || o.probe?.cache?.refresh) return { key };
  const hit = readCache(p.cacheFile)[key];
  const maxAge = o.probe?.cache?.maxAgeMs ?? 86_400_000;
  return hit && Date.now() - hit.at <= maxAge ? { key, hit: { ...hit.result, cached: true } } : { key };
}

function finishReport(p: Prepared, d: Decision, started: number): { addon: NativeAddon | null; report: VariantReport } {
  let systemInfo: NativeSystemInfo | null = null;
  try {
    systemInfo = d.addon?.systemInfo() ?? null;
  } catch {
    systemInfo = null;
  }
  const s = d.selected;
  return {
    addon: d.addon,
    report: {
      requested: p.request,
      requestSource: p.source,
      selected: s
        ? {
            backend: s.backend,
            file: s.file,
            label: s.label,
            source: s.source,
            dynamicCpu: s.dynamicCpu,
            ...(s.dynamicCpu && d.addon ? { cpuModule: loadedCpuModule() } : {}),
            ...(s.manifest ? { manifest: s.manifest } : {}),
          }
        : null,
      attempts: d.attempts,
      host: p.host,
      systemInfo,
      durationMs: Math.round(performance.now() - started),
    },
  };
}

function doLoad(o: SelectionOptions, p: Prepared, c: VariantCandidate): StepResult {
  try {
    return { addon: (o.load ?? loadAddon)(c) };
  } catch (error) {
    return { error };
  }
}

/** Chooses and loads a variant, probing GPU variants in child processes (blocks while they run). */
export function selectVariantSync(o: SelectionOptions = {}): { addon: NativeAddon | null; report: VariantReport } {
  const started = performance.now();
  const p = prepare(o);
  const gen = decide(p.request, p.candidates, p.host);
  let step = gen.next();
  while (!step.done) {
    const s = step.value;
    if (s.kind === 'load') {
      step = gen.next(doLoad(o, p, s.candidate));
      continue;
    }
    const { key, hit } = cachedProbe(p, o, s.candidate);
    let result = hit;
    if (!result) {
      const run = o.probe?.run;
      const r = run ? run(s.candidate) : probeVariantSync(s.candidate.file, { ...o.probe, env: p.env });
      if (r instanceof Promise) throw new TypeError('selectVariantSync needs a synchronous probe');
      result = r;
      if (key && p.cacheFile) writeCache(p.cacheFile, key, result);
    }
    step = gen.next(result);
  }
  return finishReport(p, step.value, started);
}

/** As selectVariantSync, without blocking the event loop while probes run. */
export async function selectVariant(o: SelectionOptions = {}): Promise<{ addon: NativeAddon | null; report: VariantReport }> {
  const started = performance.now();
  const p = prepare(o);
  const gen = decide(p.request, p.candidates, p.host);
  let step = gen.next();
  while (!step.done) {
    const s = step.value;
    if (s.kind === 'load') {
      step = gen.next(doLoad(o, p, s.candidate));
      continue;
    }
    const { key, hit } = cachedProbe(p, o, s.candidate);
    let result = hit;
    if (!result) {
      const run = o.probe?.run;
      result = await (run ? run(s.candidate) : probeVariant(s.candidate.file, { ...o.probe, env: p.env }));
      if (key && p.cacheFile) writeCache(p.cacheFile, key, result);
    }
    step = gen.next(result);
  }
  return finishReport(p, step.value, started);
}

/** One line per attempt, for logs. */
export function describeAttempts(report: VariantReport): string[] {
  return report.attempts
    .filter((a) => a.outcome !== 'unused')
    .map((a) => `${a.backend}: ${a.outcome}${a.label ? ` (${a.label})` : ''}: ${a.reason}`);
}
