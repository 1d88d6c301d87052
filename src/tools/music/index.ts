// The music library: folders, an incremental scan of tags and durations, search, playlists, the queue
// and now-playing state, and safe resolution of the files to stream.
export { MusicService, type ServableFile } from './service.js';
export { Folders, type LibraryFolder } from './folders.js';
export { Scanner, readTags, type ScanResult, type TrackTags } from './scanner.js';
export { Tracks, type Track, type TrackSearch } from './tracks.js';
export { Playlists, type Playlist, type PlaylistWithTracks } from './playlists.js';
export { Player, MAX_QUEUE, type PlayerState, type PlayerEvents } from './player.js';
export { parseRange, type RangeResult } from './range.js';
export { isInside, checkRelativePath, resolveInside } from './paths.js';
export { AUDIO_FORMATS, audioFormatOf } from './formats.js';
export { musicTools } from './tools.js';
