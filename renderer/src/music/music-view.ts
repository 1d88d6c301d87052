// <wf-music-view>: the library (search: track-table; folders and scans: library-folders), playlists
// (playlist-panel), the queue and the player (routes: /api/music/*, src/server/routes/music.ts). The backend's player is the one truth of what is queued and playing (the
// assistant can change it too); this view follows its event stream and plays the current track through
// <audio>, streamed from the Range route (see shared/media-auth.ts for how the token gets there).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import { api, notify, reportError } from '../store.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { mediaUrl } from '../shared/media-auth.js';
import { baseStyles } from '../shared/styles.js';
import { deleteWithUndo } from '../shared/undo.js';
import { followPlayer } from './player-events.js';
import { playlistApi } from './playlist-api.js';
import './library-folders.js';
import './player.js';
import './playlist-panel.js';
import './track-table.js';
import type { LibraryFolder, PlayerState, Playlist, PlaylistWithTracks, Track } from '../../../src/tools/music/types.js';

export class MusicView extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _folders: { state: true },
    _tracks: { state: true },
    _total: { state: true },
    _query: { state: true },
    _player: { state: true },
    _src: { state: true },
    _playerError: { state: true },
    _scanning: { state: true },
    _unavailable: { state: true },
    _playlists: { state: true },
    _open: { state: true },
  };

  active = false;
  _folders: LibraryFolder[] = [];
  _tracks: Track[] = [];
  _total = 0;
  _query = '';
  _player: PlayerState | null = null;
  _src: string | null = null;
  _playerError: string | null = null;
  _scanning = false;
  _unavailable = false;
  _playlists: Playlist[] = [];
  _open: PlaylistWithTracks | null = null;
  /** Playlists waiting out their undo time. */
  #hiddenLists = new Set<number>();
  #events: AbortController | null = null;
  #srcTrack: number | null = null;
  #searchTimer: ReturnType<typeof setTimeout> | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .layout {
        display: grid;
        gap: 1rem;
        grid-template-columns: minmax(0, 1fr) minmax(280px, 360px);
        align-items: start;
      }
      /* minmax(0, …) and min-width: 0 let the cards shrink to a narrow window; wide tables scroll inside. */
      .layout > * {
        min-width: 0;
      }
      @media (max-width: 1000px) {
        .layout {
          grid-template-columns: minmax(0, 1fr);
        }
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) {
      void this.refresh().then(() => this.#follow());
    }
  }

  override disconnectedCallback(): void {
    this.#events?.abort();
    super.disconnectedCallback();
  }

  async refresh(): Promise<void> {
    try {
      const [folders, tracks, player, playlists] = await Promise.all([
        api().get<{ folders: LibraryFolder[]; scanning: boolean }>('/api/music/folders'),
        api().get<{ tracks: Track[]; total: number }>('/api/music/tracks', { query: { q: this._query, limit: 200 } }),
        api().get<PlayerState>('/api/music/player'),
        playlistApi.list(),
      ]);
      this._playlists = playlists.filter((p) => !this.#hiddenLists.has(p.id));
      if (this._open) this._open = playlists.some((p) => p.id === this._open!.id) ? await playlistApi.get(this._open.id) : null;
      this._folders = folders.folders;
      this._tracks = tracks.tracks;
      this._total = tracks.total;
      this.#applyPlayer(player);
    } catch (err) {
      if (err instanceof ApiError && err.isMissingRoute) this._unavailable = true;
      else reportError(err, 'Could not load the music library');
    }
  }

  async #search(): Promise<void> {
    try {
      const tracks = await api().get<{ tracks: Track[]; total: number }>('/api/music/tracks', { query: { q: this._query, limit: 200 } });
      this._tracks = tracks.tracks;
      this._total = tracks.total;
    } catch (err) {
      reportError(err, 'Search failed');
    }
  }

  /** Follows the backend's player (the assistant may change it). */
  #follow(): void {
    if (this._unavailable || this.#events) return;
    this.#events = new AbortController();
    followPlayer(this.#events.signal, (state) => this.#applyPlayer(state));
  }

  #applyPlayer(state: PlayerState): void {
    if (this._player && state.version < this._player.version) return; // stale
    const trackId = state.nowPlaying?.id ?? null;
    if (trackId !== this.#srcTrack) {
      this.#srcTrack = trackId;
      this._playerError = null;
      this._src = trackId === null ? null : mediaUrl(api(), `/api/music/tracks/${trackId}/stream`);
    }
    this._player = state;
  }

  async #player(action: string, body?: unknown): Promise<void> {
    try {
      const state =
        action === 'clear'
          ? await api().delete<PlayerState>('/api/music/player/queue')
          : action.startsWith('remove:')
            ? await api().delete<PlayerState>(`/api/music/player/queue/${action.slice(7)}`)
            : await api().post<PlayerState>(`/api/music/player/${action}`, body ?? {});
      this.#applyPlayer(state);
    } catch (err) {
      reportError(err, 'The player could not do that');
    }
  }

  async #addFolder(path: string, done: (error: string | null) => void): Promise<void> {
    this._scanning = true;
    try {
      const r = await api().post<{ folder: LibraryFolder; scan?: { added: number; failed: unknown[] } }>('/api/music/folders', { path, scan: true });
      done(null);
      notify('success', `Added ${r.folder.path}: ${r.scan?.added ?? 0} tracks${r.scan?.failed.length ? `, ${r.scan.failed.length} unreadable` : ''}.`);
      await this.refresh();
    } catch (err) {
      // A path the user typed that does not exist is said next to the field, where it can be fixed.
      if (err instanceof ApiError && err.status < 500 && err.status !== 401) done(err.message);
      else reportError(err, 'Could not add the folder');
    } finally {
      this._scanning = false;
    }
  }

  /** Runs a playlist change and shows its result; refreshes the list when names or counts change. */
  async #playlist(what: string, fn: () => Promise<PlaylistWithTracks | null>, done?: (ok: boolean) => void): Promise<void> {
    try {
      const open = await fn();
      if (open) this._open = open;
      done?.(true);
      this._playlists = (await playlistApi.list()).filter((p) => !this.#hiddenLists.has(p.id));
    } catch (err) {
      done?.(false);
      reportError(err, what);
    }
  }

  #deletePlaylist(p: Playlist): void {
    deleteWithUndo({
      message: `Deleted the playlist "${p.name}".`,
      failure: 'Could not delete the playlist',
      hide: () => {
        this.#hiddenLists.add(p.id);
        this._playlists = this._playlists.filter((x) => x.id !== p.id);
        if (this._open?.id === p.id) this._open = null;
      },
      restore: () => {
        this.#hiddenLists.delete(p.id);
        void this.refresh();
      },
      commit: async () => {
        await playlistApi.remove(p.id);
        this.#hiddenLists.delete(p.id);
      },
    });
  }

  async #playPlaylist(p: PlaylistWithTracks): Promise<void> {
    try {
      this.#applyPlayer(await playlistApi.play(p));
    } catch (err) {
      reportError(err, 'Could not play the playlist');
    }
  }

  async #rescan(): Promise<void> {
    this._scanning = true;
    try {
      const r = await api().post<{ results: { added: number; updated: number; removed: number }[] }>('/api/music/scan', {});
      const sum = (k: 'added' | 'updated' | 'removed') => r.results.reduce((n, x) => n + x[k], 0);
      notify('success', `Scan done: ${sum('added')} added, ${sum('updated')} updated, ${sum('removed')} removed.`);
      await this.refresh();
    } catch (err) {
      reportError(err, 'The scan failed');
    } finally {
      this._scanning = false;
    }
  }

  async #removeFolder(f: LibraryFolder): Promise<void> {
    // The files stay on disk, but the folder's tracks leave the library and the queue.
    if (!(await askConfirm({ title: 'Remove folder', message: `Remove ${f.path} and its tracks from the library? The files themselves are not deleted.`, confirmLabel: 'Remove', danger: true }))) return;
    try {
      await api().delete(`/api/music/folders/${f.id}`);
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not remove the folder');
    }
  }

  override render() {
    if (this._unavailable) return html`<div class="view"><h1 tabindex="-1">Music</h1><p class="unavailable">Music is not available in this backend.</p></div>`;
    const current = this._player?.nowPlaying?.id;
    return html`<div class="view stack">
      <h1 tabindex="-1">Music</h1>
      <div class="layout">
        <div class="stack">
          <section class="card" aria-labelledby="lib-title">
            <div class="row">
              <h2 id="lib-title" class="grow">Library <span class="badge">${this._total} tracks</span></h2>
              <label class="visually-hidden" for="mq">Search music</label>
              <input
                id="mq"
                type="search"
                placeholder="Search title, artist, album"
                .value=${this._query}
                @input=${(e: Event) => {
                  this._query = (e.target as HTMLInputElement).value;
                  if (this.#searchTimer) clearTimeout(this.#searchTimer);
                  this.#searchTimer = setTimeout(() => void this.#search(), 200);
                }}
              />
            </div>
            ${this._tracks.length === 0
              ? html`<p class="muted">${this._query ? 'No matches.' : this._folders.length ? 'No tracks found in the library folders.' : 'Add a folder with music to begin.'}</p>`
              : html`<wf-track-table
                  .tracks=${this._tracks}
                  .current=${current ?? null}
                  .playlist=${this._open?.name ?? null}
                  @track-play=${(e: CustomEvent<{ track: Track }>) => void this.#player('play', { trackId: e.detail.track.id })}
                  @track-queue=${(e: CustomEvent<{ track: Track }>) => void this.#player('queue', { trackIds: [e.detail.track.id] })}
                  @track-add-to-playlist=${(e: CustomEvent<{ track: Track }>) => {
                    const open = this._open;
                    if (open) void this.#playlist('Could not add the track', () => playlistApi.addTracks(open.id, [e.detail.track.id]));
                  }}
                ></wf-track-table>`}
          </section>
          <section class="card" aria-labelledby="folders-title">
            <h2 id="folders-title">Library folders</h2>
            <wf-library-folders
              .folders=${this._folders}
              ?scanning=${this._scanning}
              @folder-add=${(e: CustomEvent<{ path: string; done: (error: string | null) => void }>) => void this.#addFolder(e.detail.path, e.detail.done)}
              @folder-remove=${(e: CustomEvent<{ folder: LibraryFolder }>) => void this.#removeFolder(e.detail.folder)}
              @rescan=${() => void this.#rescan()}
            ></wf-library-folders>
          </section>
        </div>
        <div class="stack">
        <wf-player
          .state=${this._player}
          .src=${this._src}
          .error=${this._playerError}
          @player-play=${() => void this.#player('play')}
          @player-pause=${() => void this.#player('pause')}
          @player-next=${() => void this.#player('next')}
          @player-previous=${() => void this.#player('previous')}
          @player-ended=${() => void this.#player('next')}
          @player-error=${(e: CustomEvent<{ message: string }>) => (this._playerError = e.detail.message)}
          @queue-play=${(e: CustomEvent<{ index: number }>) => void this.#player('play', { index: e.detail.index })}
          @queue-remove=${(e: CustomEvent<{ index: number }>) => void this.#player(`remove:${e.detail.index}`)}
          @queue-clear=${() => void this.#player('clear')}
        ></wf-player>
          <section class="card" aria-labelledby="playlists-title">
            <h2 id="playlists-title">Playlists</h2>
            <wf-playlist-panel
              .playlists=${this._playlists}
              .open=${this._open}
              @playlist-create=${(e: CustomEvent<{ name: string; done: (ok: boolean) => void }>) => void this.#playlist('Could not create the playlist', () => playlistApi.create(e.detail.name), e.detail.done)}
              @playlist-open=${(e: CustomEvent<{ id: number | null }>) => {
                const id = e.detail.id;
                if (id === null) this._open = null;
                else void this.#playlist('Could not open the playlist', () => playlistApi.get(id));
              }}
              @playlist-rename=${(e: CustomEvent<{ id: number; name: string; done: (ok: boolean) => void }>) => void this.#playlist('Could not rename the playlist', () => playlistApi.rename(e.detail.id, e.detail.name), e.detail.done)}
              @playlist-delete=${(e: CustomEvent<{ playlist: Playlist }>) => this.#deletePlaylist(e.detail.playlist)}
              @playlist-play=${(e: CustomEvent<{ playlist: PlaylistWithTracks }>) => void this.#playPlaylist(e.detail.playlist)}
              @item-move=${(e: CustomEvent<{ from: number; to: number }>) => {
                const open = this._open;
                if (open) void this.#playlist('Could not move the track', () => playlistApi.move(open.id, e.detail.from, e.detail.to));
              }}
              @item-remove=${(e: CustomEvent<{ position: number }>) => {
                const open = this._open;
                if (open) void this.#playlist('Could not remove the track', () => playlistApi.removeAt(open.id, e.detail.position));
              }}
            ></wf-playlist-panel>
          </section>
        </div>
      </div>
    </div>`;
  }
}

customElements.define('wf-music-view', MusicView);
