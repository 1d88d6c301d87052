// The vault's shapes as the API sends them. This file imports nothing from Node or SQLite, so the renderer
// imports these types (type-only) instead of keeping copies.

/** What may be shown in lists and to the model: no password, no notes. */
export interface VaultEntrySummary {
  id: string;
  title: string;
  username: string;
  url: string;
  createdAt: string;
  updatedAt: string;
}

/** One entry read by id (GET /api/vault/entries/:id): the only response that carries its password. */
export interface VaultEntry extends VaultEntrySummary {
  password: string;
  notes: string;
}

export interface VaultStatus {
  initialized: boolean;
  unlocked: boolean;
  entries: number;
  idleMs: number;
  /** When the vault locks itself unless used; null while locked. */
  lockAt: string | null;
  kdf: { name: 'scrypt'; N: number; r: number; p: number } | null;
}

export type LockReason = 'manual' | 'idle' | 'closed' | 'password_changed';

/** GET /api/vault/entries: matching entries; ids of records that failed their integrity check. */
export interface VaultSearchResult {
  entries: VaultEntrySummary[];
  damaged: string[];
}

/** A request by the model to copy an entry's password, waiting for the user. */
export interface CopyRequest {
  id: string;
  entryId: string;
  title: string;
  createdAt: string;
  expiresAt: string;
}

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

/** POST /api/vault/generate */
export interface GeneratedSecret {
  mode: 'password' | 'passphrase';
  password: string;
  /** Bits of entropy of the generator (log2 of the number of equally likely outputs). */
  entropyBits: number;
  strength: StrengthReport;
}
