// A chat's next prompt holds the previous reply as text, and that text does not always tokenize back into
// the tokens the model generated (a random or unusual reply often does not: "he"+"llo" comes back as
// "hello"). Prefix reuse stops at the first differing token, so such a turn evaluated its whole previous
// reply again: on a 20-turn chat with the synthetic model, 6 turns in 20 evaluated ~145 tokens instead of
// ~80. Here the prompt takes the held tokens instead wherever both spell the same bytes, and keeps its own
// tokens from the first point where both runs end together after that. The text the model reads is
// unchanged, and it reads its own reply as it generated it.

/** Each token's own bytes, concatenated, and where each ends (Model.tokenBytes). */
export type TokenBytes = (tokens: Int32Array) => { bytes: Uint8Array; ends: Uint32Array };

export function commonPrefix(a: Int32Array, b: Int32Array): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/**
 * `prompt` rewritten to start with more of `held` (what a sequence or a saved state holds), when the two
 * spell the same bytes past their first differing token: `reused` is how many leading tokens now match
 * `held`. Null when it gains nothing.
 */
export function spliceHeld(prompt: Int32Array, held: Int32Array, bytesOf: TokenBytes): { tokens: Int32Array; reused: number } | null {
  const k = commonPrefix(held, prompt);
  if (k >= held.length || k >= prompt.length) return null;
  const h = bytesOf(held.subarray(k));
  const p = bytesOf(prompt.subarray(k));
  const n = Math.min(h.bytes.length, p.bytes.length);
  let same = 0;
  while (same < n && h.bytes[same] === p.bytes[same]) same++;
  // The last point within the common bytes where a held token and a prompt token end together.
  let a = 0;
  let b = 0;
  let cut: [number, number] | null = null;
  while (a < h.ends.length && b < p.ends.length) {
    const ea = h.ends[a]!;
    const eb = p.ends[b]!;
    if (ea > same || eb > same) break;
    if (ea === eb) {
      cut = [a, b];
      a++;
      b++;
    } else if (ea < eb) a++;
    else b++;
  }
  if (!cut) return null;
  const m = k + cut[0] + 1;
  const j = k + cut[1] + 1;
  const tokens = new Int32Array(m + prompt.length - j);
  tokens.set(held.subarray(0, m));
  tokens.set(prompt.subarray(j), m);
  return { tokens, reused: m };
}
