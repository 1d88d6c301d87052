// The password vault: key-derivation parameters with a verifier, and entries as AES-256-GCM sealed
// records (every field of an entry is inside the ciphertext; only its id and dates are in clear).
import type { Migration } from '../migrate.js';

export const vaultMigration: Migration = {
  version: 4,
  name: 'vault',
  up: `
    CREATE TABLE vault_meta (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      kdf TEXT NOT NULL CHECK (kdf = 'scrypt'),
      kdf_n INTEGER NOT NULL,
      kdf_r INTEGER NOT NULL,
      kdf_p INTEGER NOT NULL,
      salt BLOB NOT NULL,
      verifier BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      changed_at INTEGER NOT NULL
    );
    CREATE TABLE vault_entries (
      id TEXT PRIMARY KEY,
      nonce BLOB NOT NULL,
      ciphertext BLOB NOT NULL,
      tag BLOB NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
  `,
};
