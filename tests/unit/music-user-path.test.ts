// The music folder as typed in a browser: ~ and relative paths start at the home directory, what does not
// exist (or is a file) is refused with folder_not_found, and nothing is added then.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWestfallError } from '../../src/errors.js';
import { expandUserPath } from '../../src/tools/music/user-path.js';
import { createToolServices } from '../../src/tools/index.js';

const root = mkdtempSync(join(tmpdir(), 'westfall-userpath-'));
const home = join(root, 'home');
mkdirSync(join(home, 'Music', 'Jazz'), { recursive: true });
mkdirSync(join(home, 'Other'), { recursive: true });
writeFileSync(join(home, 'notes.txt'), 'x');
symlinkSync(join(home, 'Music'), join(home, 'Tunes'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('expandUserPath', () => {
  it('expands ~ and ~/ to the home directory', () => {
    expect(expandUserPath('~', home)).toBe(home);
    expect(expandUserPath('~/', home)).toBe(home);
    expect(expandUserPath('~/Music', home)).toBe(join(home, 'Music'));
    expect(expandUserPath('  ~/Music/Jazz/  ', home)).toBe(join(home, 'Music', 'Jazz'));
  });

  it('resolves relative paths against the home directory, not the working directory', () => {
    expect(expandUserPath('Music', home)).toBe(join(home, 'Music'));
    expect(expandUserPath('./Music/../Other', home)).toBe(join(home, 'Other'));
    expect(expandUserPath('../home/Music', home)).toBe(join(home, 'Music'));
  });

  it('keeps absolute paths (normalized)', () => {
    expect(expandUserPath('/srv/music/', home)).toBe('/srv/music');
    expect(expandUserPath('/srv//music/./a/..', home)).toBe('/srv/music');
  });

  it('refuses an empty path and ~user with invalid_params', () => {
    for (const bad of ['', '   ', '~bob/Music', 'a\0b']) {
      let err: unknown;
      try {
        expandUserPath(bad, home);
      } catch (e) {
        err = e;
      }
      expect(isWestfallError(err, 'invalid_params'), bad).toBe(true);
    }
  });

  it('uses $HOME when no home is given', () => {
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      expect(expandUserPath('~/Music')).toBe(join(home, 'Music'));
      expect(expandUserPath('Other')).toBe(join(home, 'Other'));
    } finally {
      process.env.HOME = saved;
    }
  });
});

describe('Folders.add with user paths', () => {
  const services = createToolServices(join(root, 'data'));
  afterAll(() => services.close());

  it('adds ~/..., relative and symlinked folders as real paths', async () => {
    const a = await services.music.folders.add('~/Music/Jazz', home);
    expect(a.path).toBe(join(home, 'Music', 'Jazz'));
    const b = await services.music.folders.add('Other', home);
    expect(b.path).toBe(join(home, 'Other'));
    // A link to a folder that holds one already in the library overlaps it.
    await expect(services.music.folders.add('~/Tunes', home)).rejects.toMatchObject({ code: 'conflict' });
  });

  it('refuses what does not exist, and a file, with folder_not_found naming the expanded path', async () => {
    await expect(services.music.folders.add('~/Nope', home)).rejects.toMatchObject({ code: 'folder_not_found', statusCode: 404, message: expect.stringContaining(join(home, 'Nope')) });
    await expect(services.music.folders.add('notes.txt', home)).rejects.toMatchObject({ code: 'folder_not_found', message: expect.stringContaining('is a file') });
    expect(services.music.folders.list().map((f) => f.path)).toEqual([join(home, 'Music', 'Jazz'), join(home, 'Other')]);
  });
});
