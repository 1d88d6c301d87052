// The music library: folders, scanned tracks (size and mtime make rescans incremental) and playlists.
import type { Migration } from '../migrate.js';

export const musicMigration: Migration = {
  version: 5,
  name: 'music',
  up: `
    CREATE TABLE music_folders (
      id INTEGER PRIMARY KEY,
      path TEXT NOT NULL UNIQUE,
      added_at INTEGER NOT NULL,
      last_scan_at INTEGER
    );
    CREATE TABLE music_tracks (
      id INTEGER PRIMARY KEY,
      folder_id INTEGER NOT NULL REFERENCES music_folders (id) ON DELETE CASCADE,
      path TEXT NOT NULL UNIQUE,
      rel_path TEXT NOT NULL,
      size INTEGER NOT NULL,
      mtime_ms INTEGER NOT NULL,
      format TEXT NOT NULL,
      title TEXT NOT NULL,
      artist TEXT NOT NULL DEFAULT '',
      album TEXT NOT NULL DEFAULT '',
      album_artist TEXT NOT NULL DEFAULT '',
      genre TEXT NOT NULL DEFAULT '',
      track_no INTEGER,
      disc_no INTEGER,
      year INTEGER,
      duration_ms INTEGER,
      codec TEXT,
      bitrate INTEGER,
      sample_rate INTEGER,
      scanned_at INTEGER NOT NULL
    );
    CREATE INDEX music_tracks_folder ON music_tracks (folder_id);
    CREATE INDEX music_tracks_artist ON music_tracks (artist COLLATE NOCASE, album COLLATE NOCASE, disc_no, track_no);
    CREATE TABLE music_playlists (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    CREATE TABLE music_playlist_tracks (
      playlist_id INTEGER NOT NULL REFERENCES music_playlists (id) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      track_id INTEGER NOT NULL REFERENCES music_tracks (id) ON DELETE CASCADE,
      PRIMARY KEY (playlist_id, position)
    );
  `,
};
