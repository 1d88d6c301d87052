// Playlists: named, ordered lists of tracks (a track may appear more than once).
import type { DB } from '../../storage/index.js';
import { notFound, ToolError } from '../errors.js';
import { toTrack, type TrackRow, type Tracks } from './tracks.js';
import type { Playlist, PlaylistWithTracks } from './types.js';

export type { Playlist, PlaylistWithTracks } from './types.js';

interface Row {
  id: number;
  name: string;
  tracks: number;
  duration_ms: number;
  created_at: number;
  updated_at: number;
}

const toPlaylist = (r: Row): Playlist => ({
  id: r.id,
  name: r.name,
  tracks: r.tracks,
  durationMs: r.duration_ms,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

const SELECT = `
  SELECT p.*, count(pt.track_id) AS tracks, coalesce(sum(t.duration_ms), 0) AS duration_ms
  FROM music_playlists p
  LEFT JOIN music_playlist_tracks pt ON pt.playlist_id = p.id
  LEFT JOIN music_tracks t ON t.id = pt.track_id`;

export class Playlists {
  constructor(
    private readonly db: DB,
    private readonly tracks: Tracks,
    private readonly now: () => number = Date.now,
  ) {}

  list(): Playlist[] {
    return (this.db.prepare(`${SELECT} GROUP BY p.id ORDER BY p.name COLLATE NOCASE`).all() as Row[]).map(toPlaylist);
  }

  get(id: number): PlaylistWithTracks {
    const r = this.db.prepare(`${SELECT} WHERE p.id = ? GROUP BY p.id`).get(id) as Row | undefined;
    if (!r) throw notFound('playlist', id);
    const items = this.db
      .prepare('SELECT t.* FROM music_playlist_tracks pt JOIN music_tracks t ON t.id = pt.track_id WHERE pt.playlist_id = ? ORDER BY pt.position')
      .all(id) as TrackRow[];
    return { ...toPlaylist(r), items: items.map(toTrack) };
  }

  create(name: string, trackIds: number[] = []): PlaylistWithTracks {
    if (name.trim() === '') throw new ToolError('invalid_params', 'a playlist needs a name');
    return this.db.transaction(() => {
      const now = this.now();
      const { id } = this.db.prepare('INSERT INTO music_playlists (name, created_at, updated_at) VALUES (?, ?, ?) RETURNING id').get(name.trim(), now, now) as { id: number };
      this.#write(id, trackIds);
      return this.get(id);
    })();
  }

  rename(id: number, name: string): PlaylistWithTracks {
    if (name.trim() === '') throw new ToolError('invalid_params', 'a playlist needs a name');
    if (this.db.prepare('UPDATE music_playlists SET name = ?, updated_at = ? WHERE id = ?').run(name.trim(), this.now(), id).changes === 0) throw notFound('playlist', id);
    return this.get(id);
  }

  /** Replaces the playlist's tracks with `trackIds`, in that order. */
  setTracks(id: number, trackIds: number[]): PlaylistWithTracks {
    return this.db.transaction(() => {
      this.get(id);
      this.#write(id, trackIds);
      return this.get(id);
    })();
  }

  /** Appends tracks (or inserts them at `position`, 0-based). */
  addTracks(id: number, trackIds: number[], position?: number): PlaylistWithTracks {
    return this.db.transaction(() => {
      const cur = this.get(id).items.map((t) => t.id);
      const at = position === undefined ? cur.length : Math.max(0, Math.min(position, cur.length));
      cur.splice(at, 0, ...trackIds);
      this.#write(id, cur);
      return this.get(id);
    })();
  }

  /** Removes the item at a 0-based position. */
  removeAt(id: number, position: number): PlaylistWithTracks {
    return this.db.transaction(() => {
      const cur = this.get(id).items.map((t) => t.id);
      if (!Number.isInteger(position) || position < 0 || position >= cur.length) throw new ToolError('invalid_params', `position ${position} is not in the playlist (0..${cur.length - 1})`);
      cur.splice(position, 1);
      this.#write(id, cur);
      return this.get(id);
    })();
  }

  /** Moves the item at `from` to `to` (0-based). */
  move(id: number, from: number, to: number): PlaylistWithTracks {
    return this.db.transaction(() => {
      const cur = this.get(id).items.map((t) => t.id);
      if (from < 0 || from >= cur.length || to < 0 || to >= cur.length) throw new ToolError('invalid_params', `positions must be in 0..${cur.length - 1}`);
      const [t] = cur.splice(from, 1);
      cur.splice(to, 0, t!);
      this.#write(id, cur);
      return this.get(id);
    })();
  }

  delete(id: number): void {
    if (this.db.prepare('DELETE FROM music_playlists WHERE id = ?').run(id).changes === 0) throw notFound('playlist', id);
  }

  #write(id: number, trackIds: number[]): void {
    for (const t of new Set(trackIds)) this.tracks.get(t);
    this.db.prepare('DELETE FROM music_playlist_tracks WHERE playlist_id = ?').run(id);
    const ins = this.db.prepare('INSERT INTO music_playlist_tracks (playlist_id, position, track_id) VALUES (?, ?, ?)');
    trackIds.forEach((t, i) => ins.run(id, i, t));
    this.db.prepare('UPDATE music_playlists SET updated_at = ? WHERE id = ?').run(this.now(), id);
  }
}
