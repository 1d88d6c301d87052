// Which catalog models fit this computer, and the one to recommend.
//
// The budget is judged against the machine's total memory, not what is free this second: the
// recommendation should not change because a browser happens to be open. The operating system and the
// user's other programs keep max(2 GiB, 35 %) of RAM; a GPU keeps the engine's device margin
// (max(512 MiB, 10 %)). A model fits when its memory at an 8k context (catalog `memoryBytes`) is within
// the larger of the two budgets: either it runs on the GPU, or on the CPU from RAM. Apple silicon reports
// its unified memory's GPU share as the device, so it lands in the same rule.
//
// The recommendation is the most capable entry that fits: first the ones that both think and call tools
// (what the assistant's agent does best with), then the most parameters, then the smaller memory, then
// catalog order. When nothing fits, the smallest model is still recommended (fits: false), so a small
// machine is offered something that may run slowly rather than nothing.

import os from 'node:os';
import { defaultDeviceMargin, gpuMemory } from '../engine/memory.js';
import { native, selectedVariant } from '../engine/native.js';
import type { CatalogEntry } from './catalog.js';

const GiB = 2 ** 30;

export interface MachineMemory {
  /** Installed RAM in bytes. */
  totalBytes: number;
  /** Memory of the GPUs of the engine's build variant; null or absent without one. */
  gpuBytes?: number | null;
}

/** Bytes of RAM a model may use: what the OS and other programs keep is left out. */
export function hostModelBudget(totalBytes: number): number {
  return Math.max(0, totalBytes - Math.max(2 * GiB, Math.round(0.35 * totalBytes)));
}

/** Bytes a model may use on this machine (the larger of the RAM and the GPU budget). */
export function modelBudget(m: MachineMemory): number {
  const host = hostModelBudget(m.totalBytes);
  const gpu = m.gpuBytes ? Math.max(0, m.gpuBytes - defaultDeviceMargin(m.gpuBytes)) : 0;
  return Math.max(host, gpu);
}

export interface CatalogFit {
  budgetBytes: number;
  /** Catalog id → whether it fits the budget. */
  fits: ReadonlyMap<string, boolean>;
  /** The id to recommend; null only for an empty catalog. */
  recommended: string | null;
}

export function fitCatalog(catalog: readonly CatalogEntry[], machine: MachineMemory): CatalogFit {
  const budgetBytes = modelBudget(machine);
  const fits = new Map(catalog.map((e) => [e.id, e.memoryBytes <= budgetBytes]));
  const order = new Map(catalog.map((e, i) => [e.id, i]));
  const agentic = (e: CatalogEntry) => (e.thinks && e.toolCalls ? 1 : 0);
  const candidates = catalog.filter((e) => fits.get(e.id));
  let best: CatalogEntry | undefined;
  if (candidates.length > 0) {
    best = [...candidates].sort(
      (a, b) =>
        agentic(b) - agentic(a) ||
        b.parameterCount - a.parameterCount ||
        a.memoryBytes - b.memoryBytes ||
        order.get(a.id)! - order.get(b.id)!,
    )[0];
  } else {
    best = [...catalog].sort((a, b) => a.memoryBytes - b.memoryBytes || order.get(a.id)! - order.get(b.id)!)[0];
  }
  return { budgetBytes, fits, recommended: best?.id ?? null };
}

/**
 * This machine's memory: installed RAM and, when the engine's addon is already loaded, its GPUs. Never loads
 * the addon itself: choosing a build variant probes GPUs in child processes, too much for a catalog listing.
 */
export function detectMachineMemory(): MachineMemory {
  let gpuBytes: number | null = null;
  if (selectedVariant() !== null) {
    try {
      gpuBytes = gpuMemory(native().systemInfo().devices)?.total ?? null;
    } catch {
      gpuBytes = null;
    }
  }
  return { totalBytes: os.totalmem(), gpuBytes };
}
