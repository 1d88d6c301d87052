// Conversations become trees: each message has a parent (an edited question or a regenerated reply is a
// sibling of the one it replaces, and both are kept), and the conversation remembers which path is
// shown (`leaf_id`, its last message; NULL for an empty path). A conversation also keeps its own settings
// (system prompt, sampling; JSON) and a message the generation settings it was written with (`meta`).
// Existing conversations become one straight path.
import type { Migration } from '../migrate.js';

export const branchesMigration: Migration = {
  version: 8,
  name: 'conversation branches and settings',
  up: `
    ALTER TABLE conversations ADD COLUMN settings TEXT CHECK (settings IS NULL OR json_valid(settings));
    ALTER TABLE conversations ADD COLUMN leaf_id INTEGER;
    ALTER TABLE messages ADD COLUMN parent_id INTEGER REFERENCES messages (id) ON DELETE CASCADE;
    ALTER TABLE messages ADD COLUMN meta TEXT CHECK (meta IS NULL OR json_valid(meta));
    CREATE INDEX messages_parent ON messages (conversation_id, parent_id);
    UPDATE messages SET parent_id = (
      SELECT p.id FROM messages p WHERE p.conversation_id = messages.conversation_id AND p.seq < messages.seq ORDER BY p.seq DESC LIMIT 1
    );
    UPDATE conversations SET leaf_id = (
      SELECT m.id FROM messages m WHERE m.conversation_id = conversations.id ORDER BY m.seq DESC LIMIT 1
    );
  `,
};
