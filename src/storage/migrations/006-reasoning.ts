// An assistant message's thinking is stored apart from its answer (shown in a collapsible block, never
// fed to search as the answer), with how long the model thought.
import type { Migration } from '../migrate.js';

export const reasoningMigration: Migration = {
  version: 6,
  name: 'message reasoning',
  up: `
    ALTER TABLE messages ADD COLUMN reasoning TEXT;
    ALTER TABLE messages ADD COLUMN thinking_ms INTEGER;
  `,
};
