// Library folders: the directories the user adds. Stored as real paths (symlinks resolved), so the
// containment checks of streaming compare like with like.
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DB } from '../../storage/index.js';
import { notFound, ToolError } from '../errors.js';
import { isInside } from './paths.js';
import type { LibraryFolder } from './types.js';
import { expandUserPath } from './user-path.js';

export type { LibraryFolder } from './types.js';

interface Row {
  id: number;
  path: string;
  added_at: number;
  last_scan_at: number | null;
  tracks: number;
}

const toFolder = (r: Row): LibraryFolder => ({
  id: r.id,
  path: r.path,
  addedAt: new Date(r.added_at).toISOString(),
  lastScanAt: r.last_scan_at === null ? null : new Date(r.last_scan_at).toISOString(),
  tracks: r.tracks,
});

const SELECT = 'SELECT f.*, (SELECT count(*) FROM music_tracks t WHERE t.folder_id = f.id) AS tracks FROM music_folders f';

export class Folders {
  constructor(
    private readonly db: DB,
    private readonly now: () => number = Date.now,
  ) {}

  list(): LibraryFolder[] {
    return (this.db.prepare(`${SELECT} ORDER BY f.path`).all() as Row[]).map(toFolder);
  }

  get(id: number): LibraryFolder {
    const r = this.db.prepare(`${SELECT} WHERE f.id = ?`).get(id) as Row | undefined;
    if (!r) throw notFound('library folder', id);
    return toFolder(r);
  }

  /**
   * Adds a directory: an absolute path, "~/..." or a path relative to the home directory (expandUserPath).
   * Nested folders are refused: a file belongs to one folder.
   */
  async add(input: string, home?: string): Promise<LibraryFolder> {
    const dir = expandUserPath(input, home);
    let real: string;
    try {
      real = await realpath(dir);
    } catch {
      throw new ToolError('folder_not_found', `${dir} does not exist`, { details: { path: dir, input } });
    }
    if (!(await stat(real)).isDirectory()) throw new ToolError('folder_not_found', `${dir} is a file, not a folder`, { details: { path: dir, input } });
    for (const f of this.list()) {
      if (isInside(f.path, real) || isInside(real, f.path)) {
        throw new ToolError('conflict', `${real} overlaps the library folder ${f.path}`, { details: { folderId: f.id } });
      }
    }
    const r = this.db.prepare('INSERT INTO music_folders (path, added_at) VALUES (?, ?) RETURNING id').get(real, this.now()) as { id: number };
    return this.get(r.id);
  }

  /** Removes a folder and its tracks from the library (the files stay). */
  remove(id: number): void {
    if (this.db.prepare('DELETE FROM music_folders WHERE id = ?').run(id).changes === 0) throw notFound('library folder', id);
  }

  markScanned(id: number, at: number): void {
    this.db.prepare('UPDATE music_folders SET last_scan_at = ? WHERE id = ?').run(at, id);
  }
}
