// The music library's shapes as the API sends them. This file imports nothing from Node or SQLite, so
// the renderer imports these types (type-only) instead of keeping copies that could drift.

export interface TrackTags {
  title: string;
  artist: string;
  album: string;
  albumArtist: string;
  genre: string;
  trackNo: number | null;
  discNo: number | null;
  year: number | null;
  durationMs: number | null;
  codec: string | null;
  bitrate: number | null;
  sampleRate: number | null;
}

/** A track of the library: its tags plus where it is. */
export interface Track extends TrackTags {
  id: number;
  folderId: number;
  /** Path inside its folder. */
  relPath: string;
  format: string;
  size: number;
}

export interface LibraryFolder {
  id: number;
  path: string;
  addedAt: string;
  lastScanAt: string | null;
  tracks: number;
}

export interface PlayerState {
  queue: Track[];
  /** Index of the current item in the queue; -1 when nothing is current. */
  index: number;
  nowPlaying: Track | null;
  playing: boolean;
  /** Increases with every change (clients can drop stale events). */
  version: number;
}

export interface Playlist {
  id: number;
  name: string;
  tracks: number;
  durationMs: number;
  createdAt: string;
  updatedAt: string;
}

/** A playlist with its items in order (a track may appear more than once). */
export interface PlaylistWithTracks extends Playlist {
  items: Track[];
}
