// The library scan: walks a folder, reads tags and duration of every audio file with music-metadata,
// and stores them. Incremental: a file whose size and mtime did not change is not read again, and
// tracks whose files are gone are removed. Symlinked files are followed only when they resolve inside
// the folder; symlinked directories are not followed (no loops, no escapes).
import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseFile } from 'music-metadata';
import type { DB } from '../../storage/index.js';
import { ToolError } from '../errors.js';
import type { Folders } from './folders.js';
import { audioFormatOf } from './formats.js';
import { isInside } from './paths.js';
import type { TrackTags } from './types.js';

export type { TrackTags } from './types.js';

export interface ScanResult {
  folderId: number;
  added: number;
  updated: number;
  unchanged: number;
  removed: number;
  failed: { path: string; error: string }[];
  durationMs: number;
}

/** Reads tags and duration; a file without a title is titled after its name. */
export async function readTags(file: string): Promise<TrackTags> {
  const m = await parseFile(file, { duration: true, skipCovers: true });
  const c = m.common;
  const f = m.format;
  const int = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : null);
  return {
    title: c.title?.trim() || path.basename(file, path.extname(file)),
    artist: c.artist ?? c.artists?.join(', ') ?? '',
    album: c.album ?? '',
    albumArtist: c.albumartist ?? '',
    genre: (c.genre ?? []).join(', '),
    trackNo: int(c.track?.no),
    discNo: int(c.disk?.no),
    year: int(c.year),
    durationMs: typeof f.duration === 'number' && Number.isFinite(f.duration) ? Math.round(f.duration * 1000) : null,
    codec: f.codec ?? f.container ?? null,
    bitrate: int(f.bitrate),
    sampleRate: int(f.sampleRate),
  };
}

async function* walk(root: string, dir: string): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(root, full);
    else if (e.isFile()) yield full;
    else if (e.isSymbolicLink()) {
      try {
        const real = await realpath(full);
        if (isInside(root, real) && (await stat(real)).isFile()) yield full;
      } catch {
        // dangling link
      }
    }
  }
}

interface Known {
  id: number;
  path: string;
  size: number;
  mtime_ms: number;
}

export class Scanner {
  readonly #running = new Map<number, Promise<ScanResult>>();

  constructor(
    private readonly db: DB,
    private readonly folders: Folders,
    private readonly now: () => number = Date.now,
  ) {}

  /** Scans one folder; a scan of a folder already being scanned joins it. */
  scan(folderId: number): Promise<ScanResult> {
    const running = this.#running.get(folderId);
    if (running) return running;
    const p = this.#scan(folderId).finally(() => this.#running.delete(folderId));
    this.#running.set(folderId, p);
    return p;
  }

  async scanAll(): Promise<ScanResult[]> {
    const out: ScanResult[] = [];
    for (const f of this.folders.list()) out.push(await this.scan(f.id));
    return out;
  }

  get scanning(): number[] {
    return [...this.#running.keys()];
  }

  async #scan(folderId: number): Promise<ScanResult> {
    const started = performance.now();
    const folder = this.folders.get(folderId);
    try {
      if (!(await lstat(folder.path)).isDirectory()) throw new Error('not a directory');
    } catch {
      throw new ToolError('not_found', `the library folder ${folder.path} is not readable`);
    }
    const known = new Map<string, Known>();
    for (const k of this.db.prepare('SELECT id, path, size, mtime_ms FROM music_tracks WHERE folder_id = ?').all(folderId) as Known[]) known.set(k.path, k);
    const seen = new Set<string>();
    const result: ScanResult = { folderId, added: 0, updated: 0, unchanged: 0, removed: 0, failed: [], durationMs: 0 };
    const upsert = this.db.prepare(
      `INSERT INTO music_tracks (folder_id, path, rel_path, size, mtime_ms, format, title, artist, album, album_artist, genre,
                                 track_no, disc_no, year, duration_ms, codec, bitrate, sample_rate, scanned_at)
       VALUES (@folderId, @path, @relPath, @size, @mtimeMs, @format, @title, @artist, @album, @albumArtist, @genre,
               @trackNo, @discNo, @year, @durationMs, @codec, @bitrate, @sampleRate, @scannedAt)
       ON CONFLICT (path) DO UPDATE SET folder_id = excluded.folder_id, rel_path = excluded.rel_path, size = excluded.size,
         mtime_ms = excluded.mtime_ms, format = excluded.format, title = excluded.title, artist = excluded.artist,
         album = excluded.album, album_artist = excluded.album_artist, genre = excluded.genre, track_no = excluded.track_no,
         disc_no = excluded.disc_no, year = excluded.year, duration_ms = excluded.duration_ms, codec = excluded.codec,
         bitrate = excluded.bitrate, sample_rate = excluded.sample_rate, scanned_at = excluded.scanned_at`,
    );
    const batch: Record<string, unknown>[] = [];
    const flush = this.db.transaction((rows: Record<string, unknown>[]) => {
      for (const r of rows) upsert.run(r);
    });
    for await (const file of walk(folder.path, folder.path)) {
      const format = audioFormatOf(file);
      if (!format) continue;
      let real: string;
      let st;
      try {
        real = await realpath(file);
        st = await stat(real);
      } catch {
        continue;
      }
      if (seen.has(real)) continue; // a link to a file already seen
      seen.add(real);
      const k = known.get(real);
      const mtimeMs = Math.floor(st.mtimeMs);
      if (k && k.size === st.size && k.mtime_ms === mtimeMs) {
        result.unchanged++;
        continue;
      }
      try {
        const tags = await readTags(real);
        batch.push({ folderId, path: real, relPath: path.relative(folder.path, real), size: st.size, mtimeMs, format: format.format, ...tags, scannedAt: this.now() });
        if (k) result.updated++;
        else result.added++;
      } catch (err) {
        result.failed.push({ path: path.relative(folder.path, real), error: (err as Error).message });
      }
      if (batch.length >= 200) flush(batch.splice(0));
    }
    const gone = [...known.values()].filter((k) => !seen.has(k.path));
    this.db.transaction(() => {
      flush(batch.splice(0));
      const del = this.db.prepare('DELETE FROM music_tracks WHERE id = ?');
      for (const g of gone) del.run(g.id);
      this.folders.markScanned(folderId, this.now());
    })();
    result.removed = gone.length;
    result.durationMs = Math.round(performance.now() - started);
    return result;
  }
}
