// Documents (src/documents): collections of folders and files, the files with their content hash and
// status (a file that failed to parse keeps its reason), chunks with where they come from (page, heading,
// character offsets) and their text in an FTS5 index kept in step by triggers, and index jobs whose state
// survives a restart. Vectors live in sqlite-vec tables created on demand, one per dimension
// (doc_vec_<dims>), because vec0 fixes the width at creation and collections may use different models.
import type { Migration } from '../migrate.js';

export const documentsMigration: Migration = {
  version: 10,
  name: 'documents',
  up: `
    CREATE TABLE doc_collections (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      embed_model TEXT,
      dimensions INTEGER,
      watch INTEGER NOT NULL DEFAULT 0,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE doc_sources (
      id INTEGER PRIMARY KEY,
      collection_id INTEGER NOT NULL REFERENCES doc_collections(id) ON DELETE CASCADE,
      path TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('folder', 'file')),
      created_at TEXT NOT NULL,
      UNIQUE (collection_id, path)
    );
    CREATE TABLE doc_files (
      id INTEGER PRIMARY KEY,
      collection_id INTEGER NOT NULL REFERENCES doc_collections(id) ON DELETE CASCADE,
      path TEXT NOT NULL,
      size INTEGER NOT NULL DEFAULT 0,
      mtime_ms REAL NOT NULL DEFAULT 0,
      hash TEXT,
      status TEXT NOT NULL CHECK (status IN ('indexed', 'failed')),
      error TEXT,
      pages INTEGER NOT NULL DEFAULT 0,
      chunks INTEGER NOT NULL DEFAULT 0,
      indexed_at TEXT NOT NULL,
      UNIQUE (collection_id, path)
    );
    CREATE TABLE doc_chunks (
      id INTEGER PRIMARY KEY,
      file_id INTEGER NOT NULL REFERENCES doc_files(id) ON DELETE CASCADE,
      collection_id INTEGER NOT NULL,
      ord INTEGER NOT NULL,
      text TEXT NOT NULL,
      heading TEXT,
      page INTEGER,
      start_offset INTEGER NOT NULL,
      end_offset INTEGER NOT NULL
    );
    CREATE INDEX doc_chunks_file ON doc_chunks(file_id, ord);
    CREATE INDEX doc_chunks_collection ON doc_chunks(collection_id);
    CREATE VIRTUAL TABLE doc_chunks_fts USING fts5(text, heading, content='doc_chunks', content_rowid='id', tokenize='porter unicode61');
    CREATE TRIGGER doc_chunks_ai AFTER INSERT ON doc_chunks BEGIN
      INSERT INTO doc_chunks_fts(rowid, text, heading) VALUES (new.id, new.text, coalesce(new.heading, ''));
    END;
    CREATE TRIGGER doc_chunks_ad AFTER DELETE ON doc_chunks BEGIN
      INSERT INTO doc_chunks_fts(doc_chunks_fts, rowid, text, heading) VALUES ('delete', old.id, old.text, coalesce(old.heading, ''));
    END;
    CREATE TABLE doc_jobs (
      id INTEGER PRIMARY KEY,
      collection_id INTEGER NOT NULL REFERENCES doc_collections(id) ON DELETE CASCADE,
      state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'stopped', 'done', 'failed')),
      phase TEXT NOT NULL DEFAULT 'scan',
      files_total INTEGER NOT NULL DEFAULT 0,
      files_done INTEGER NOT NULL DEFAULT 0,
      files_skipped INTEGER NOT NULL DEFAULT 0,
      files_failed INTEGER NOT NULL DEFAULT 0,
      files_removed INTEGER NOT NULL DEFAULT 0,
      pages INTEGER NOT NULL DEFAULT 0,
      chunks_embedded INTEGER NOT NULL DEFAULT 0,
      current_file TEXT,
      error TEXT,
      created_at TEXT NOT NULL,
      updated_at TEXT NOT NULL,
      finished_at TEXT
    );
    CREATE INDEX doc_jobs_collection ON doc_jobs(collection_id, id);
    CREATE TABLE doc_chat_collections (
      conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
      collection_id INTEGER NOT NULL REFERENCES doc_collections(id) ON DELETE CASCADE,
      PRIMARY KEY (conversation_id, collection_id)
    );
  `,
};
