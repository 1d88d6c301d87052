// Remote OpenAI-compatible providers (src/providers). The API key is stored sealed (AES-256-GCM under the
// key file of the data folder, bound to the row's id), never in clear text.
import type { Migration } from '../migrate.js';

export const providersMigration: Migration = {
  version: 11,
  name: 'remote providers',
  up: `
    CREATE TABLE providers (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      base_url TEXT NOT NULL,
      api_key_sealed BLOB,
      timeout_ms INTEGER NOT NULL,
      model_filter TEXT NOT NULL DEFAULT '[]',
      fallback TEXT,
      enabled INTEGER NOT NULL DEFAULT 1,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
  `,
};
