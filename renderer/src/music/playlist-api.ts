// The playlist and player calls of the music screen (routes: /api/music/playlists*, /api/music/player*).
import { api } from '../store.js';
import type { PlayerState, Playlist, PlaylistWithTracks } from '../../../src/tools/music/types.js';

const base = '/api/music/playlists';

export const playlistApi = {
  list: async (): Promise<Playlist[]> => (await api().get<{ playlists: Playlist[] }>(base)).playlists,
  get: (id: number) => api().get<PlaylistWithTracks>(`${base}/${id}`),
  create: (name: string) => api().post<PlaylistWithTracks>(base, { name }),
  rename: (id: number, name: string) => api().patch<PlaylistWithTracks>(`${base}/${id}`, { name }),
  remove: (id: number) => api().delete(`${base}/${id}`),
  addTracks: (id: number, trackIds: number[]) => api().post<PlaylistWithTracks>(`${base}/${id}/tracks`, { trackIds }),
  move: (id: number, from: number, to: number) => api().post<PlaylistWithTracks>(`${base}/${id}/move`, { from, to }),
  removeAt: (id: number, position: number) => api().delete<PlaylistWithTracks>(`${base}/${id}/tracks/${position}`),
  /** Replaces the queue with the playlist's tracks and plays the first. */
  async play(playlist: PlaylistWithTracks): Promise<PlayerState> {
    await api().delete('/api/music/player/queue');
    await api().post('/api/music/player/queue', { trackIds: playlist.items.map((t) => t.id) });
    return api().post<PlayerState>('/api/music/player/play', { index: 0 });
  },
};
