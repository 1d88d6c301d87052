// Strength of a password: zxcvbn-ts's estimate (dictionaries, keyboard patterns, dates, l33t) with the
// English and common dictionaries, plus a character-pool entropy for comparison. Nothing here keeps or
// logs the password.
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as en from '@zxcvbn-ts/language-en';

export interface StrengthReport {
  /** 0 (too guessable) .. 4 (very unguessable). */
  score: 0 | 1 | 2 | 3 | 4;
  label: 'very weak' | 'weak' | 'fair' | 'strong' | 'very strong';
  /** log10 of the guesses an attacker needs (zxcvbn). */
  guessesLog10: number;
  /** Bits of a brute-force search over the character classes used (an upper bound). */
  entropyBits: number;
  crackTime: { onlineThrottled: string; offlineSlowHash: string; offlineFastHash: string };
  warning: string | null;
  suggestions: string[];
}

const LABELS = ['very weak', 'weak', 'fair', 'strong', 'very strong'] as const;

let factory: ZxcvbnFactory | null = null;

function zxcvbn(): ZxcvbnFactory {
  factory ??= new ZxcvbnFactory({
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
