import { mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ToolServices } from '../../src/tools/index.js';
import { parseRange } from '../../src/tools/music/index.js';
import { hasFfmpeg, json, makeApp, makeServices, tempDir, writeMp3, writeWav, writeWithFfmpeg } from './helpers.js';

let root: string;
let lib: string;
let services: ToolServices;
let app: FastifyInstance;
let cleanup: () => void;
let folderId: number;

const ALBUM = join('Miles Quartet', 'Blue Night');
const FORMATS = hasFfmpeg ? 5 : 2;

beforeAll(async () => {
  const t = tempDir('westfall-music-');
  cleanup = t.cleanup;
  root = t.dir;
  lib = join(root, 'library');
  writeMp3(join(lib, ALBUM, '01 Opening.mp3'), { title: 'Opening', artist: 'Miles Quartet', album: 'Blue Night', genre: 'Jazz', track: 1 }, 120);
  writeWav(join(lib, ALBUM, '02 Interlude.wav'), { title: 'Interlude', artist: 'Miles Quartet', album: 'Blue Night', genre: 'Jazz', track: 2 }, 2);
  if (hasFfmpeg) {
    writeWithFfmpeg(join(lib, 'Other', 'storm.flac'), { title: 'Storm', artist: 'Nordic Drums', album: 'Weather', genre: 'Ambient', track: 1 }, 1);
    writeWithFfmpeg(join(lib, 'Other', 'rain.ogg'), { title: 'Rain', artist: 'Nordic Drums', album: 'Weather', genre: 'Ambient', track: 2 }, 1);
    writeWithFfmpeg(join(lib, 'Other', 'sun.m4a'), { title: 'Sun', artist: 'Lisa Pop', album: 'Summer', genre: 'Pop', track: 1 }, 1);
  }
  writeFileSync(join(lib, 'notes.txt'), 'not audio');
  // Outside the library, and links to it.
  writeMp3(join(root, 'outside', 'secret.mp3'), { title: 'Secret', artist: 'Nobody', album: 'Private', genre: 'None' }, 10);
  writeFileSync(join(root, 'outside', 'passwd'), 'root:x:0:0');
  symlinkSync(join(root, 'outside', 'secret.mp3'), join(lib, 'link-out.mp3'));
  symlinkSync(join(root, 'outside'), join(lib, 'dir-out'));
  symlinkSync(join(lib, ALBUM, '01 Opening.mp3'), join(lib, 'link-in.mp3'));

  services = makeServices(join(root, 'data'));
  app = await makeApp(services);
  const res = await app.inject({ method: 'POST', url: '/api/music/folders', payload: { path: lib } });
  expect(res.statusCode).toBe(201);
  folderId = json(res).folder.id;
  expect(json(res).scan).toMatchObject({ added: FORMATS, updated: 0, unchanged: 0, removed: 0, failed: [] });
});

afterAll(async () => {
  await app.close();
  services.close();
  cleanup();
});

describe('library scan', () => {
  it('reads tags and durations of every format, skipping links that leave the folder', () => {
    const { tracks } = services.music.tracks.search({ limit: 100 });
    expect(tracks).toHaveLength(FORMATS);
    const opening = tracks.find((t) => t.title === 'Opening')!;
    expect(opening).toMatchObject({ artist: 'Miles Quartet', album: 'Blue Night', genre: 'Jazz', trackNo: 1, format: 'mp3', relPath: join(ALBUM, '01 Opening.mp3') });
    expect(opening.durationMs).toBeGreaterThan(3000);
    expect(opening.durationMs).toBeLessThan(3300);
    expect(tracks.find((t) => t.title === 'Interlude')).toMatchObject({ format: 'wav', durationMs: 2000, trackNo: 2 });
    if (hasFfmpeg) {
      for (const [title, format] of [['Storm', 'flac'], ['Rain', 'ogg'], ['Sun', 'm4a']]) {
        const t = tracks.find((x) => x.title === title)!;
        expect(t.format).toBe(format);
        expect(t.durationMs).toBeGreaterThan(900);
        expect(t.durationMs).toBeLessThan(1200);
      }
    }
    expect(tracks.some((t) => t.title === 'Secret')).toBe(false);
  });

  it('rescans incrementally: unchanged files are not read again, changed ones are, vanished ones go', async () => {
    const again = await services.music.scan(folderId);
    expect(again[0]).toMatchObject({ added: 0, updated: 0, unchanged: FORMATS, removed: 0 });
    const wav = join(lib, ALBUM, '02 Interlude.wav');
    writeWav(wav, { title: 'Interlude (remaster)', artist: 'Miles Quartet', album: 'Blue Night', genre: 'Jazz', track: 2 }, 3);
    utimesSync(wav, new Date(), new Date(Date.now() + 5000));
    const extra = join(lib, 'extra.wav');
    writeWav(extra, { title: 'Extra', artist: 'X', album: 'Y', genre: 'Z' }, 1);
    const r = (await services.music.scan(folderId))[0]!;
    expect(r).toMatchObject({ added: 1, updated: 1, unchanged: FORMATS - 1, removed: 0 });
    expect(services.music.tracks.search({ q: 'remaster' }).tracks[0]!.durationMs).toBe(3000);
    unlinkSync(extra);
    expect((await services.music.scan(folderId))[0]).toMatchObject({ removed: 1, unchanged: FORMATS });
  });

  it('searches by words, title, artist, album and genre', () => {
    const s = (q: Parameters<typeof services.music.tracks.search>[0]) => services.music.tracks.search(q).tracks.map((t) => t.title.split(' ')[0]);
    expect(s({ q: 'miles blue' })).toEqual(['Opening', 'Interlude']);
    expect(s({ genre: 'jazz' })).toEqual(['Opening', 'Interlude']);
    expect(s({ title: 'open' })).toEqual(['Opening']);
    if (hasFfmpeg) {
      expect(s({ artist: 'nordic' })).toEqual(['Storm', 'Rain']);
      expect(s({ album: 'summer' })).toEqual(['Sun']);
      expect(s({ q: 'ambient rain' })).toEqual(['Rain']);
    }
    expect(s({ q: '100%_' })).toEqual([]);
  });
});

describe('streaming with Range', () => {
  let trackId: number;
  let bytes: Buffer;
  beforeAll(() => {
    const t = services.music.tracks.search({ title: 'Opening' }).tracks[0]!;
    trackId = t.id;
    bytes = readFileSync(join(lib, ALBUM, '01 Opening.mp3'));
  });
  const get = (headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET') =>
    app.inject({ method, url: `/api/music/tracks/${trackId}/stream`, headers });

  it('serves the whole file with Accept-Ranges', async () => {
    const r = await get();
    expect(r.statusCode).toBe(200);
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.headers['content-type']).toBe('audio/mpeg');
    expect(Number(r.headers['content-length'])).toBe(bytes.length);
    expect(r.rawPayload.equals(bytes)).toBe(true);
  });

  it('answers byte ranges with 206 and Content-Range', async () => {
    const first = await get({ range: 'bytes=0-99' });
    expect(first.statusCode).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-99/${bytes.length}`);
    expect(first.rawPayload.equals(bytes.subarray(0, 100))).toBe(true);
    const open = await get({ range: 'bytes=1000-' });
    expect(open.statusCode).toBe(206);
    expect(open.rawPayload.equals(bytes.subarray(1000))).toBe(true);
    const suffix = await get({ range: 'bytes=-50' });
    expect(suffix.headers['content-range']).toBe(`bytes ${bytes.length - 50}-${bytes.length - 1}/${bytes.length}`);
    expect(suffix.rawPayload.equals(bytes.subarray(-50))).toBe(true);
    const past = await get({ range: `bytes=10-${bytes.length + 500}` });
    expect(past.statusCode).toBe(206);
    expect(past.rawPayload.length).toBe(bytes.length - 10);
  });

  it('416 for a range past the end, 200 for several ranges or a stale If-Range', async () => {
    const r = await get({ range: `bytes=${bytes.length}-` });
    expect(r.statusCode).toBe(416);
    expect(r.headers['content-range']).toBe(`bytes */${bytes.length}`);
    expect(json(r).error.code).toBe('range_not_satisfiable');
    expect((await get({ range: 'bytes=0-1,5-6' })).statusCode).toBe(200);
    expect((await get({ range: 'bytes=0-9', 'if-range': 'W/"stale"' })).statusCode).toBe(200);
    const etag = (await get()).headers.etag as string;
    expect((await get({ range: 'bytes=0-9', 'if-range': etag })).statusCode).toBe(206);
    const head = await get({}, 'HEAD');
    expect(head.statusCode).toBe(200);
    expect(head.rawPayload.length).toBe(0);
    expect(parseRange('bytes=5-2', 10)).toEqual({ kind: 'full' });
    expect(parseRange('bytes=-0', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRange('items=0-1', 10)).toEqual({ kind: 'full' });
  });
});

describe('only files inside library folders are served', () => {
  // Over a real socket with the path sent byte for byte: HTTP clients and app.inject would resolve the
  // dot segments (even %2e%2e) before the request leaves, hiding what an attacker can send.
  let port = 0;
  beforeAll(async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  const file = (path: string) =>
    new Promise<{ statusCode: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'GET', path: `/api/music/folders/${folderId}/files/${path}` }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1'), headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });

  it('serves a file by its relative path', async () => {
    const r = await file('Miles%20Quartet/Blue%20Night/01%20Opening.mp3');
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('audio/mpeg');
    const linkIn = await file('link-in.mp3');
    expect(linkIn.statusCode).toBe(200);
  });

  it.each([
    ['a .. segment', '../outside/secret.mp3'],
    ['a deeper .. segment', 'Miles%20Quartet/../../outside/secret.mp3'],
    ['an encoded ..', '%2e%2e/outside/secret.mp3'],
    ['an encoded .. with an encoded slash', '%2e%2e%2foutside%2fsecret.mp3'],
    ['an uppercase encoded ..', '%2E%2E/%2E%2E/%2E%2E/etc/passwd'],
    ['a double-encoded ..', '%252e%252e/outside/secret.mp3'],
    ['backslashes', '..%5coutside%5csecret.mp3'],
    ['an absolute path', '%2Fetc%2Fpasswd'],
    ['a symlink to a file outside', 'link-out.mp3'],
    ['a path through a symlinked directory', 'dir-out/secret.mp3'],
    ['a file that is not audio', 'notes.txt'],
  ])('refuses %s with 403', async (_what, path) => {
    const r = await file(path);
    expect(r.statusCode).toBe(403);
    expect(json(r).error.code).toBe('path_forbidden');
    expect(r.body).not.toContain('root:x');
  });

  it('404 for a missing file, and a track whose file became a link outside is refused', async () => {
    expect((await file('missing.mp3')).statusCode).toBe(404);
    const target = join(lib, 'swap.mp3');
    writeMp3(target, { title: 'Swap', artist: 'S', album: 'S', genre: 'S' }, 10);
    await services.music.scan(folderId);
    const id = services.music.tracks.search({ title: 'Swap' }).tracks[0]!.id;
    expect((await app.inject({ method: 'GET', url: `/api/music/tracks/${id}/stream` })).statusCode).toBe(200);
    rmSync(target);
    symlinkSync(join(root, 'outside', 'secret.mp3'), target);
    const r = await app.inject({ method: 'GET', url: `/api/music/tracks/${id}/stream` });
    expect(r.statusCode).toBe(403);
    rmSync(target);
    await services.music.scan(folderId);
  });

  it('refuses folders that overlap the library and paths that are not directories', async () => {
    const nested = await app.inject({ method: 'POST', url: '/api/music/folders', payload: { path: join(lib, 'Other') } });
    expect(nested.statusCode).toBe(hasFfmpeg ? 409 : 404);
    // A relative path starts at the home directory; this one does not exist there.
    const missing = await app.inject({ method: 'POST', url: '/api/music/folders', payload: { path: 'no-such-westfall-dir/x' } });
    expect(missing.statusCode).toBe(404);
    expect(json(missing).error).toMatchObject({ code: 'folder_not_found', type: 'not_found_error' });
    expect(json(missing).error.message).toContain(join(homedir(), 'no-such-westfall-dir', 'x'));
    mkdirSync(join(root, 'empty'), { recursive: true });
    const ok = await app.inject({ method: 'POST', url: '/api/music/folders', payload: { path: join(root, 'empty'), scan: false } });
    expect(ok.statusCode).toBe(201);
    expect((await app.inject({ method: 'DELETE', url: `/api/music/folders/${json(ok).folder.id}` })).statusCode).toBe(200);
  });
});

describe('playlists and the player', () => {
  it('keeps a queue and now-playing state with change events', () => {
    const ids = services.music.tracks.search({ genre: 'jazz' }).tracks.map((t) => t.id);
    const player = services.music.player;
    player.clear();
    const states: string[] = [];
    const on = (s: { nowPlaying: { title: string } | null; playing: boolean }) => states.push(`${s.nowPlaying?.title.split(' ')[0] ?? '-'}:${s.playing ? 'play' : 'stop'}`);
    player.on('change', on);
    player.enqueue(ids);
    player.play();
    player.next();
    player.pause();
    player.previous();
    player.play();
    player.next();
    player.next(); // past the end: stops
    player.off('change', on);
    expect(states).toEqual(['-:stop', 'Opening:play', 'Interlude:play', 'Interlude:stop', 'Opening:stop', 'Opening:play', 'Interlude:play', 'Interlude:stop']);
    player.play({ trackId: ids[0]! });
    expect(player.state()).toMatchObject({ index: 2, playing: true });
    expect(player.state().queue.map((t) => t.id)).toEqual([ids[0], ids[1], ids[0]]);
  });

  it('orders, moves and removes playlist items', () => {
    const ids = services.music.tracks.search({}).tracks.map((t) => t.id);
    const p = services.music.playlists.create('Mix', [ids[0]!, ids[1]!]);
    expect(p.items.map((t) => t.id)).toEqual([ids[0], ids[1]]);
    expect(services.music.playlists.addTracks(p.id, [ids[1]!], 0).items.map((t) => t.id)).toEqual([ids[1], ids[0], ids[1]]);
    expect(services.music.playlists.move(p.id, 0, 2).items.map((t) => t.id)).toEqual([ids[0], ids[1], ids[1]]);
    expect(services.music.playlists.removeAt(p.id, 1).items.map((t) => t.id)).toEqual([ids[0], ids[1]]);
    expect(services.music.playlists.list().find((x) => x.id === p.id)).toMatchObject({ tracks: 2 });
    expect(() => services.music.playlists.addTracks(p.id, [99_999])).toThrow(/does not exist/);
  });
});
