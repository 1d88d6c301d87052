// Variant selection and the CPU fallback (src/engine/variants.ts), without any GPU: fake variants whose
// probe fails, a corrupt "CUDA" addon probed for real in a child process, and the prebuild naming.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { NativeAddon, NativeSystemInfo } from '../../src/engine/native.js';
import { native, selectedVariant, variantReport } from '../../src/engine/native.js';
import {
  backendOrder,
  discoverVariants,
  judgeProbe,
  loadAddon,
  loadedCpuModule,
  packageRoot,
  parsePrebuildName,
  precheck,
  probeVariantSync,
  resolveRequest,
  selectVariant,
  selectVariantSync,
  type HostInfo,
  type ProbeResult,
  type VariantCandidate,
} from '../../src/engine/variants.js';

// The CPU variant the engine would use here (build/Release locally; a portable build or prebuild in CI).
const CPU_VARIANT = discoverVariants().find((c) => c.backend === 'cpu');
const CPU_BUILD = CPU_VARIANT?.file ?? path.join(packageRoot, 'build/Release/westfall_llama.node');
const tmp = mkdtempSync(path.join(tmpdir(), 'westfall-variants-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const linuxHost = (over: Partial<HostInfo> = {}): HostInfo => ({
  platform: 'linux',
  arch: 'x64',
  cpuModel: 'test',
  cpuFlags: new Set(['sse4_2', 'avx', 'avx2', 'fma', 'f16c', 'bmi2']),
  nvidiaDriver: 'NVRM version: fake',
  vulkanLoader: '/usr/lib/libvulkan.so.1',
  gpuDeviceNodes: ['/dev/dri/renderD128'],
  vulkanDriverOverride: null,
  ...over,
});

const cand = (backend: VariantCandidate['backend'], file = `/fake/${backend}.node`, extra: Partial<VariantCandidate> = {}): VariantCandidate => ({
  backend,
  file,
  source: 'prebuild',
  label: path.basename(file),
  dynamicCpu: false,
  ...extra,
});

const gpuInfo = (description: string): NativeSystemInfo => ({
  backend: 'vulkan',
  llamaCppVersion: 'test',
  cpuFeatures: '',
  gpuOffload: true,
  mmap: true,
  devices: [
    { name: 'Vulkan0', description, type: 'gpu', memoryFree: 8 << 30, memoryTotal: 8 << 30 },
    { name: 'CPU', description: 'cpu', type: 'cpu', memoryFree: 1, memoryTotal: 1 },
  ],
});
const passed = (description: string): ProbeResult => ({ ok: true, stage: 'done', systemInfo: gpuInfo(description), offloadedLayers: 3, totalLayers: 3, cosine: 0.99999, durationMs: 1 });
const fakeAddon = (name: string) => ({ name, systemInfo: () => gpuInfo(name) }) as unknown as NativeAddon;

describe('selection logic (fake variants)', () => {
  it('tries cuda, then vulkan, then cpu; metal then cpu on macOS; a named backend then cpu', () => {
    expect(backendOrder('auto', 'linux')).toEqual(['cuda', 'vulkan', 'cpu']);
    expect(backendOrder('auto', 'win32')).toEqual(['cuda', 'vulkan', 'cpu']);
    expect(backendOrder('auto', 'darwin')).toEqual(['metal', 'cpu']);
    expect(backendOrder('vulkan', 'linux')).toEqual(['vulkan', 'cpu']);
    expect(backendOrder('cpu', 'linux')).toEqual(['cpu']);
  });

  it('reads WESTFALL_BACKEND, lets an explicit option win, and rejects nonsense', () => {
    expect(resolveRequest({ env: {} })).toEqual({ request: 'auto', source: 'default' });
    expect(resolveRequest({ env: { WESTFALL_BACKEND: ' Vulkan ' } })).toEqual({ request: 'vulkan', source: 'env' });
    expect(resolveRequest({ env: { WESTFALL_BACKEND: 'vulkan' }, backend: 'cpu' })).toEqual({ request: 'cpu', source: 'option' });
    expect(() => resolveRequest({ env: { WESTFALL_BACKEND: 'opencl' } })).toThrow(/WESTFALL_BACKEND/);
  });

  it('falls back to the CPU when a GPU variant fails its probe, and records why', () => {
    const probed: string[] = [];
    const { addon, report } = selectVariantSync({
      env: {},
      host: linuxHost(),
      candidates: [cand('cuda'), cand('vulkan'), cand('cpu')],
      probe: {
        cache: { file: null },
        run: (c) => {
          probed.push(c.backend);
          return c.backend === 'cuda'
            ? { ok: false, stage: 'load the addon', error: 'libcublas.so.12: cannot open shared object file', durationMs: 3 }
            : { ok: false, stage: 'run the probe', error: 'the probe process died with SIGSEGV', durationMs: 5 };
        },
      },
      load: (c) => fakeAddon(c.backend),
    });
    expect(probed).toEqual(['cuda', 'vulkan']); // the CPU variant is never probed
    expect((addon as unknown as { name: string }).name).toBe('cpu');
    expect(report.selected?.backend).toBe('cpu');
    expect(report.attempts.map((a) => [a.backend, a.outcome])).toEqual([
      ['cuda', 'failed'],
      ['vulkan', 'failed'],
      ['cpu', 'selected'],
    ]);
    expect(report.attempts[0]!.reason).toMatch(/probe failed \(load the addon\): libcublas/);
    expect(report.attempts[1]!.reason).toMatch(/SIGSEGV/);
  });

  it('skips what the machine plainly cannot run without probing it', () => {
    const host = linuxHost({ nvidiaDriver: null, vulkanLoader: null });
    const { report } = selectVariantSync({
      env: {},
      host,
      candidates: [cand('cuda'), cand('vulkan'), cand('cpu')],
      probe: { cache: { file: null }, run: () => { throw new Error('must not probe'); } },
      load: (c) => fakeAddon(c.backend),
    });
    expect(report.attempts.map((a) => a.outcome)).toEqual(['skipped', 'skipped', 'selected']);
    expect(report.attempts[0]!.reason).toMatch(/no NVIDIA driver/);
    expect(report.attempts[1]!.reason).toMatch(/no Vulkan loader/);
  });

  it('says when a backend has no build at all', () => {
    const { report } = selectVariantSync({ env: {}, host: linuxHost(), candidates: [cand('cpu')], probe: { cache: { file: null } }, load: (c) => fakeAddon(c.backend) });
    expect(report.attempts[0]).toMatchObject({ backend: 'cuda', outcome: 'skipped' });
    expect(report.attempts[0]!.reason).toMatch(/no cuda build or prebuild for linux-x64/);
  });

  it('auto skips Vulkan without a GPU device node; asking for vulkan probes it anyway', () => {
    const host = linuxHost({ gpuDeviceNodes: [], nvidiaDriver: null });
    expect(precheck(cand('vulkan'), host, 'auto')).toMatch(/no GPU device node/);
    expect(precheck(cand('vulkan'), host, 'vulkan')).toBeNull();
    expect(precheck(cand('vulkan'), { ...host, vulkanDriverOverride: '/usr/share/vulkan/icd.d/lvp_icd.x86_64.json' }, 'auto')).toBeNull();
  });

  it('rejects a software Vulkan device under auto, accepts it when vulkan is asked for', () => {
    const lvp = passed('llvmpipe (LLVM 15.0.6, 256 bits)');
    expect(judgeProbe(cand('vulkan'), lvp, 'auto')).toMatch(/only a software vulkan device \(llvmpipe/);
    expect(judgeProbe(cand('vulkan'), lvp, 'vulkan')).toBeNull();
    expect(judgeProbe(cand('vulkan'), passed('NVIDIA GeForce RTX 4090'), 'auto')).toBeNull();
    const noGpu: ProbeResult = { ...passed('x'), systemInfo: { ...gpuInfo('x'), devices: [] } };
    expect(judgeProbe(cand('vulkan'), noGpu, 'vulkan')).toMatch(/no GPU device/);
  });

  it('a requested GPU backend that fails still ends on the CPU', async () => {
    const { report } = await selectVariant({
      backend: 'vulkan',
      host: linuxHost(),
      candidates: [cand('vulkan'), cand('cpu')],
      probe: { cache: { file: null }, run: async () => ({ ok: false, stage: 'list devices', error: 'the addon found no GPU device', durationMs: 1 }) },
      load: (c) => fakeAddon(c.backend),
    });
    expect(report.requested).toBe('vulkan');
    expect(report.selected?.backend).toBe('cpu');
    expect(report.attempts.map((a) => a.outcome)).toEqual(['failed', 'selected']);
  });

  it('selects a GPU variant that passes, and marks the rest unused', async () => {
    const { report } = await selectVariant({
      env: {},
      host: linuxHost(),
      candidates: [cand('cuda'), cand('vulkan'), cand('cpu')],
      probe: { cache: { file: null }, run: async () => passed('NVIDIA H100') },
      load: (c) => fakeAddon(c.backend),
    });
    expect(report.selected?.backend).toBe('cuda');
    expect(report.attempts.map((a) => a.outcome)).toEqual(['selected', 'unused', 'unused']);
    expect(report.attempts[0]!.reason).toMatch(/3\/3 layers on NVIDIA H100/);
  });

  it('a variant that passes its probe but cannot be loaded in-process falls back too', () => {
    const { report } = selectVariantSync({
      env: {},
      host: linuxHost(),
      candidates: [cand('cuda'), cand('cpu', '/fake/a.node'), cand('cpu', '/fake/b.node')],
      probe: { cache: { file: null }, run: () => passed('NVIDIA H100') },
      load: (c) => {
        if (c.file !== '/fake/b.node') throw new Error(`${c.file}: cannot open shared object file`);
        return fakeAddon('b');
      },
    });
    expect(report.selected?.file).toBe('/fake/b.node');
    expect(report.attempts.map((a) => [a.backend, a.outcome])).toEqual([
      ['cuda', 'failed'],
      ['vulkan', 'skipped'],
      ['cpu', 'failed'],
      ['cpu', 'selected'],
    ]);
    expect(report.attempts[0]!.reason).toMatch(/could not be loaded: .*cannot open shared object file/);
  });

  it('skips a build whose CPU baseline this processor lacks', () => {
    const c = cand('vulkan', '/fake/v.node', { manifest: { cpu: { requires: ['avx2', 'avx512f'] } } });
    expect(precheck(c, linuxHost(), 'auto')).toMatch(/needs avx512f/);
  });
});

describe('a fake failing variant probed for real', () => {
  const dir = path.join(tmp, 'prebuilds', `${process.platform}-${process.arch}`);
  mkdirSync(dir, { recursive: true });
  const fake = path.join(dir, 'westfall_llama.cuda.node');
  writeFileSync(fake, 'this is not a shared library\n');

  it('the probe process reports a file that does not load', () => {
    const r = probeVariantSync(fake, { timeoutMs: 30_000 });
    expect(r.ok).toBe(false);
    expect(r.stage).toBe('load the addon');
    expect(r.error).toBeTruthy();
  });

  it('the probe of the CPU build finds no GPU device', () => {
    const r = probeVariantSync(CPU_BUILD, { timeoutMs: 30_000 });
    expect(r).toMatchObject({ ok: false, stage: 'list devices' });
    expect(r.error).toMatch(/no GPU device/);
    expect(r.systemInfo?.devices.some((d) => d.type === 'cpu')).toBe(true);
  });

  it('selection falls back to the CPU build and keeps the reason', () => {
    const candidates = [...discoverVariants({ root: tmp, env: {} }), ...(CPU_VARIANT ? [CPU_VARIANT] : [])];
    expect(candidates[0]).toMatchObject({ backend: 'cuda', source: 'prebuild', file: fake });
    const { addon, report } = selectVariantSync({ env: {}, host: linuxHost(), candidates, probe: { cache: { file: null }, timeoutMs: 30_000 } });
    expect(addon).toBeTruthy();
    expect(report.selected).toMatchObject({ backend: 'cpu', file: CPU_BUILD });
    const cuda = report.attempts.find((a) => a.backend === 'cuda')!;
    expect(cuda.outcome).toBe('failed');
    expect(cuda.reason).toMatch(/^probe failed \(load the addon\)/);
    expect(report.systemInfo?.backend).toBe('cpu');
  });
});

describe('prebuild names and discovery', () => {
  it('parses prebuildify names with a backend tag', () => {
    expect(parsePrebuildName('westfall_llama.vulkan.node')).toMatchObject({ backend: 'vulkan', napi: false, specificity: 1 });
    expect(parsePrebuildName('westfall_llama.vulkan.napi.node')).toMatchObject({ backend: 'vulkan', napi: true });
    expect(parsePrebuildName('westfall_llama.napi.node')).toMatchObject({ backend: 'cpu', napi: true });
    expect(parsePrebuildName('westfall_llama.cpu.abi1.node')).toMatchObject({ abi: '1' });
    expect(parsePrebuildName('westfall_llama.cuda.napi.glibc.node')).toMatchObject({ backend: 'cuda', libc: 'glibc', specificity: 3 });
    expect(parsePrebuildName('other.napi.node')).toBeNull();
    expect(parsePrebuildName('westfall_llama.cpu.napi.node.json')).toBeNull();
  });

  it('finds local builds before prebuilds and filters libc and platform', () => {
    const root = path.join(tmp, 'discover');
    const touch = (f: string) => {
      mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
      writeFileSync(path.join(root, f), '');
    };
    touch('build/Release/westfall_llama.node');
    touch('build-vulkan/Release/westfall_llama.node');
    touch('prebuilds/linux-x64/westfall_llama.cpu.glibc.node');
    touch('prebuilds/linux-x64/libggml-cpu-haswell.so');
    touch('prebuilds/linux-x64/westfall_llama.vulkan.glibc.node');
    touch('prebuilds/linux-x64/westfall_llama.vulkan.musl.node');
    touch('prebuilds/linux-x64/westfall_llama.cuda.node');
    touch('prebuilds/linux-x64/westfall_llama.cuda.abi1.node'); // another Node's ABI
    touch('prebuilds/win32-x64/westfall_llama.cuda.node');
    touch('prebuilds/darwin-x64+arm64/westfall_llama.metal.node');
    const found = discoverVariants({ root, env: {}, platform: 'linux', arch: 'x64', libc: 'glibc' });
    expect(found.map((c) => [c.backend, c.source, path.relative(root, c.file)])).toEqual([
      ['cpu', 'build', 'build/Release/westfall_llama.node'],
      ['cpu', 'prebuild', 'prebuilds/linux-x64/westfall_llama.cpu.glibc.node'],
      ['cuda', 'prebuild', 'prebuilds/linux-x64/westfall_llama.cuda.node'],
      ['vulkan', 'build', 'build-vulkan/Release/westfall_llama.node'],
      ['vulkan', 'prebuild', 'prebuilds/linux-x64/westfall_llama.vulkan.glibc.node'],
    ]);
    expect(found[1]!.dynamicCpu).toBe(true);
    expect(discoverVariants({ root, env: { PREBUILDS_ONLY: '1' }, platform: 'linux', arch: 'x64', libc: 'glibc' }).every((c) => c.source === 'prebuild')).toBe(true);
    const mac = discoverVariants({ root, env: { PREBUILDS_ONLY: '1' }, platform: 'darwin', arch: 'arm64' });
    expect(mac.map((c) => c.backend)).toEqual(['metal']);
  });
});

describe('the engine on this machine', () => {
  it('native() loads a variant and reports it', () => {
    native();
    const s = selectedVariant();
    expect(s).not.toBeNull();
    const r = variantReport()!;
    expect(r.attempts.some((a) => a.outcome === 'selected')).toBe(true);
    expect(r.systemInfo?.devices.length).toBeGreaterThan(0);
    // every backend ahead of the selected one says why it was not used
    for (const a of r.attempts.slice(0, r.attempts.findIndex((x) => x.outcome === 'selected'))) expect(a.reason.length).toBeGreaterThan(10);
  });
});

const dynamicCpu = discoverVariants().find((c) => c.backend === 'cpu' && c.dynamicCpu);
describe.skipIf(!dynamicCpu)(
  `the portable cpu variant${dynamicCpu ? '' : ' (SKIPPED: no portable cpu build; node scripts/build-native.mjs --portable makes build-cpu-portable/)'}`,
  () => {
    it('loads, lets ggml pick the CPU module for this processor, and restores the directory', () => {
      const before = process.cwd();
      const addon = loadAddon(dynamicCpu!);
      expect(process.cwd()).toBe(before);
      const info = addon.systemInfo();
      expect(info.devices.some((d) => d.type === 'cpu')).toBe(true);
      if (process.platform === 'linux') expect(loadedCpuModule()).toMatch(/^libggml-cpu-\w+\.so$/);
    });
  },
);
