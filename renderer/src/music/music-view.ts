// <wf-music-view>: the library (folders, scan, search), the queue and the player (routes: /api/music/*,
// src/server/routes/music.ts). The backend's player is the one truth of what is queued and playing (the
// assistant can change it too); this view follows its event stream and plays the current track through
// <audio>, streamed from the Range route (see shared/media-auth.ts for how the token gets there).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import { api, notify, reportError } from '../store.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { formatDuration } from '../shared/format.js';
import { mediaUrl } from '../shared/media-auth.js';
import { baseStyles } from '../shared/styles.js';
import './player.js';
import type { LibraryFolder, PlayerState, Track } from '../../../src/tools/music/types.js';

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
      @media (max-width: 1000px) {
        .layout {
          grid-template-columns: 1fr;
        }
      }
      .table-wrap {
        overflow-x: auto;
        max-height: 60vh;
        overflow-y: auto;
      }
      td .actions {
        display: flex;
        gap: 0.3rem;
        justify-content: flex-end;
      }
      td.playing {
        color: var(--wf-accent);
        font-weight: 600;
      }
      form.folder {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
        align-items: end;
      }
      form.folder label {
        flex: 1;
        min-width: 14rem;
      }
      ul.folders {
        margin: 0 0 0.5rem;
        padding-left: 1.2rem;
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
      const [folders, tracks, player] = await Promise.all([
        api().get<{ folders: LibraryFolder[]; scanning: boolean }>('/api/music/folders'),
        api().get<{ tracks: Track[]; total: number }>('/api/music/tracks', { query: { q: this._query, limit: 200 } }),
        api().get<PlayerState>('/api/music/player'),
      ]);
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
    const signal = this.#events.signal;
    const loop = async () => {
      let delay = 2000;
      while (!signal.aborted) {
        try {
          await api().sse(
            '/api/music/player/events',
            (ev) => {
              delay = 2000;
              if (ev.event !== 'player') return;
              try {
                this.#applyPlayer(JSON.parse(ev.data) as PlayerState);
              } catch {
                /* malformed */
              }
            },
            signal,
          );
        } catch (err) {
          if (signal.aborted || (err instanceof ApiError && (err.isMissingRoute || err.status === 401))) return;
        }
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 60_000);
      }
    };
    void loop();
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

  async #addFolder(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const path = String(new FormData(form).get('path') ?? '').trim();
    if (!path) return;
    this._scanning = true;
    try {
      const r = await api().post<{ folder: LibraryFolder; scan?: { added: number; failed: unknown[] } }>('/api/music/folders', { path, scan: true });
      form.reset();
      notify('success', `Added ${r.folder.path}: ${r.scan?.added ?? 0} tracks${r.scan?.failed.length ? `, ${r.scan.failed.length} unreadable` : ''}.`);
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not add the folder');
    } finally {
      this._scanning = false;
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
              : html`<div class="table-wrap">
                  <table data-testid="tracks">
                    <thead>
                      <tr>
                        <th>Title</th>
                        <th>Artist</th>
                        <th>Album</th>
                        <th class="num">Length</th>
                        <th><span class="visually-hidden">Actions</span></th>
                      </tr>
                    </thead>
                    <tbody>
                      ${this._tracks.map(
                        (t) => html`<tr>
                          <td class=${t.id === current ? 'playing' : ''}>${t.title}</td>
                          <td>${t.artist}</td>
                          <td>${t.album}</td>
                          <td class="num">${formatDuration(t.durationMs)}</td>
                          <td>
                            <div class="actions">
                              <button class="small" @click=${() => void this.#player('play', { trackId: t.id })} aria-label="Play ${t.title}">▶ Play</button>
                              <button class="small ghost" @click=${() => void this.#player('queue', { trackIds: [t.id] })} aria-label="Add ${t.title} to the queue">+ Queue</button>
                            </div>
                          </td>
                        </tr>`,
                      )}
                    </tbody>
                  </table>
                </div>`}
          </section>
          <section class="card" aria-labelledby="folders-title">
            <h2 id="folders-title">Library folders</h2>
            ${this._folders.length
              ? html`<ul class="folders">
                  ${this._folders.map(
                    (f) => html`<li>
                      <span class="mono small">${f.path}</span> <span class="muted small">· ${f.tracks} tracks</span>
                      <button class="ghost small" @click=${() => void this.#removeFolder(f)} aria-label="Remove folder ${f.path}">✕</button>
                    </li>`,
                  )}
                </ul>`
              : nothing}
            <form class="folder" @submit=${(e: Event) => void this.#addFolder(e)}>
              <label>Folder on this computer <input name="path" required placeholder="/home/me/Music" /></label>
              <button class="primary" type="submit" ?disabled=${this._scanning}>${this._scanning ? 'Scanning…' : 'Add folder'}</button>
              ${this._folders.length ? html`<button type="button" @click=${() => void this.#rescan()} ?disabled=${this._scanning}>Rescan</button>` : nothing}
            </form>
          </section>
        </div>
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
      </div>
    </div>`;
  }
}

customElements.define('wf-music-view', MusicView);
