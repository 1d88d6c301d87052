// The music functions the model can call: search, and control of the queue and now-playing state.
import { z } from 'zod';
import { defineTool, type AnyTool } from '../registry.js';
import type { PlayerState } from './player.js';
import type { MusicService } from './service.js';
import type { Track } from './tracks.js';

const brief = (t: Track) => ({
  id: t.id,
  title: t.title,
  artist: t.artist,
  album: t.album,
  genre: t.genre || undefined,
  duration: t.durationMs === null ? undefined : `${Math.floor(t.durationMs / 60000)}:${String(Math.floor((t.durationMs % 60000) / 1000)).padStart(2, '0')}`,
});

const playerBrief = (s: PlayerState) => ({
  playing: s.playing,
  nowPlaying: s.nowPlaying ? brief(s.nowPlaying) : null,
  position: s.index >= 0 ? s.index + 1 : null,
  queueLength: s.queue.length,
});

export function musicTools(music: MusicService): AnyTool[] {
  return [
    defineTool({
      name: 'music_search',
      title: 'Search music',
      description: 'Search the music library by title, artist, album or genre. Returns track ids to play or queue.',
      input: z
        .object({
          query: z.string().max(100).optional().describe('Words matching title, artist, album or genre'),
          artist: z.string().max(100).optional(),
          album: z.string().max(100).optional(),
          genre: z.string().max(100).optional(),
          limit: z.number().int().min(1).max(50).default(10),
        })
        .strict(),
      mutates: false,
      handler: (a) => {
        const r = music.tracks.search({
          ...(a.query ? { q: a.query } : {}),
          ...(a.artist ? { artist: a.artist } : {}),
          ...(a.album ? { album: a.album } : {}),
          ...(a.genre ? { genre: a.genre } : {}),
          limit: a.limit,
        });
        return { total: r.total, tracks: r.tracks.map(brief) };
      },
    }),
    defineTool({
      name: 'music_now_playing',
      title: 'Now playing',
      description: 'What is playing now and how long the queue is.',
      input: z.object({}).strict(),
      mutates: false,
      handler: () => playerBrief(music.player.state()),
    }),
    defineTool({
      name: 'music_play',
      title: 'Play',
      description: 'Play a track now (by id from music_search), or resume playback without an id.',
      input: z.object({ trackId: z.number().int().min(1).optional() }).strict(),
      mutates: false,
      handler: (a) => playerBrief(music.player.play(a.trackId !== undefined ? { trackId: a.trackId } : {})),
    }),
    defineTool({
      name: 'music_pause',
      title: 'Pause music',
      description: 'Pause playback.',
      input: z.object({}).strict(),
      mutates: false,
      handler: () => playerBrief(music.player.pause()),
    }),
    defineTool({
      name: 'music_next',
      title: 'Next track',
      description: 'Skip to the next track in the queue.',
      input: z.object({}).strict(),
      mutates: false,
      handler: () => playerBrief(music.player.next()),
    }),
    defineTool({
      name: 'music_previous',
      title: 'Previous track',
      description: 'Go back to the previous track in the queue.',
      input: z.object({}).strict(),
      mutates: false,
      handler: () => playerBrief(music.player.previous()),
    }),
    defineTool({
      name: 'music_queue',
      title: 'Queue tracks',
      description: 'Add tracks (ids from music_search) to the queue, at the end or to play next.',
      input: z.object({ trackIds: z.array(z.number().int().min(1)).min(1).max(100), next: z.boolean().default(false) }).strict(),
      mutates: false,
      handler: (a) => playerBrief(music.player.enqueue(a.trackIds, { next: a.next })),
    }),
    defineTool({
      name: 'music_list_playlists',
      title: 'List playlists',
      description: 'List the playlists.',
      input: z.object({}).strict(),
      mutates: false,
      handler: () => ({ playlists: music.playlists.list().map((p) => ({ id: p.id, name: p.name, tracks: p.tracks })) }),
    }),
    defineTool({
      name: 'music_play_playlist',
      title: 'Play a playlist',
      description: 'Replace the queue with a playlist and start playing it.',
      input: z.object({ playlistId: z.number().int().min(1) }).strict(),
      mutates: false,
      handler: (a) => {
        const p = music.playlists.get(a.playlistId);
        music.player.clear();
        if (p.items.length === 0) return { ...playerBrief(music.player.state()), note: 'the playlist is empty' };
        music.player.enqueue(p.items.map((t) => t.id));
        return playerBrief(music.player.play({ index: 0 }));
      },
    }),
  ];
}
