// Password and passphrase generation with crypto.randomInt (uniform, no modulo bias). Passwords draw from
// the chosen character classes (optionally without look-alikes such as l, 1, I, O, 0) and contain at
// least one character of each class; passphrases draw words from the EFF large word list (7776 words,
// shipped in @zxcvbn-ts/language-common as 'diceware-common').
import { randomInt } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as Common from '@zxcvbn-ts/language-common';
import { z } from 'zod';
import { ToolError } from '../errors.js';

export const CHARACTER_CLASSES = {
  lowercase: 'abcdefghijklmnopqrstuvwxyz',
  uppercase: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  symbols: '!#$%&()*+,-./:;<=>?@[]^_{|}~',
} as const;

/** Characters easily mistaken for one another. */
export const AMBIGUOUS = new Set('Il1|O0oB8S5Z2G6`\'"{}[]()/\\,;:.'.split(''));

export const passwordOptionsSchema = z
  .object({
    length: z.number().int().min(4).max(256).default(20),
    lowercase: z.boolean().default(true),
    uppercase: z.boolean().default(true),
    digits: z.boolean().default(true),
    symbols: z.boolean().default(true),
    excludeAmbiguous: z.boolean().default(false),
  })
  .strict()
  .refine((o) => o.lowercase || o.uppercase || o.digits || o.symbols, { message: 'choose at least one character class', path: ['lowercase'] });
export type PasswordOptions = z.input<typeof passwordOptionsSchema>;

export const passphraseOptionsSchema = z
  .object({
    words: z.number().int().min(3).max(20).default(6),
    separator: z.string().max(3).default('-'),
    capitalize: z.boolean().default(false),
    /** Append a random digit to one random word. */
    includeNumber: z.boolean().default(false),
  })
  .strict();
export type PassphraseOptions = z.input<typeof passphraseOptionsSchema>;

export interface Generated {
  password: string;
  /** Bits of entropy of the generator (log2 of the number of equally likely outputs). */
  entropyBits: number;
}

let words: readonly string[] | null = null;

/** The EFF word list; the package holds all common dictionaries (~20 MB of heap), so it loads on first use. */
export function wordList(): readonly string[] {
  words ??= Object.freeze([...new Set((createRequire(import.meta.url)('@zxcvbn-ts/language-common') as typeof Common).dictionary['diceware-common'])]);
  return words;
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const fields = r.error.issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  throw new ToolError('invalid_params', `invalid generator options: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`, { details: { fields } });
}

export function characterPools(o: z.output<typeof passwordOptionsSchema>): string[] {
  const pools: string[] = [];
  for (const k of ['lowercase', 'uppercase', 'digits', 'symbols'] as const) {
    if (!o[k]) continue;
    const chars = [...CHARACTER_CLASSES[k]].filter((c) => !o.excludeAmbiguous || !AMBIGUOUS.has(c)).join('');
    if (chars.length > 0) pools.push(chars);
  }
  return pools;
}

/** log2 of the number of length-n strings over `alphabet` that contain one of every pool (inclusion–exclusion). */
export function passwordEntropyBits(pools: readonly string[], length: number): number {
  const k = pools.length;
  let count = 0n;
  for (let mask = 0; mask < 1 << k; mask++) {
    let size = 0;
    let bits = 0;
    for (let i = 0; i < k; i++) {
      if (mask & (1 << i)) {
        bits++;
      } else size += pools[i]!.length;
    }
    // Strings avoiding the masked pools, signed by how many pools are excluded.
    const term = BigInt(size) ** BigInt(length);
    count += bits % 2 === 0 ? term : -term;
  }
  if (count <= 0n) return 0;
  // log2 of a BigInt: bit length minus a fraction from the top 52 bits.
  const s = count.toString(2);
  const top = Number.parseInt(s.slice(0, 53), 2);
  return Math.round((Math.log2(top) + (s.length - Math.min(53, s.length))) * 10) / 10;
}

export function generatePassword(options: PasswordOptions = {}): Generated {
  const o = parse(passwordOptionsSchema, options);
  const pools = characterPools(o);
  if (o.length < pools.length) throw new ToolError('invalid_params', `length must be at least ${pools.length} to hold every chosen class`);
  const alphabet = pools.join('');
  // Rejection sampling: draw until every class is present (for sane lengths this takes one or two tries).
  for (;;) {
    const chars = Array.from({ length: o.length }, () => alphabet[randomInt(alphabet.length)]!);
    if (pools.every((p) => chars.some((c) => p.includes(c)))) {
      return { password: chars.join(''), entropyBits: passwordEntropyBits(pools, o.length) };
    }
  }
}

export function generatePassphrase(options: PassphraseOptions = {}): Generated {
  const o = parse(passphraseOptionsSchema, options);
  const list = wordList();
  const chosen = Array.from({ length: o.words }, () => list[randomInt(list.length)]!);
  const out = o.capitalize ? chosen.map((w) => w[0]!.toUpperCase() + w.slice(1)) : chosen;
  let bits = o.words * Math.log2(list.length);
  if (o.includeNumber) {
    const i = randomInt(out.length);
    out[i] = `${out[i]}${randomInt(10)}`;
    bits += Math.log2(10 * o.words);
  }
  return { password: out.join(o.separator), entropyBits: Math.round(bits * 10) / 10 };
}
