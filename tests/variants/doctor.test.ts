// `westfall doctor` (src/cli/commands/doctor.ts) on this machine: the variant in use, devices, and a reason
// for every variant that is not used.
import { describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/commands/doctor.js';
import { TINY_MODEL } from '../helpers/models.js';

async function doctor(options: Parameters<typeof runDoctor>[0] = {}): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await runDoctor({ ...options, out: (t) => (text += t) });
  return { code, text };
}

describe('westfall doctor', () => {
  it('prints the variant in use, the devices with their memory, and why other variants were skipped', async () => {
    const { code, text } = await doctor({ model: TINY_MODEL });
    expect(code).toBe(0);
    expect(text).toMatch(/^Variant in use\s+\w+ \(/m);
    expect(text).toMatch(/Devices \(of the variant in use\)\n\s+CPU\s+cpu\s+.*free [\d.]+ \w+ of [\d.]+ \w+/);
    const variants = text.slice(text.indexOf('Variants (in the order tried)'));
    expect(variants).toMatch(/cuda\s+(skipped|failed)\s+.+/);
    expect(variants).toMatch(/\s(selected)\s/);
    expect(text).toMatch(/Model plan for .*tiny-qwen2\.gguf\n\s+qwen2, 2 layers/);
    expect(text).toMatch(/gpuLayers \d+ \(of 3 with the output layer\), contextSize \d+/);
  });

  it('--json gives the whole report', async () => {
    const { code, text } = await doctor({ json: true });
    expect(code).toBe(0);
    const r = JSON.parse(text);
    expect(r.selected.backend).toMatch(/^(cpu|cuda|vulkan|metal)$/);
    expect(Array.isArray(r.attempts)).toBe(true);
    expect(Array.isArray(r.host.cpuFlags) || r.host.cpuFlags === null).toBe(true);
    expect(r.systemInfo.devices.length).toBeGreaterThan(0);
  });

  it('rejects an unknown backend with exit code 2', async () => {
    const { code, text } = await doctor({ backend: 'opencl' });
    expect(code).toBe(2);
    expect(text).toMatch(/--backend must be/);
  });
});
