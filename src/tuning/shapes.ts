// Synthetic model shapes for tuning before anything is downloaded: random weights with the geometry (and so
// the speed and memory) of real models, written by src/gguf's generator into the models cache.
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { WestfallError } from '../errors.js';
import {
  BENCH_SPEC,
  GgmlType,
  SYNTHETIC_FILES,
  defaultSources,
  expectedParameterCount,
  isSyntheticModelCurrent,
  writeSyntheticModel,
  type SyntheticModelSpec,
  type SyntheticSources,
} from '../gguf/index.js';

export interface SyntheticShape {
  spec: SyntheticModelSpec;
  /** File name in the models cache. */
  file: string;
  description: string;
}

/** Qwen2.5-1.5B-Instruct's geometry (tied embeddings, as the real model). */
export const QWEN2_1_5B_SPEC: SyntheticModelSpec = {
  kind: 'qwen2-1.5b',
  name: 'Westfall Synthetic Qwen2.5-1.5B-shaped',
  nEmbd: 1536,
  nLayer: 28,
  nHead: 12,
  nHeadKv: 2,
  nFf: 8960,
  contextLength: 32768,
  ropeFreqBase: 1_000_000,
  rmsEps: 1e-6,
  matrixType: GgmlType.Q4_0,
  seed: 3,
};

/** Qwen2.5-3B-Instruct's geometry (tied embeddings, as the real model). */
export const QWEN2_3B_SPEC: SyntheticModelSpec = {
  kind: 'qwen2-3b',
  name: 'Westfall Synthetic Qwen2.5-3B-shaped',
  nEmbd: 2048,
  nLayer: 36,
  nHead: 16,
  nHeadKv: 2,
  nFf: 11008,
  contextLength: 32768,
  ropeFreqBase: 1_000_000,
  rmsEps: 1e-6,
  matrixType: GgmlType.Q4_0,
  seed: 4,
};

export const SYNTHETIC_SHAPES = {
  // The same file as `npm run bench:engine` uses, so the two never generate it twice.
  'qwen2-0.5b': { spec: BENCH_SPEC, file: SYNTHETIC_FILES.bench, description: 'Qwen2.5-0.5B shape, Q4_0, ~270 MB' },
  'qwen2-1.5b': { spec: QWEN2_1_5B_SPEC, file: 'synthetic-qwen2-1.5b-q4_0.gguf', description: 'Qwen2.5-1.5B shape, Q4_0, ~870 MB' },
  'qwen2-3b': { spec: QWEN2_3B_SPEC, file: 'synthetic-qwen2-3b-q4_0.gguf', description: 'Qwen2.5-3B shape, Q4_0, ~1.7 GB' },
} as const satisfies Record<string, SyntheticShape>;

export type SyntheticShapeName = keyof typeof SYNTHETIC_SHAPES;
export const SYNTHETIC_SHAPE_NAMES = Object.keys(SYNTHETIC_SHAPES) as SyntheticShapeName[];

export function isSyntheticShapeName(name: string): name is SyntheticShapeName {
  return Object.hasOwn(SYNTHETIC_SHAPES, name);
}

export interface EnsureShapeOptions {
  /** Folder of the models cache; the file goes directly into it. */
  modelsDir: string;
  /** Overrides the file name (required for a custom spec). */
  fileName?: string;
  force?: boolean;
  /** The tokenizer and chat template sources (default: the vendored llama.cpp's qwen2 vocabulary). */
  sources?: SyntheticSources;
  log?: (line: string) => void;
}

export interface EnsureShapeResult {
  path: string;
  created: boolean;
  spec: SyntheticModelSpec;
  fileSizeBytes: number;
  seconds: number;
}

/**
 * Generates the model of a named shape (or of any spec) into the models cache unless an identical one
 * (same generator version and spec) is already there. Writes to a temporary name and renames, so an
 * interrupted run never leaves a file that looks complete.
 */
export async function ensureSyntheticShape(shape: SyntheticShapeName | SyntheticModelSpec, opts: EnsureShapeOptions): Promise<EnsureShapeResult> {
  const known = typeof shape === 'string' ? SYNTHETIC_SHAPES[shape] : undefined;
  if (typeof shape === 'string' && !known) {
    throw new WestfallError('invalid_params', `unknown synthetic shape '${shape}'; known: ${SYNTHETIC_SHAPE_NAMES.join(', ')}`);
  }
  const spec = known ? known.spec : (shape as SyntheticModelSpec);
  const fileName = opts.fileName ?? known?.file ?? `synthetic-${spec.kind.replace(/[^a-zA-Z0-9._-]+/g, '-')}.gguf`;
  const file = path.join(opts.modelsDir, fileName);
  const started = performance.now();
  if (!opts.force && (await isSyntheticModelCurrent(file, spec))) {
    return { path: file, created: false, spec, fileSizeBytes: (await stat(file)).size, seconds: 0 };
  }
  const sources = opts.sources ?? defaultSources();
  for (const src of [sources.vocabPath, sources.chatTemplatePath]) {
    if (!(await stat(src).then((s) => s.isFile(), () => false))) {
      throw new WestfallError('model_not_found', `the synthetic generator needs ${src} (run \`node scripts/vendor-llama.mjs\` to materialize llama.cpp)`, {
        details: { path: src },
      });
    }
  }
  await mkdir(opts.modelsDir, { recursive: true });
  const params = expectedParameterCount(spec, 151_936);
  opts.log?.(`generating ${spec.name} (${(params / 1e9).toFixed(2)}B parameters) into ${file} ...`);
  const tmp = `${file}.partial-${process.pid}`;
  try {
    const r = await writeSyntheticModel(spec, tmp, { sources });
    await rename(tmp, file);
    const seconds = (performance.now() - started) / 1000;
    opts.log?.(`generated ${file} (${(r.fileSize / 2 ** 20).toFixed(0)} MiB) in ${seconds.toFixed(1)} s`);
    return { path: file, created: true, spec, fileSizeBytes: r.fileSize, seconds };
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
