// The password vault: generator, strength check, AES-256-GCM entries under a scrypt-derived key,
// lock/unlock/auto-lock, re-keying, and copy requests the user approves in the app.
export { VaultService, type VaultEntry, type VaultEntryData, type VaultEntrySummary, type VaultOptions, type VaultStatus, type VaultEvents, type LockReason } from './vault.js';
export { CopyRequests, type CopyRequest } from './copy-requests.js';
export { deriveKey, seal, open, newSalt, checkKdfParams, DEFAULT_KDF, type KdfParams, type Sealed, type DerivedKey } from './crypto.js';
export {
  generatePassword,
  generatePassphrase,
  passwordEntropyBits,
  characterPools,
  wordList,
  passwordOptionsSchema,
  passphraseOptionsSchema,
  CHARACTER_CLASSES,
  AMBIGUOUS,
  type PasswordOptions,
  type PassphraseOptions,
  type Generated,
} from './generator.js';
export { checkStrength, characterEntropyBits, masterPasswordVerdict, MIN_MASTER_SCORE, type StrengthReport, type MasterPasswordVerdict } from './strength.js';
export type { GeneratedSecret, VaultSearchResult } from './types.js';
export { vaultTools } from './tools.js';
