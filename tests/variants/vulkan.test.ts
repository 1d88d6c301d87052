// The Vulkan variant for real, on Mesa's lavapipe (software Vulkan) where there is no GPU. Runs only when
// build-vulkan/ exists (npm run build -- --backend=vulkan) and a Vulkan driver is installed; otherwise
// the suite is reported as skipped with the reason in its name.
// (Vulkan builds: build-vulkan/, build-vulkan-portable/ or prebuilds/, as src/engine/variants.ts finds them.)
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { autoModelSettings } from '../../src/engine/memory.js';
import { loadModel } from '../../src/engine/model.js';
import { configureNative, native, selectedVariant, variantReport } from '../../src/engine/native.js';
import { setLogHandler, systemInfo } from '../../src/engine/system.js';
import { discoverVariants, judgeProbe, probeVariantSync } from '../../src/engine/variants.js';
import { TINY_MODEL } from '../helpers/models.js';

// build-vulkan/, build-vulkan-portable/ or a prebuild, whichever the engine itself would find first
const vulkan = discoverVariants().find((c) => c.backend === 'vulkan');

function lavapipeIcd(): string | null {
  for (const d of ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d']) {
    try {
      const f = readdirSync(d).find((x) => /^lvp_icd.*\.json$/.test(x));
      if (f) return path.join(d, f);
    } catch {
      // next folder
    }
  }
  return null;
}

const gpuNode = existsSync('/dev/dri') || existsSync('/dev/nvidia0');
const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES ?? (gpuNode ? null : lavapipeIcd());
const skip = !vulkan
  ? 'no Vulkan build (npm run build -- --backend=vulkan makes build-vulkan/) and no vulkan prebuild'
  : !icd && !gpuNode
    ? 'no Vulkan driver (apt-get install mesa-vulkan-drivers for lavapipe)'
    : null;
if (skip) process.stderr.write(`[tests/variants/vulkan] SKIPPED: ${skip}\n`);
const onLavapipe = !!icd && /lvp_icd/.test(icd);
// The loader reads these when the addon creates its Vulkan instance (at load). ggml skips CPU-type
// Vulkan devices such as lavapipe unless GGML_VK_VISIBLE_DEVICES names them.
if (!skip && icd) process.env.VK_ICD_FILENAMES = icd;
if (!skip && onLavapipe) process.env.GGML_VK_VISIBLE_DEVICES ??= '0';

describe.skipIf(skip !== null)(`vulkan variant${skip ? ` (SKIPPED: ${skip})` : onLavapipe ? ' on lavapipe' : ''}`, () => {
  const candidate = vulkan!;

  it('passes the probe: every layer offloaded, same result as the CPU', () => {
    const p = probeVariantSync(candidate.file, { timeoutMs: 120_000 });
    expect(p.error ?? '').toBe('');
    expect(p.ok).toBe(true);
    expect(p.offloadedLayers).toBe(p.totalLayers);
    expect(p.offloadedLayers).toBeGreaterThan(0);
    expect(p.cosine).toBeGreaterThan(0.999);
    const gpu = p.systemInfo!.devices.find((d) => d.type !== 'cpu')!;
    expect(gpu.memoryTotal).toBeGreaterThan(0);
    if (onLavapipe) {
      expect(gpu.description).toMatch(/llvmpipe/);
      // software Vulkan is slower than our CPU backend: auto does not pick it, asking for vulkan does
      expect(judgeProbe(candidate, p, 'auto')).toMatch(/software/);
    }
    expect(judgeProbe(candidate, p, 'vulkan')).toBeNull();
  }, 180_000);

  it('the engine selects it when asked and generates with gpuLayers > 0', async () => {
    configureNative({ backend: 'vulkan', probe: { cache: { file: null }, timeoutMs: 120_000 }, log: null });
    native();
    expect(selectedVariant()).toMatchObject({ backend: 'vulkan', file: candidate.file });
    expect(variantReport()!.attempts[0]).toMatchObject({ backend: 'vulkan', outcome: 'selected' });
    expect(systemInfo().backend).toBe('vulkan');

    const plan = await autoModelSettings(TINY_MODEL);
    expect(plan.gpuLayers).toBe(plan.nLayer + 1); // the tiny model fits entirely
    const lines: string[] = [];
    setLogHandler((_l, m) => lines.push(m), 'info');
    await using model = await loadModel({ path: TINY_MODEL, gpuLayers: plan.gpuLayers });
    await new Promise((r) => setTimeout(r, 50));
    setLogHandler(null);
    expect(lines.join('\n')).toMatch(/offloaded 3\/3 layers to GPU/);
    await using ctx = await model.createContext({ contextSize: 512, threads: 2 });
    const r = await ctx.generate('Once upon a time', { maxTokens: 24, temperature: 0, ignoreEos: true }).result;
    expect(r.stopReason).toBe('max_tokens');
    expect(r.usage.completionTokens).toBe(24);
    expect(r.timings.generationTokensPerSecond).toBeGreaterThan(0);
    process.stderr.write(
      `[tests/variants/vulkan] ${systemInfo().devices[0]?.description}: prompt ${r.timings.promptTokensPerSecond.toFixed(1)} tok/s, generation ${r.timings.generationTokensPerSecond.toFixed(1)} tok/s\n`,
    );
    // the same model kept on the CPU by the same addon embeds the same way
    const onGpu = await model.embed('The quick brown fox jumps over the lazy dog');
    await using cpuModel = await loadModel({ path: TINY_MODEL, gpuLayers: 0 });
    const onCpu = await cpuModel.embed('The quick brown fox jumps over the lazy dog');
    let dot = 0;
    for (let i = 0; i < onGpu.length; i++) dot += onGpu[i]! * onCpu[i]!;
    expect(dot).toBeGreaterThan(0.999); // both are L2-normalized
  }, 180_000);
});
