// /api/music: library folders and scans, track search, playlists, the queue and now-playing state (with a
// Server-Sent Events stream of its changes), and audio streaming with HTTP Range support. Only files
// inside a library folder are served: '..' segments, encoded traversal and symlinks that lead outside are
// refused with 403 path_forbidden.
import { createReadStream } from 'node:fs';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ToolError } from '../../tools/errors.js';
import { parseRange, type MusicService, type PlayerState, type ServableFile } from '../../tools/music/index.js';
import { parseWith, sendError } from '../errors.js';
import { defined, eventStreams, idParams, limitQuery, offsetQuery } from './tool-helpers.js';

export interface MusicRoutesOptions {
  music: MusicService;
  heartbeatMs?: number;
}

const trackIds = z.array(z.number().int().min(1)).max(10_000);

/** Sends a file with Range support (206 partial, 416 unsatisfiable, Accept-Ranges, ETag/If-Range). */
export function serveFile(request: FastifyRequest, reply: FastifyReply, file: ServableFile): FastifyReply {
  const etag = `W/"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`;
  const ifRange = request.headers['if-range'];
  const rangeHeader = ifRange !== undefined && ifRange !== etag ? undefined : request.headers.range;
  const range = parseRange(rangeHeader, file.size);
  reply.header('accept-ranges', 'bytes').header('etag', etag).header('last-modified', new Date(file.mtimeMs).toUTCString());
  if (range.kind === 'unsatisfiable') {
    reply.header('content-range', `bytes */${file.size}`);
    return sendError(request, reply, new ToolError('range_not_satisfiable', `the range ${String(request.headers.range)} is outside the file (${file.size} bytes)`, { details: { size: file.size } }));
  }
  reply.header('content-type', file.mime).header('cache-control', 'private, no-cache');
  if (range.kind === 'partial') {
    reply
      .code(206)
      .header('content-range', `bytes ${range.start}-${range.end}/${file.size}`)
      .header('content-length', String(range.end - range.start + 1));
    return reply.send(request.method === 'HEAD' ? '' : createReadStream(file.path, { start: range.start, end: range.end }));
  }
  reply.code(200).header('content-length', String(file.size));
  return reply.send(request.method === 'HEAD' || file.size === 0 ? '' : createReadStream(file.path));
}

const musicRoutes: FastifyPluginAsync<MusicRoutesOptions> = async (app, { music, heartbeatMs }) => {
  const streams = eventStreams(app, defined({ heartbeatMs }));

  // Folders and scans
  app.get('/api/music/folders', async () => ({ folders: music.folders.list(), scanning: music.scanner.scanning }));
  app.post('/api/music/folders', async (req, reply) => {
    const body = parseWith(z.object({ path: z.string().min(1).max(4096), scan: z.boolean().default(true) }).strict(), req.body);
    const folder = await music.folders.add(body.path);
    const scan = body.scan ? (await music.scan(folder.id))[0] : undefined;
    reply.code(201);
    return { folder: music.folders.get(folder.id), ...(scan ? { scan } : {}) };
  });
  app.delete('/api/music/folders/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    music.folders.remove(id);
    music.player.prune();
    return { deleted: id };
  });
  app.post('/api/music/scan', async (req) => {
    const body = parseWith(z.object({ folderId: z.number().int().min(1).optional() }).strict(), req.body ?? {});
    return { results: await music.scan(body.folderId) };
  });

  // Tracks
  app.get('/api/music/tracks', async (req) => {
    const q = parseWith(
      z.object({
        q: z.string().max(200).optional(),
        title: z.string().max(200).optional(),
        artist: z.string().max(200).optional(),
        album: z.string().max(200).optional(),
        genre: z.string().max(200).optional(),
        folderId: z.coerce.number().int().min(1).optional(),
        limit: limitQuery.default(100),
        offset: offsetQuery.default(0),
      }),
      req.query,
      'query',
    );
    return music.tracks.search(defined(q));
  });
  app.get('/api/music/facets/:field', async (req) => {
    const { field } = parseWith(z.object({ field: z.enum(['artist', 'album', 'genre']) }), req.params, 'parameters');
    return { field, values: music.tracks.facets(field) };
  });
  app.get('/api/music/tracks/:id', async (req) => music.tracks.get(parseWith(idParams, req.params, 'parameters').id));
  app.get('/api/music/tracks/:id/stream', { config: { queryToken: true } }, async (req, reply) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    return serveFile(req, reply, await music.trackFile(id));
  });
  app.get('/api/music/folders/:id/files/*', async (req, reply) => {
    const p = parseWith(z.object({ id: z.coerce.number().int().min(1), '*': z.string().min(1).max(4096) }), req.params, 'parameters');
    // The router decoded the path once; a raw URL that still carries an encoded dot-dot after that is refused too.
    return serveFile(req, reply, await music.folderFile(p.id, p['*']));
  });

  // Playlists
  app.get('/api/music/playlists', async () => ({ playlists: music.playlists.list() }));
  app.post('/api/music/playlists', async (req, reply) => {
    const body = parseWith(z.object({ name: z.string().min(1).max(200), trackIds: trackIds.default([]) }).strict(), req.body);
    reply.code(201);
    return music.playlists.create(body.name, body.trackIds);
  });
  app.get('/api/music/playlists/:id', async (req) => music.playlists.get(parseWith(idParams, req.params, 'parameters').id));
  app.patch('/api/music/playlists/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    const body = parseWith(z.object({ name: z.string().min(1).max(200).optional(), trackIds: trackIds.optional() }).strict(), req.body);
    if (body.name !== undefined) music.playlists.rename(id, body.name);
    if (body.trackIds !== undefined) music.playlists.setTracks(id, body.trackIds);
    return music.playlists.get(id);
  });
  app.post('/api/music/playlists/:id/tracks', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    const body = parseWith(z.object({ trackIds: trackIds.min(1), position: z.number().int().min(0).optional() }).strict(), req.body);
    return music.playlists.addTracks(id, body.trackIds, body.position);
  });
  app.post('/api/music/playlists/:id/move', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    const body = parseWith(z.object({ from: z.number().int().min(0), to: z.number().int().min(0) }).strict(), req.body);
    return music.playlists.move(id, body.from, body.to);
  });
  app.delete('/api/music/playlists/:id/tracks/:position', async (req) => {
    const p = parseWith(z.object({ id: z.coerce.number().int().min(1), position: z.coerce.number().int().min(0) }), req.params, 'parameters');
    return music.playlists.removeAt(p.id, p.position);
  });
  app.delete('/api/music/playlists/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    music.playlists.delete(id);
    return { deleted: id };
  });

  // Player
  app.get('/api/music/player', async () => music.player.state());
  app.post('/api/music/player/play', async (req) => {
    const body = parseWith(z.object({ trackId: z.number().int().min(1).optional(), index: z.number().int().min(0).optional() }).strict(), req.body ?? {});
    return music.player.play(defined(body));
  });
  app.post('/api/music/player/pause', async () => music.player.pause());
  app.post('/api/music/player/next', async () => music.player.next());
  app.post('/api/music/player/previous', async () => music.player.previous());
  app.post('/api/music/player/queue', async (req) => {
    const body = parseWith(z.object({ trackIds: trackIds.min(1), next: z.boolean().default(false) }).strict(), req.body);
    return music.player.enqueue(body.trackIds, { next: body.next });
  });
  app.delete('/api/music/player/queue/:index', async (req) => {
    const { index } = parseWith(z.object({ index: z.coerce.number().int().min(0) }), req.params, 'parameters');
    return music.player.remove(index);
  });
  app.delete('/api/music/player/queue', async () => music.player.clear());
  app.get('/api/music/player/events', async (req, reply) => {
    const onChange = (s: PlayerState) => stream.send('player', s);
    const stream = streams.open(req, reply, () => music.player.off('change', onChange));
    music.player.on('change', onChange);
    stream.send('player', music.player.state());
    return reply;
  });
};

export default musicRoutes;
export { musicRoutes };
