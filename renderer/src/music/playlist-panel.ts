// <wf-playlist-panel>: playlists: create, open, rename, delete, play; the open one's tracks can be moved up
// or down and removed (tracks are added from the library table). Properties: `playlists`, `open` (the
// open playlist with its items, or null). Events: `playlist-create` ({ name, done }), `playlist-open`
// ({ id | null }), `playlist-rename` ({ id, name, done }), `playlist-delete` ({ playlist }),
// `playlist-play` ({ playlist }), `item-move` ({ from, to }), `item-remove` ({ position }).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { formatDuration } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import type { Playlist, PlaylistWithTracks } from '../../../src/tools/music/types.js';

export class PlaylistPanel extends LitElement {
  static override properties: PropertyDeclarations = {
    playlists: { attribute: false },
    open: { attribute: false },
    _renaming: { state: true },
  };

  playlists: Playlist[] = [];
  open: PlaylistWithTracks | null = null;
  _renaming = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      ul.lists,
      ol.items {
        margin: 0 0 0.75rem;
        padding: 0;
        list-style: none;
        display: grid;
        gap: 0.25rem;
      }
      ol.items li,
      ul.lists li {
        display: flex;
        gap: 0.4rem;
        align-items: center;
      }
      ol.items .title,
      ul.lists .name {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      ul.lists button.name {
        text-align: left;
      }
      ul.lists li.open button.name {
        font-weight: 700;
      }
      form {
        display: flex;
        gap: 0.4rem;
        align-items: end;
        flex-wrap: wrap;
      }
      form label {
        flex: 1;
        min-width: 10rem;
      }
      .row {
        flex-wrap: wrap;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('open') && (changed.get('open') as PlaylistWithTracks | null)?.id !== this.open?.id) this._renaming = false;
  }

  #emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  #create(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const name = String(new FormData(form).get('name') ?? '').trim();
    if (name) this.#emit('playlist-create', { name, done: (ok: boolean) => ok && form.reset() });
  }

  #rename(e: Event, p: PlaylistWithTracks): void {
    e.preventDefault();
    const name = String(new FormData(e.target as HTMLFormElement).get('name') ?? '').trim();
    if (!name || name === p.name) return void (this._renaming = false);
    this.#emit('playlist-rename', { id: p.id, name, done: (ok: boolean) => ok && (this._renaming = false) });
  }

  #openList(p: PlaylistWithTracks) {
    const n = p.items.length;
    return html`<div class="stack" data-testid="playlist">
      ${this._renaming
        ? html`<form @submit=${(e: Event) => this.#rename(e, p)} aria-label="Rename the playlist">
            <label>New name <input name="name" required maxlength="200" .value=${p.name} /></label>
            <button class="primary" type="submit">Rename</button>
            <button type="button" @click=${() => (this._renaming = false)}>Cancel</button>
          </form>`
        : html`<div class="row">
            <h3 class="grow">${p.name} <span class="muted small">· ${n} tracks · ${formatDuration(p.durationMs)}</span></h3>
            <button class="primary small" ?disabled=${n === 0} @click=${() => this.#emit('playlist-play', { playlist: p })} aria-label="Play the playlist ${p.name}">▶ Play</button>
            <button class="small" @click=${() => (this._renaming = true)}>Rename</button>
            <button class="ghost small" @click=${() => this.#emit('playlist-delete', { playlist: p })} aria-label="Delete the playlist ${p.name}">Delete</button>
          </div>`}
      ${n === 0
        ? html`<p class="muted small">Empty: add tracks with “+ List” in the library.</p>`
        : html`<ol class="items" aria-label="Tracks of ${p.name}">
            ${p.items.map(
              (t, i) => html`<li data-testid="playlist-item" data-title=${t.title}>
                <span class="muted small">${i + 1}.</span>
                <span class="title">${t.title} <span class="muted small">· ${t.artist}</span></span>
                <button class="ghost small" ?disabled=${i === 0} @click=${() => this.#emit('item-move', { from: i, to: i - 1 })} aria-label="Move ${t.title} up">↑</button>
                <button class="ghost small" ?disabled=${i === n - 1} @click=${() => this.#emit('item-move', { from: i, to: i + 1 })} aria-label="Move ${t.title} down">↓</button>
                <button class="ghost small" @click=${() => this.#emit('item-remove', { position: i })} aria-label="Remove ${t.title} from the playlist">✕</button>
              </li>`,
            )}
          </ol>`}
    </div>`;
  }

  override render() {
    return html`${this.playlists.length
        ? html`<ul class="lists" aria-label="Playlists">
            ${this.playlists.map(
              (p) => html`<li class=${this.open?.id === p.id ? 'open' : ''}>
                <button
                  class="ghost name"
                  aria-pressed=${this.open?.id === p.id ? 'true' : 'false'}
                  @click=${() => this.#emit('playlist-open', { id: this.open?.id === p.id ? null : p.id })}
                >
                  ${p.name}
                </button>
                <span class="muted small">${p.tracks} tracks</span>
              </li>`,
            )}
          </ul>`
        : html`<p class="muted small">No playlists yet.</p>`}
      ${this.open ? this.#openList(this.open) : nothing}
      <form @submit=${(e: Event) => this.#create(e)} aria-label="New playlist">
        <label>Playlist name <input name="name" required maxlength="200" /></label>
        <button type="submit">Create playlist</button>
      </form>`;
  }
}

customElements.define('wf-playlist-panel', PlaylistPanel);

declare global {
  interface HTMLElementTagNameMap {
    'wf-playlist-panel': PlaylistPanel;
  }
}
