// Time tracking: projects, entries with tags, the one timer (a row, so it survives a restart) and
// reminders.
import type { Migration } from '../migrate.js';

export const timeMigration: Migration = {
  version: 3,
  name: 'time',
  up: `
    CREATE TABLE time_projects (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE,
      client TEXT NOT NULL DEFAULT '',
      hourly_rate INTEGER NOT NULL DEFAULT 0 CHECK (hourly_rate >= 0),
      currency TEXT NOT NULL DEFAULT 'USD' CHECK (length(currency) = 3),
      budget INTEGER CHECK (budget IS NULL OR budget >= 0),
      status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'completed', 'archived')),
      created_at INTEGER NOT NULL
    );
    CREATE TABLE time_entries (
      id INTEGER PRIMARY KEY,
      project_id INTEGER NOT NULL REFERENCES time_projects (id) ON DELETE RESTRICT,
      description TEXT NOT NULL DEFAULT '',
      start_at INTEGER NOT NULL,
      end_at INTEGER NOT NULL,
      duration_ms INTEGER NOT NULL CHECK (duration_ms >= 0),
      billable INTEGER NOT NULL DEFAULT 1 CHECK (billable IN (0, 1)),
      source TEXT NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'timer')),
      created_at INTEGER NOT NULL,
      CHECK (end_at >= start_at)
    );
    CREATE INDEX time_entries_start ON time_entries (start_at);
    CREATE INDEX time_entries_project ON time_entries (project_id, start_at);
    CREATE TABLE time_tags (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE COLLATE NOCASE
    );
    CREATE TABLE time_entry_tags (
      entry_id INTEGER NOT NULL REFERENCES time_entries (id) ON DELETE CASCADE,
      tag_id INTEGER NOT NULL REFERENCES time_tags (id) ON DELETE CASCADE,
      PRIMARY KEY (entry_id, tag_id)
    );
    CREATE TABLE time_timer (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      project_id INTEGER NOT NULL REFERENCES time_projects (id) ON DELETE CASCADE,
      description TEXT NOT NULL DEFAULT '',
      billable INTEGER NOT NULL DEFAULT 1 CHECK (billable IN (0, 1)),
      tags TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
      started_at INTEGER NOT NULL,
      running_since INTEGER,
      accumulated_ms INTEGER NOT NULL DEFAULT 0 CHECK (accumulated_ms >= 0)
    );
    CREATE TABLE time_reminders (
      id INTEGER PRIMARY KEY,
      message TEXT NOT NULL,
      due_at INTEGER NOT NULL,
      repeat TEXT NOT NULL DEFAULT 'none' CHECK (repeat IN ('none', 'daily', 'weekdays', 'weekly')),
      delivered_at INTEGER,
      active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
      created_at INTEGER NOT NULL
    );
    CREATE INDEX time_reminders_due ON time_reminders (active, due_at);
  `,
};
