// Which workers (`westfall worker` on other machines) models are split over: `<stateDir>/workers.json`.
//   { "enabled": true, "workers": ["192.168.1.20:50052"], "split": null }
// `split`: weights, this machine first, then each worker in order; null: by each one's free memory.
import path from 'node:path';
import { z } from 'zod';
import { formatEndpoint, parseEndpoint } from '../../engine/rpc.js';
import { WestfallError } from '../../errors.js';
import type { Logger } from '../../logging/index.js';
import { readStateFile, writeStateFile } from '../state-file.js';

export const WORKERS_FILE = 'workers.json';

const endpoint = z
  .string()
  .min(1)
  .max(300)
  .transform((s, ctx) => {
    try {
      return formatEndpoint(parseEndpoint(s));
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

export const workerSettingsSchema = z
  .object({
    enabled: z.boolean().default(false),
    workers: z.array(endpoint).max(16).default([]),
    split: z.array(z.number().min(0).max(1e6)).max(17).nullable().default(null),
  })
  .superRefine((v, ctx) => {
    if (new Set(v.workers).size !== v.workers.length) ctx.addIssue({ code: 'custom', path: ['workers'], message: 'each worker once' });
    if (v.split && v.split.length !== v.workers.length + 1) {
      ctx.addIssue({ code: 'custom', path: ['split'], message: `needs ${v.workers.length + 1} weights: this machine first, then each worker` });
    }
    if (v.split && !v.split.some((x) => x > 0)) ctx.addIssue({ code: 'custom', path: ['split'], message: 'not all weights may be 0' });
  });
export type WorkerSettingsData = z.output<typeof workerSettingsSchema>;

export class WorkerSettings {
  #data: WorkerSettingsData;

  private constructor(
    readonly file: string | null,
    data: WorkerSettingsData,
  ) {
    this.#data = data;
  }

  /** A missing file is no workers; a damaged one is reported and treated as none (nothing is split by surprise). */
  static open(stateDir: string, log?: Logger): WorkerSettings {
    const file = path.join(stateDir, WORKERS_FILE);
    return new WorkerSettings(file, readStateFile(file, workerSettingsSchema, 'workers', log));
  }

  static inMemory(data: Partial<z.input<typeof workerSettingsSchema>> = {}): WorkerSettings {
    return new WorkerSettings(null, workerSettingsSchema.parse(data));
  }

  get(): WorkerSettingsData {
    return { ...this.#data, workers: [...this.#data.workers], split: this.#data.split ? [...this.#data.split] : null };
  }

  /** Validates the whole result (a split must match the worker list), then saves it atomically. */
  update(patch: Partial<z.input<typeof workerSettingsSchema>>): WorkerSettingsData {
    const next = { ...this.#data, ...patch };
    // A changed worker list drops a split made for the old one, unless the patch brings its own.
    if (patch.workers && patch.split === undefined && next.split && next.split.length !== next.workers.length + 1) next.split = null;
    const parsed = workerSettingsSchema.safeParse(next);
    if (!parsed.success) {
      // An address's own message names it; other problems say which setting.
      const say = (i: z.core.$ZodIssue) => (i.path[0] === 'workers' && i.path.length > 1 ? i.message : `${i.path.join('.') || 'workers'}: ${i.message}`);
      throw new WestfallError('invalid_request', parsed.error.issues.map(say).join('; '), {
        details: { fields: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })) },
      });
    }
    this.#data = parsed.data;
    if (this.file) writeStateFile(this.file, this.#data);
    return this.get();
  }
}
