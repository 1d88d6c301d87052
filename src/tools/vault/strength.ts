// Strength of a password: zxcvbn-ts's estimate (dictionaries, keyboard patterns, dates, l33t) with the
// English and common dictionaries, plus a character-pool entropy for comparison. Nothing here keeps or
// logs the password.
import { createRequire } from 'node:module';
import type * as Core from '@zxcvbn-ts/core';
import type * as Common from '@zxcvbn-ts/language-common';
import type * as En from '@zxcvbn-ts/language-en';
import type { StrengthReport } from './types.js';

export type { StrengthReport } from './types.js';

// The dictionaries are 275k strings (~20 MB) on the JavaScript heap, and every full garbage collection
// walks them: a server that never checks a password paid for them in each GC pause while streaming.
// They load on the first check instead (the packages are CommonJS, so a synchronous require works).
const require = createRequire(import.meta.url);

const LABELS = ['very weak', 'weak', 'fair', 'strong', 'very strong'] as const;

let factory: Core.ZxcvbnFactory | null = null;

function zxcvbn(): Core.ZxcvbnFactory {
  if (factory) return factory;
  const { ZxcvbnFactory } = require('@zxcvbn-ts/core') as typeof Core;
  const common = require('@zxcvbn-ts/language-common') as typeof Common;
  const en = require('@zxcvbn-ts/language-en') as typeof En;
  factory = new ZxcvbnFactory({
    translations: en.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...en.dictionary },
  });
  return factory;
}

/** log2(poolSize^length) where the pool is the union of the classes present in the password. */
export function characterEntropyBits(password: string): number {
  const chars = [...password];
  let pool = 0;
  if (chars.some((c) => /[a-z]/.test(c))) pool += 26;
  if (chars.some((c) => /[A-Z]/.test(c))) pool += 26;
  if (chars.some((c) => /[0-9]/.test(c))) pool += 10;
  if (chars.some((c) => /[^A-Za-z0-9]/.test(c) && c.charCodeAt(0) < 128)) pool += 33;
  if (chars.some((c) => c.charCodeAt(0) >= 128)) pool += 100;
  return pool === 0 ? 0 : Math.round(chars.length * Math.log2(pool) * 10) / 10;
}

export function checkStrength(password: string, userInputs: string[] = []): StrengthReport {
  const r = zxcvbn().check(password.slice(0, 256), userInputs);
  return {
    score: r.score as StrengthReport['score'],
    label: LABELS[r.score]!,
    guessesLog10: Math.round(r.guessesLog10 * 100) / 100,
    entropyBits: characterEntropyBits(password),
    crackTime: {
      onlineThrottled: r.crackTimes.onlineThrottlingXPerHour.display,
      offlineSlowHash: r.crackTimes.offlineSlowHashingXPerSecond.display,
      offlineFastHash: r.crackTimes.offlineFastHashingXPerSecond.display,
    },
    warning: r.feedback.warning,
    suggestions: r.feedback.suggestions,
  };
}
