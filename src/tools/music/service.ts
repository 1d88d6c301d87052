// MusicService: the music tool's parts over one database, and the resolution of the files the streaming
// route may serve (only real files inside a library folder, with a known audio extension).
import { realpath, stat } from 'node:fs/promises';
import type { DB } from '../../storage/index.js';
import { ToolError } from '../errors.js';
import { Folders } from './folders.js';
import { audioFormatOf } from './formats.js';
import { isInside, resolveInside } from './paths.js';
import { Player } from './player.js';
import { Playlists } from './playlists.js';
import { Scanner, type ScanResult } from './scanner.js';
import { Tracks } from './tracks.js';

export interface ServableFile {
  path: string;
  size: number;
  mime: string;
  mtimeMs: number;
}

export class MusicService {
  readonly folders: Folders;
  readonly scanner: Scanner;
  readonly tracks: Tracks;
  readonly playlists: Playlists;
  readonly player: Player;

  constructor(db: DB, options: { now?: () => number } = {}) {
    const now = options.now ?? Date.now;
    this.folders = new Folders(db, now);
    this.scanner = new Scanner(db, this.folders, now);
    this.tracks = new Tracks(db);
    this.playlists = new Playlists(db, this.tracks, now);
    this.player = new Player(this.tracks);
  }

  /** Scans one folder (or all), then drops vanished tracks from the queue. */
  async scan(folderId?: number): Promise<ScanResult[]> {
    const results = folderId === undefined ? await this.scanner.scanAll() : [await this.scanner.scan(folderId)];
    this.player.prune();
    return results;
  }

  async #servable(real: string, folderPath: string): Promise<ServableFile> {
    if (!isInside(folderPath, real)) throw new ToolError('path_forbidden', 'refused path: outside the library folder');
    const format = audioFormatOf(real);
    if (!format) throw new ToolError('path_forbidden', 'only audio files are served', { details: { reason: 'not audio' } });
    let st;
    try {
      st = await stat(real);
    } catch {
      throw new ToolError('not_found', 'the file is gone; rescan the library');
    }
    if (!st.isFile()) throw new ToolError('not_found', 'not a file');
    return { path: real, size: st.size, mime: format.mime, mtimeMs: st.mtimeMs };
  }

  /** The file of a track, checked again now (the file may have become a link since the scan). */
  async trackFile(trackId: number): Promise<ServableFile> {
    const { path, folderId } = this.tracks.pathOf(trackId);
    const folder = this.folders.get(folderId);
    let real: string;
    try {
      real = await realpath(path);
    } catch {
      throw new ToolError('not_found', 'the file of this track is gone; rescan the library', { details: { trackId } });
    }
    return this.#servable(real, folder.path);
  }

  /** A file by its path relative to a library folder (decoded; traversal and outside links refused). */
  async folderFile(folderId: number, relPath: string): Promise<ServableFile> {
    const folder = this.folders.get(folderId);
    const real = await resolveInside(folder.path, relPath);
    return this.#servable(real, folder.path);
  }
}
