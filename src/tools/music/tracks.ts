// The tracks of the library: search by title, artist, album and genre, and lookups.
import type { DB } from '../../storage/index.js';
import { notFound } from '../errors.js';
import type { Track } from './types.js';

export type { Track } from './types.js';

export interface TrackSearch {
  /** Words that must each match the title, artist, album, album artist or genre. */
  q?: string;
  title?: string;
  artist?: string;
  album?: string;
  genre?: string;
  folderId?: number;
  limit?: number;
  offset?: number;
}

export interface TrackRow {
  id: number;
  folder_id: number;
  path: string;
  rel_path: string;
  size: number;
  format: string;
  title: string;
  artist: string;
  album: string;
  album_artist: string;
  genre: string;
  track_no: number | null;
  disc_no: number | null;
  year: number | null;
  duration_ms: number | null;
  codec: string | null;
  bitrate: number | null;
  sample_rate: number | null;
}

export const toTrack = (r: TrackRow): Track => ({
  id: r.id,
  folderId: r.folder_id,
  relPath: r.rel_path,
  format: r.format,
  title: r.title,
  artist: r.artist,
  album: r.album,
  albumArtist: r.album_artist,
  genre: r.genre,
  trackNo: r.track_no,
  discNo: r.disc_no,
  year: r.year,
  durationMs: r.duration_ms,
  codec: r.codec,
  bitrate: r.bitrate,
  sampleRate: r.sample_rate,
  size: r.size,
});

const like = (s: string) => `%${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export class Tracks {
  constructor(private readonly db: DB) {}

  find(id: number): Track | null {
    const r = this.db.prepare('SELECT * FROM music_tracks WHERE id = ?').get(id) as TrackRow | undefined;
    return r ? toTrack(r) : null;
  }

  get(id: number): Track {
    const t = this.find(id);
    if (!t) throw notFound('track', id);
    return t;
  }

  /** The stored absolute path of a track (for streaming; checked again before serving). */
  pathOf(id: number): { path: string; folderId: number } {
    const r = this.db.prepare('SELECT path, folder_id FROM music_tracks WHERE id = ?').get(id) as { path: string; folder_id: number } | undefined;
    if (!r) throw notFound('track', id);
    return { path: r.path, folderId: r.folder_id };
  }

  search(s: TrackSearch = {}): { tracks: Track[]; total: number } {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const w of (s.q ?? '').split(/\s+/).filter(Boolean)) {
      where.push(`(title LIKE ? ESCAPE '\\' OR artist LIKE ? ESCAPE '\\' OR album LIKE ? ESCAPE '\\' OR album_artist LIKE ? ESCAPE '\\' OR genre LIKE ? ESCAPE '\\')`);
      args.push(like(w), like(w), like(w), like(w), like(w));
    }
    for (const [field, column] of [['title', 'title'], ['artist', 'artist'], ['album', 'album'], ['genre', 'genre']] as const) {
      const v = s[field];
      if (v === undefined || v === '') continue;
      where.push(field === 'artist' ? `(artist LIKE ? ESCAPE '\\' OR album_artist LIKE ? ESCAPE '\\')` : `${column} LIKE ? ESCAPE '\\'`);
      args.push(like(v));
      if (field === 'artist') args.push(like(v));
    }
    if (s.folderId !== undefined) {
      where.push('folder_id = ?');
      args.push(s.folderId);
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const rows = this.db
      .prepare(
        `SELECT * FROM music_tracks ${w}
         ORDER BY artist COLLATE NOCASE, album COLLATE NOCASE, coalesce(disc_no, 0), coalesce(track_no, 0), title COLLATE NOCASE
         LIMIT ? OFFSET ?`,
      )
      .all(...args, s.limit ?? 100, s.offset ?? 0) as TrackRow[];
    const total = (this.db.prepare(`SELECT count(*) AS n FROM music_tracks ${w}`).get(...args) as { n: number }).n;
    return { tracks: rows.map(toTrack), total };
  }

  /** Distinct values of a field with their track counts (artists, albums, genres). */
  facets(field: 'artist' | 'album' | 'genre'): { value: string; tracks: number }[] {
    return this.db
      .prepare(`SELECT ${field} AS value, count(*) AS tracks FROM music_tracks WHERE ${field} <> '' GROUP BY ${field} COLLATE NOCASE ORDER BY ${field} COLLATE NOCASE`)
      .all() as { value: string; tracks: number }[];
  }
}
