// <wf-track-table>: library tracks with play, queue and (while a playlist is open) add-to-playlist.
// Properties: `tracks`, `current` (the playing track's id), `playlist` (the open playlist's name, or null).
// Events: `track-play`, `track-queue`, `track-add-to-playlist`, each ({ track }).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { formatDuration } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import type { Track } from '../../../src/tools/music/types.js';

export class TrackTable extends LitElement {
  static override properties: PropertyDeclarations = {
    tracks: { attribute: false },
    current: { attribute: false },
    playlist: { attribute: false },
  };

  tracks: Track[] = [];
  current: number | null = null;
  playlist: string | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
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
    `,
  ];

  #emit(name: string, track: Track): void {
    this.dispatchEvent(new CustomEvent(name, { detail: { track } }));
  }

  override render() {
    return html`<div class="table-wrap">
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
          ${this.tracks.map(
            (t) => html`<tr>
              <td class=${t.id === this.current ? 'playing' : ''}>${t.title}</td>
              <td>${t.artist}</td>
              <td>${t.album}</td>
              <td class="num">${formatDuration(t.durationMs)}</td>
              <td>
                <div class="actions">
                  <button class="small" @click=${() => this.#emit('track-play', t)} aria-label="Play ${t.title}">▶ Play</button>
                  <button class="small ghost" @click=${() => this.#emit('track-queue', t)} aria-label="Add ${t.title} to the queue">+ Queue</button>
                  ${this.playlist !== null
                    ? html`<button class="small ghost" @click=${() => this.#emit('track-add-to-playlist', t)} aria-label="Add ${t.title} to the playlist ${this.playlist}">+ List</button>`
                    : nothing}
                </div>
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }
}

customElements.define('wf-track-table', TrackTable);

declare global {
  interface HTMLElementTagNameMap {
    'wf-track-table': TrackTable;
  }
}
