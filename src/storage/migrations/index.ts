// The project's migrations, oldest first. Append new ones; never edit one that has shipped.
import type { Migration } from '../migrate.js';
import { conversationsMigration } from './001-conversations.js';
import { financeMigration } from './002-finance.js';
import { timeMigration } from './003-time.js';
import { vaultMigration } from './004-vault.js';
import { musicMigration } from './005-music.js';
import { reasoningMigration } from './006-reasoning.js';
import { branchesMigration } from './008-branches.js';
import { mcpMigration } from './009-mcp.js';
import { documentsMigration } from './010-documents.js';
import { providersMigration } from './011-providers.js';

export const MIGRATIONS: readonly Migration[] = [
  conversationsMigration,
  financeMigration,
  timeMigration,
  vaultMigration,
  musicMigration,
  reasoningMigration,
  branchesMigration,
  mcpMigration,
  documentsMigration,
  providersMigration,
];
