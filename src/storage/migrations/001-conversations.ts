// Conversations and their messages (tool calls and results included, as JSON), with a full-text index
// over message text when this SQLite has FTS5.
import { hasFts5 } from '../features.js';
import type { Migration } from '../migrate.js';

export const conversationsMigration: Migration = {
  version: 1,
  name: 'conversations',
  up(db) {
    db.exec(`
      CREATE TABLE conversations (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX conversations_updated ON conversations (updated_at DESC);
      CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
        content TEXT NOT NULL DEFAULT '',
        tool_calls TEXT CHECK (tool_calls IS NULL OR json_valid(tool_calls)),
        tool_call_id TEXT,
        name TEXT,
        created_at INTEGER NOT NULL,
        UNIQUE (conversation_id, seq)
      );
    `);
    if (hasFts5(db)) {
      db.exec(`
        CREATE VIRTUAL TABLE messages_fts USING fts5 (content, content = 'messages', content_rowid = 'id');
        CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
          INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
        END;
        CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
          INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
        END;
        CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
          INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
          INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
        END;
      `);
    }
  },
};
