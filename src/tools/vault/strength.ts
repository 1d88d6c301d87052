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

/** zxcvbn score a master password needs: 3 ("safely unguessable", about 10^10 guesses) or more. */
export const MIN_MASTER_SCORE = 3;

export interface MasterPasswordVerdict {
  ok: boolean;
  score: StrengthReport['score'];
  required: number;
  /** Why it is refused, in plain words with what to do instead; null when it is accepted. */
  reason: string | null;
  report: StrengthReport;
}

/**
 * Whether a password may protect the vault. The vault file can be copied and attacked offline, so length
 * alone ("password" has 8 characters) is not enough: it must resist guessing from dictionaries, names,
 * keyboard walks and dates.
 */
export function masterPasswordVerdict(password: string, minScore = MIN_MASTER_SCORE): MasterPasswordVerdict {
  const report = checkStrength(password);
  if (report.score >= minScore) return { ok: true, score: report.score, required: minScore, reason: null, report };
  const because = report.warning ? ` ${report.warning.replace(/\.?$/, '.')}` : '';
  const advice = report.suggestions.length > 0 ? ` ${report.suggestions.join(' ')}` : ' Use a longer phrase of several unrelated words.';
  const reason = `This master password is ${report.label} and too easy to guess (about ${report.crackTime.offlineSlowHash} to crack).${because}${advice}`;
  return { ok: false, score: report.score, required: minScore, reason, report };
}
