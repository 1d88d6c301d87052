// The model the backend probe evaluates (src/engine/variants.ts): a qwen2 model from src/gguf's synthetic
// generator, two layers of 64, with no tokenizer at all (tokenizer.ggml.model = "none" and 256 dummy
// tokens), so it needs no vocabulary file from the llama.cpp tree and is ~30 KB. It is written
// synchronously because the first native() call, which may probe, is synchronous.
import { mkdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { alignUp } from '../gguf/reader.js';
import { Rng, constantF32, randomTensorChunks, type RandomTensorType } from '../gguf/quantize.js';
import { planSyntheticTensors, type SyntheticModelSpec } from '../gguf/synthetic.js';
import { GgmlType } from '../gguf/types.js';
import { GgufWriter } from '../gguf/writer.js';

export const PROBE_MODEL_VERSION = 1;
export const PROBE_VOCAB_SIZE = 256;

export const PROBE_SPEC: SyntheticModelSpec = {
  kind: 'probe',
  name: 'Westfall backend probe (synthetic)',
  nEmbd: 64,
  nLayer: 2,
  nHead: 4,
  nHeadKv: 2,
  nFf: 128,
  contextLength: 512,
  ropeFreqBase: 1_000_000,
  rmsEps: 1e-6,
  matrixType: GgmlType.Q4_0,
  seed: 7,
};

/** The GGUF bytes of the probe model. */
export function probeModelBytes(spec: SyntheticModelSpec = PROBE_SPEC, nVocab = PROBE_VOCAB_SIZE): Buffer {
  const arch = 'qwen2';
  const w = new GgufWriter()
    .setString('general.architecture', arch)
    .setString('general.name', spec.name)
    .setUint32(`${arch}.context_length`, spec.contextLength)
    .setUint32(`${arch}.embedding_length`, spec.nEmbd)
    .setUint32(`${arch}.block_count`, spec.nLayer)
    .setUint32(`${arch}.feed_forward_length`, spec.nFf)
    .setUint32(`${arch}.attention.head_count`, spec.nHead)
    .setUint32(`${arch}.attention.head_count_kv`, spec.nHeadKv)
    .setFloat32(`${arch}.rope.freq_base`, spec.ropeFreqBase)
    .setFloat32(`${arch}.attention.layer_norm_rms_epsilon`, spec.rmsEps)
    .setUint32(`${arch}.vocab_size`, nVocab)
    .setString('tokenizer.ggml.model', 'none');
  const datas: Uint8Array[] = [];
  for (const t of planSyntheticTensors(spec, nVocab)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    let data: Uint8Array;
    if (t.init.kind === 'const') {
      data = constantF32(n, t.init.value);
    } else {
      const chunks = [...randomTensorChunks(Rng.derive(spec.seed, t.name), t.type as RandomTensorType, n, t.init.std)].map((c) => Buffer.from(c));
      data = Buffer.concat(chunks);
    }
    w.addTensor({ name: t.name, shape: t.shape, type: t.type, data });
    datas.push(data);
  }
  const header = w.encodeHeader();
  const parts: Buffer[] = [header, Buffer.alloc(alignUp(header.length, w.alignment) - header.length)];
  // GgufWriter.addTensor gives each tensor the next aligned offset, so appending the tensors in order,
  // each padded to the alignment, reproduces the offsets written in the header (as GgufWriter.write does).
  for (const d of datas) {
    parts.push(Buffer.from(d.buffer, d.byteOffset, d.byteLength));
    const pad = alignUp(d.byteLength, w.alignment) - d.byteLength;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  return Buffer.concat(parts);
}

/** Writes the probe model once per version into `dir` (default: the OS temp folder) and returns its path. */
export function ensureProbeModelSync(dir = path.join(tmpdir(), 'westfall-probe')): string {
  const file = path.join(dir, `probe-qwen2-v${PROBE_MODEL_VERSION}.gguf`);
  const bytes = probeModelBytes();
  try {
    if (statSync(file).size === bytes.length) return file;
  } catch {
    // missing: write it
  }
  mkdirSync(dir, { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, file);
  return file;
}
