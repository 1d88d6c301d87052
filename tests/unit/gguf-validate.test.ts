// Metadata that llama.cpp aborts on (GGML_ASSERT) instead of reporting is refused by our reader with
// invalid_model. Each case is a minimal synthetic GGUF with the defect a fuzzed mutation of the tiny model
// had (scripts/fuzz-gguf.ts), or one of the neighbouring asserts of the same function.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WestfallError } from '../../src/errors.js';
import { GgufValueType, GgufWriter, readGgufHeader } from '../../src/gguf/index.js';
import { cString } from '../../src/gguf/validate.js';

const dir = mkdtempSync(join(tmpdir(), 'westfall-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
async function fileWith(build: (w: GgufWriter) => void): Promise<string> {
  const w = new GgufWriter();
  w.setString('general.architecture', 'qwen2');
  w.setArray('tokenizer.ggml.tokens', GgufValueType.STRING, ['a', 'b', 'ab', 'abc']);
  w.setUint32('qwen2.block_count', 2);
  w.setFloat32('qwen2.attention.layer_norm_rms_epsilon', 1e-6);
  build(w);
  const path = join(dir, `case-${n++}.gguf`);
  await w.write(path);
  return path;
}

async function rejection(path: string): Promise<WestfallError> {
  const err = await readGgufHeader(path).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WestfallError);
  expect((err as WestfallError).code).toBe('invalid_model');
  return err as WestfallError;
}

describe('GGUF metadata that would abort llama.cpp', () => {
  it('accepts the baseline file', async () => {
    const h = await readGgufHeader(await fileWith(() => {}));
    expect(h.metadata.get('qwen2.block_count')?.value).toBe(2);
  });

  it('reads strings as llama.cpp does: a NUL ends them', () => {
    expect(cString('yarn\0x')).toBe('yarn');
    expect(cString('abc')).toBe('abc');
    expect(cString('\0')).toBe('');
  });

  // Fuzz finding (6 of 300 mutations, seed 1): a token byte set to 0 cuts the token short, so it equals
  // another one and llama-vocab.cpp's GGML_ASSERT(id_to_token.size() == token_to_id.size()) aborts.
  it('refuses a token that duplicates another once a NUL byte cuts it', async () => {
    const path = await fileWith((w) => w.setArray('tokenizer.ggml.tokens', GgufValueType.STRING, ['a', 'b', 'ab', 'ab\0']));
    expect((await rejection(path)).message).toMatch(/tokenizer\.ggml\.tokens\[3\] "ab" duplicates token 2 \(a NUL byte ends a token for llama\.cpp\)/);
  });

  it('refuses plain duplicate tokens and an empty token that collides with its placeholder', async () => {
    expect((await rejection(await fileWith((w) => w.setArray('tokenizer.ggml.tokens', GgufValueType.STRING, ['a', 'b', 'a'])))).message).toMatch(
      /tokens\[2\] "a" duplicates token 0/,
    );
    const placeholder = await fileWith((w) => w.setArray('tokenizer.ggml.tokens', GgufValueType.STRING, ['[EMPTY_1]', '\0x']));
    expect((await rejection(placeholder)).message).toMatch(/tokens\[1\] "\[EMPTY_1\]" duplicates token 0/);
    // Empty tokens are otherwise fine: llama.cpp names each after its id.
    await expect(readGgufHeader(await fileWith((w) => w.setArray('tokenizer.ggml.tokens', GgufValueType.STRING, ['', 'a', '\0'])))).resolves.toBeTruthy();
  });

  // Fuzz finding (metadata sweep): the rms epsilon's top byte set to 0xFF makes it NaN, and ggml's
  // rms_norm asserts eps >= 0 at the first decode.
  it.each([NaN, -1e-6, Infinity])('refuses a normalization epsilon of %s', async (eps) => {
    const path = await fileWith((w) => w.setFloat32('qwen2.attention.layer_norm_rms_epsilon', eps));
    expect((await rejection(path)).message).toMatch(/qwen2\.attention\.layer_norm_rms_epsilon is .*finite number of at least 0/);
  });

  it('refuses a layer norm or group norm epsilon below 0', async () => {
    await rejection(await fileWith((w) => w.setFloat32('qwen2.attention.layer_norm_epsilon', -1)));
    await rejection(await fileWith((w) => w.setFloat32('qwen2.attention.group_norm_epsilon', -1)));
  });

  // Fuzz finding (metadata sweep): block_count set to 0, or above 512 (0xFF in a higher byte), trips
  // load_hparams' GGML_ASSERT(n_layer_all > 0 && n_layer_all <= LLAMA_MAX_LAYERS).
  it.each([0, 513, 65282])('refuses block_count %d', async (count) => {
    const path = await fileWith((w) => w.setUint32('qwen2.block_count', count));
    expect((await rejection(path)).message).toMatch(new RegExp(`qwen2\\.block_count is ${count}; llama\\.cpp supports 1 to 512 layers`));
  });

  it('refuses more next-token-prediction layers than layers', async () => {
    const path = await fileWith((w) => w.setUint32('qwen2.nextn_predict_layers', 3));
    expect((await rejection(path)).message).toMatch(/nextn_predict_layers 3 is more than qwen2\.block_count 2/);
  });

  it.each([
    ['more used than exist', { expert_count: 4, expert_used_count: 5 }, /more experts used than exist/],
    ['experts but none used', { expert_count: 4, expert_used_count: 0 }, /experts but none used/],
    ['too many experts', { expert_count: 2048, expert_used_count: 2 }, /more than 1024 experts/],
    ['used without experts', { expert_used_count: 2 }, /more experts used than exist/],
    ['as many groups as experts', { expert_count: 4, expert_used_count: 2, expert_group_count: 4 }, /as many expert groups as experts/],
    ['indivisible groups', { expert_count: 9, expert_used_count: 2, expert_group_count: 2, expert_group_used_count: 1 }, /not divisible/],
    ['no group used', { expert_count: 8, expert_used_count: 2, expert_group_count: 2, expert_group_used_count: 0 }, /groups used must be/],
    ['groups without experts', { expert_group_count: 2 }, /expert groups without experts/],
  ] as const)('refuses inconsistent expert counts: %s', async (_what, values, message) => {
    const path = await fileWith((w) => {
      for (const [k, v] of Object.entries(values)) w.setUint32(`qwen2.${k}`, v);
    });
    expect((await rejection(path)).message).toMatch(message);
  });

  it('accepts consistent experts, also given per layer', async () => {
    const path = await fileWith((w) => {
      w.setUint32('qwen2.expert_count', 8);
      w.setArray('qwen2.expert_used_count', GgufValueType.UINT32, [2, 0]);
      w.setUint32('qwen2.expert_group_count', 2);
      w.setUint32('qwen2.expert_group_used_count', 1);
    });
    await expect(readGgufHeader(path)).resolves.toBeTruthy();
    const perLayer = await fileWith((w) => {
      w.setUint32('qwen2.expert_count', 4);
      w.setArray('qwen2.expert_used_count', GgufValueType.UINT32, [2, 6]);
    });
    expect((await rejection(perLayer)).message).toMatch(/more experts used than exist/);
  });

  it('refuses an unknown rope scaling type, also one a NUL byte cuts short', async () => {
    expect((await rejection(await fileWith((w) => w.setString('qwen2.rope.scaling.type', 'warp')))).message).toMatch(
      /rope\.scaling\.type "warp" is not one of none, linear, yarn, longrope/,
    );
    await rejection(await fileWith((w) => w.setString('qwen2.rope.scaling.type', 'ya\0n')));
    await expect(readGgufHeader(await fileWith((w) => w.setString('qwen2.rope.scaling.type', 'yarn')))).resolves.toBeTruthy();
  });
});
