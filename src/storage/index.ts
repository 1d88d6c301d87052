// Storage: the SQLite database of the data directory (WAL, foreign keys, versioned migrations), online
// backups, and the conversations store.
export { openDatabase, type DB, type OpenDatabaseOptions } from './database.js';
export { migrate, appliedMigrations, type Migration, type AppliedMigration } from './migrate.js';
export { MIGRATIONS } from './migrations/index.js';
export { backupDatabase, backupFileName, type BackupResult } from './backup.js';
export { restoreDatabase, type RestoreOptions, type RestoreResult } from './restore.js';
export { acquireRestoreLock, claimDatabaseUse, usersDirOf } from './lock.js';
export { hasFts5, tableExists } from './features.js';
export {
  ConversationStore,
  ftsQuery,
  type Conversation,
  type ConversationTree,
  type ConversationWithMessages,
  type MessageMeta,
  type MessageRole,
  type PathMessage,
  type NewMessage,
  type SearchHit,
  type StoredMessage,
  type StoredToolCall,
} from './conversations.js';
export { DEFAULT_CHAT_SETTINGS, PRESETS, SAMPLING_LIMITS, presetOf, type ChatSampling, type ChatSettings, type PresetName } from './chat-presets.js';
