// `westfall doctor`: which build variant of the engine runs here (cpu, cuda, vulkan, metal), the devices
// it sees with their memory, and why every other variant was skipped or failed its probe. With --model, also
// the GPU layers and context size the automatic plan would choose for that model.
//
//   westfall doctor [--json] [--refresh] [--backend auto|cuda|vulkan|metal|cpu] [--model file.gguf]
import { WestfallError } from '../../errors.js';
import { autoModelSettings, fmt } from '../../engine/memory.js';
import { initNative, variantReport, type VariantReport } from '../../engine/native.js';
import { parseBackendRequest, type VariantAttempt } from '../../engine/variants.js';

export const DOCTOR_EXIT_OK = 0;
export const DOCTOR_EXIT_FAILURE = 1;
export const DOCTOR_EXIT_USAGE = 2;

export interface DoctorOptions {
  /** Print the report as JSON instead of text. */
  json?: boolean;
  /** Probe GPU variants again instead of using cached probe results. */
  refresh?: boolean;
  /** auto | cuda | vulkan | metal | cpu (default: WESTFALL_BACKEND, then auto). */
  backend?: string;
  /** A GGUF model to plan GPU layers and context size for. */
  model?: string;
  /** Where the text goes (default stdout). */
  out?: (text: string) => void;
}

const pad = (s: string, n: number) => (s.length >= n ? `${s} ` : s + ' '.repeat(n - s.length));

function describeSource(r: VariantReport): string {
  const s = r.selected!;
  const kind =
    s.source === 'build'
      ? `local build${s.manifest?.portable ? ', portable' : s.backend === 'cpu' || !s.manifest ? ', native CPU flags' : ''}`
      : s.source === 'prebuild'
        ? 'prebuilt binary'
        : 'found by node-gyp-build';
  const cpu = s.dynamicCpu ? `; CPU code picked at runtime: ${s.cpuModule ?? 'a ggml-cpu-* module'}` : s.manifest?.cpu?.baseline ? `; CPU baseline: ${s.manifest.cpu.baseline}` : '';
  return `${s.backend} (${s.label}, ${kind}${cpu})`;
}

function deviceLines(devices: NonNullable<VariantReport['systemInfo']>['devices'], indent = '  '): string[] {
  return devices.map(
    (d) => `${indent}${pad(d.name, 10)}${pad(d.type, 6)}${pad(d.description, 40)}free ${fmt(d.memoryFree)} of ${fmt(d.memoryTotal)}`,
  );
}

function attemptLines(a: VariantAttempt): string[] {
  const lines = [`  ${pad(a.backend, 8)}${pad(a.outcome, 10)}${a.label ? `${a.label}: ` : ''}${a.reason}`];
  const p = a.probe;
  if (p) {
    const facts = [
      `probe ${p.durationMs} ms${p.cached ? ' (cached; --refresh probes again)' : ''}`,
      p.offloadedLayers !== undefined ? `${p.offloadedLayers}/${p.totalLayers} layers offloaded` : '',
      p.cosine !== undefined ? `GPU vs CPU cosine ${p.cosine.toFixed(5)}` : '',
      p.gpuMs !== undefined && p.cpuMs !== undefined ? `probe evaluation ${p.gpuMs.toFixed(1)} ms GPU, ${p.cpuMs.toFixed(1)} ms CPU` : '',
    ].filter(Boolean);
    lines.push(`  ${' '.repeat(18)}${facts.join('; ')}`);
    if (a.outcome !== 'selected' && p.systemInfo) {
      lines.push(`  ${' '.repeat(18)}devices this variant saw:`);
      lines.push(...deviceLines(p.systemInfo.devices, `  ${' '.repeat(20)}`));
    }
  }
  return lines;
}

function toJson(r: VariantReport, plan: unknown): string {
  return JSON.stringify(
    { ...r, host: { ...r.host, cpuFlags: r.host.cpuFlags ? [...r.host.cpuFlags].sort() : null }, ...(plan ? { modelPlan: plan } : {}) },
    null,
    2,
  );
}

/** Prints the report; returns the exit code (0: a variant runs, 1: none does, 2: bad options). */
export async function runDoctor(options: DoctorOptions = {}): Promise<number> {
  const out = options.out ?? ((t: string) => void process.stdout.write(t));
  const backend = options.backend === undefined ? undefined : parseBackendRequest(options.backend);
  if (options.backend !== undefined && !backend) {
    out(`--backend must be auto, cuda, vulkan, metal or cpu (got '${options.backend}')\n`);
    return DOCTOR_EXIT_USAGE;
  }

  let report: VariantReport | null = variantReport();
  let loadError: unknown = null;
  if (!report || options.refresh || backend) {
    try {
      report = await initNative({ ...(backend ? { backend } : {}), probe: { cache: { refresh: options.refresh === true } }, log: null });
    } catch (err) {
      loadError = err;
      report = variantReport();
    }
  }
  if (!report) {
    out(`No engine variant could be loaded: ${(loadError as Error | null)?.message ?? 'unknown error'}\n`);
    return DOCTOR_EXIT_FAILURE;
  }

  let plan: Awaited<ReturnType<typeof autoModelSettings>> | null = null;
  let planError: string | null = null;
  if (options.model && report.selected) {
    try {
      plan = await autoModelSettings(options.model);
    } catch (err) {
      planError = err instanceof WestfallError || err instanceof Error ? err.message : String(err);
    }
  }

  if (options.json) {
    out(`${toJson(report, plan ?? (planError ? { error: planError } : null))}\n`);
    return report.selected ? DOCTOR_EXIT_OK : DOCTOR_EXIT_FAILURE;
  }

  const lines: string[] = ['Westfall doctor', ''];
  const info = report.systemInfo;
  lines.push(`${pad('Variant in use', 18)}${report.selected ? describeSource(report) : `none (${(loadError as Error | null)?.message ?? 'nothing loaded'})`}`);
  lines.push(
    `${pad('Requested', 18)}${report.requested} (${report.requestSource === 'env' ? 'WESTFALL_BACKEND' : report.requestSource === 'option' ? 'setting' : 'default'}; WESTFALL_BACKEND=auto|cuda|vulkan|metal|cpu)`,
  );
  if (info) lines.push(`${pad('llama.cpp', 18)}${info.llamaCppVersion}, GPU offload ${info.gpuOffload ? 'available' : 'not available'}, selected in ${report.durationMs} ms`);
  const h = report.host;
  lines.push(`${pad('Machine', 18)}${h.platform}-${h.arch}, ${h.cpuModel}`);
  if (info?.cpuFeatures) {
    const feats = info.cpuFeatures
      .split('|')
      .map((f) => f.trim())
      .filter((f) => /=\s*1$/.test(f))
      .map((f) => f.replace(/^CPU\s*:\s*/, '').replace(/\s*=\s*1$/, ''));
    lines.push(`${pad('CPU features used', 18)}${feats.join(' ') || 'baseline'}`);
  }
  lines.push(
    `${pad('GPU drivers', 18)}NVIDIA ${h.nvidiaDriver ?? 'none'}; Vulkan loader ${h.vulkanLoader ?? 'none'}${h.vulkanDriverOverride ? ` (drivers from ${h.vulkanDriverOverride})` : ''}${h.platform === 'linux' ? `; device nodes ${h.gpuDeviceNodes.join(' ') || 'none'}` : ''}`,
  );
  lines.push('', 'Devices (of the variant in use)');
  lines.push(...(info ? deviceLines(info.devices) : ['  (unknown)']));
  lines.push('', 'Variants (in the order tried)');
  for (const a of report.attempts) lines.push(...attemptLines(a));
  if (options.model) {
    lines.push('', `Model plan for ${options.model}`);
    if (planError) lines.push(`  could not plan: ${planError}`);
    if (plan) {
      const g = plan.geometry;
      lines.push(`  ${g.architecture}, ${g.nLayer} layers, n_embd ${g.nEmbd}, ${g.nHead} heads / ${Math.max(...g.nHeadKv)} KV heads, trained for ${g.trainContext} tokens`);
      lines.push(`  gpuLayers ${plan.gpuLayers} (of ${g.nLayer + 1} with the output layer), contextSize ${plan.contextSize}: ${plan.reason}`);
      lines.push(`  KV cache ${fmt(plan.kvBytesPerToken)} per token (f16)`);
      const u = (name: string, x: { weights: number; kvCache: number; compute: number; total: number; budget: number }) =>
        `  ${pad(name, 8)}weights ${fmt(x.weights)}, KV cache ${fmt(x.kvCache)}, compute ${fmt(x.compute)} = ${fmt(x.total)} of ${fmt(x.budget)} usable`;
      if (plan.device) lines.push(u('GPU', plan.device));
      lines.push(u('host', plan.host));
    }
  }
  out(`${lines.join('\n')}\n`);
  return report.selected ? DOCTOR_EXIT_OK : DOCTOR_EXIT_FAILURE;
}
