// <wf-player>: now playing, the <audio> element, previous/next and the queue. Properties: `state` (the
// backend's PlayerState), `src` (a playable URL for the current track), `error`. Events: `player-previous`,
// `player-next`, `player-play` and `player-pause` (the user used the audio controls), `player-ended`,
// `queue-play` ({ index }), `queue-remove` ({ index }), `queue-clear`. The element follows `state.playing`.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { formatDuration } from '../shared/format.js';
import { icons } from '../shared/icons.js';
import { baseStyles } from '../shared/styles.js';
import type { PlayerState } from '../../../src/tools/music/types.js';

export class Player extends LitElement {
  static override properties: PropertyDeclarations = {
    state: { attribute: false },
    src: { type: String },
    error: { type: String },
  };

  state: PlayerState | null = null;
  src: string | null = null;
  error: string | null = null;
  /** Set while the element is changed from here, so its events are not echoed back as user actions. */
  #applying = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .now {
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .cover {
        width: 48px;
        height: 48px;
        border-radius: 8px;
        background: var(--wf-accent-soft);
        color: var(--wf-accent);
        display: grid;
        place-items: center;
        font-size: 1.4rem;
        flex: none;
      }
      .title {
        font-weight: 600;
      }
      .controls {
        display: flex;
        gap: 0.35rem;
        flex: none;
      }
      .controls button {
        padding: 0.45rem 0.6rem;
      }
      audio {
        width: 100%;
        margin-top: 0.6rem;
      }
      ol {
        margin: 0.5rem 0 0;
        padding-left: 1.5rem;
        max-height: 14rem;
        overflow-y: auto;
      }
      li {
        padding: 0.15rem 0;
      }
      li.current {
        font-weight: 600;
        color: var(--wf-accent);
      }
      li button {
        padding: 0.1rem 0.4rem;
        font-size: 0.8rem;
      }
    `,
  ];

  get audio(): HTMLAudioElement | null {
    return this.renderRoot.querySelector('audio');
  }

  #emit(name: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  protected override updated(changed: Map<string, unknown>): void {
    const audio = this.audio;
    if (!audio) return;
    this.#applying = true;
    try {
      if (changed.has('src')) {
        if (this.src) audio.src = this.src;
        else audio.removeAttribute('src');
      }
      const shouldPlay = this.state?.playing === true && !!this.src;
      if (shouldPlay && audio.paused) void audio.play().catch((err: Error) => this.#emit('player-error', { message: err.message }));
      else if (!shouldPlay && !audio.paused) audio.pause();
    } finally {
      queueMicrotask(() => (this.#applying = false));
    }
  }

  override render() {
    const s = this.state;
    const now = s?.nowPlaying ?? null;
    return html`<section class="card" aria-label="Player" data-testid="player">
      <div class="now">
        <div class="cover" aria-hidden="true">♪</div>
        <div class="grow">
          ${now
            ? html`<div class="title" data-testid="now-playing">${now.title}</div>
                <div class="muted small">${[now.artist, now.album].filter(Boolean).join(' · ') || 'Unknown artist'}</div>`
            : html`<div class="muted">Nothing is playing</div>`}
        </div>
        <div class="controls">
          <button @click=${() => this.#emit('player-previous')} ?disabled=${!s || s.index <= 0} aria-label="Previous track">${icons.previous}</button>
          <button
            class="primary"
            @click=${() => this.#emit(s?.playing ? 'player-pause' : 'player-play')}
            ?disabled=${!s || s.queue.length === 0}
            aria-label=${s?.playing ? 'Pause' : 'Play'}
            data-testid="play-pause"
          >
            ${s?.playing ? icons.pause : icons.play}
          </button>
          <button @click=${() => this.#emit('player-next')} ?disabled=${!s || s.index + 1 >= s.queue.length} aria-label="Next track">${icons.next}</button>
        </div>
      </div>
      <audio
        controls
        preload="metadata"
        aria-label="Audio player"
        @play=${() => !this.#applying && !this.state?.playing && this.#emit('player-play')}
        @pause=${(e: Event) => !this.#applying && this.state?.playing && !(e.target as HTMLAudioElement).ended && this.#emit('player-pause')}
        @ended=${() => this.#emit('player-ended')}
        @error=${() => this.src && this.#emit('player-error', { message: 'The track could not be played.' })}
      ></audio>
      ${this.error ? html`<p class="error-text small" role="alert">${this.error}</p>` : nothing}
      <details ?open=${(s?.queue.length ?? 0) > 0}>
        <summary>Queue (${s?.queue.length ?? 0})</summary>
        <ol aria-label="Queue">
          ${(s?.queue ?? []).map(
            (t, i) => html`<li class=${i === s?.index ? 'current' : ''} aria-current=${i === s?.index ? 'true' : 'false'}>
              ${t.title} <span class="muted small">${t.artist} ${formatDuration(t.durationMs)}</span>
              <button class="ghost" @click=${() => this.#emit('queue-play', { index: i })} aria-label="Play ${t.title} from the queue">${icons.play}</button>
              <button class="ghost" @click=${() => this.#emit('queue-remove', { index: i })} aria-label="Remove ${t.title} from the queue">✕</button>
            </li>`,
          )}
        </ol>
        ${s?.queue.length ? html`<button class="ghost small" @click=${() => this.#emit('queue-clear')}>Clear the queue</button>` : nothing}
      </details>
    </section>`;
  }
}

customElements.define('wf-player', Player);
