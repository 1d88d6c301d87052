// <wf-thinking-block>: a reply's thinking, collapsible. Properties: `text` (the thinking, shown as plain
// text: it is the model's scratch work, not meant as formatted output), `live` (still thinking: the header
// counts the seconds and the block stays open), `durationMs` (how long it thought, once known),
// `startedAt` (Date.now() of the first piece, for the live clock). It opens while live and closes when
// the answer starts; a click or Enter/Space toggles it. Event: `thinking-toggle` ({ open }).
import { LitElement, css, html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { baseStyles } from '../shared/styles.js';

/** "0.4 s", "3.2 s", "12 s", "1 min 5 s". */
export function formatThinkingTime(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)} min ${whole % 60} s`;
}

let nextId = 0;

export class ThinkingBlock extends LitElement {
  static override properties: PropertyDeclarations = {
    text: { type: String },
    live: { type: Boolean, reflect: true },
    durationMs: { type: Number, attribute: 'duration-ms' },
    startedAt: { type: Number, attribute: false },
    _open: { state: true },
  };

  text = '';
  live = false;
  durationMs: number | null = null;
  startedAt: number | null = null;
  _open = false;
  readonly #bodyId = `thinking-${++nextId}`;
  #liveSince = Date.now();
  #timer: ReturnType<typeof setInterval> | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        margin-bottom: 0.4rem;
      }
      button.head {
        padding: 0.15rem 0.4rem 0.15rem 0.2rem;
        border-color: transparent;
        background: transparent;
        color: var(--wf-muted);
        font-size: 0.82rem;
      }
      /* Drawn, not a glyph: fonts draw the triangles at odd sizes and angles. */
      .chev {
        display: inline-block;
        width: 0.4rem;
        height: 0.4rem;
        margin: 0 0.25rem 0 0.2rem;
        border-right: 1.5px solid currentColor;
        border-bottom: 1.5px solid currentColor;
        transform: rotate(-45deg);
        transition: transform 0.15s;
      }
      button[aria-expanded='true'] .chev {
        transform: rotate(45deg);
      }
      :host([live]) .label {
        animation: pulse 1.6s ease-in-out infinite;
      }
      @keyframes pulse {
        50% {
          opacity: 0.45;
        }
      }
      @media (prefers-reduced-motion: reduce) {
        :host([live]) .label,
        .chev {
          animation: none;
          transition: none;
        }
      }
      .body {
        margin: 0.25rem 0 0 0.45rem;
        padding: 0.1rem 0 0.1rem 0.75rem;
        border-left: 2px solid var(--wf-border);
        color: var(--wf-muted);
        font-size: 0.85rem;
        white-space: pre-wrap;
        overflow-wrap: anywhere;
        max-height: 16rem;
        overflow-y: auto;
      }
      .body[hidden] {
        display: none;
      }
    `,
  ];

  get open(): boolean {
    return this._open;
  }

  override disconnectedCallback(): void {
    this.#stopClock();
    super.disconnectedCallback();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('live')) {
      if (this.live) {
        this._open = true;
        this.#liveSince = Date.now();
      } else if (changed.get('live') === true) {
        this._open = false; // the answer started: the thinking steps aside
      }
    }
  }

  protected override updated(): void {
    if (this.live && this.isConnected) this.#startClock();
    else this.#stopClock();
    if (this.live && this._open) {
      const body = this.renderRoot.querySelector('.body');
      if (body) body.scrollTop = body.scrollHeight;
    }
  }

  #startClock(): void {
    this.#timer ??= setInterval(() => this.requestUpdate(), 200);
  }

  #stopClock(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #toggle(): void {
    this._open = !this._open;
    this.dispatchEvent(new CustomEvent('thinking-toggle', { detail: { open: this._open }, bubbles: true, composed: true }));
  }

  #label(): string {
    if (this.live) return `Thinking… ${formatThinkingTime(Date.now() - (this.startedAt ?? this.#liveSince))}`;
    if (this.durationMs != null) return `Thought for ${formatThinkingTime(this.durationMs)}`;
    return 'Thoughts';
  }

  override render() {
    return html`<button
        type="button"
        class="head"
        aria-expanded=${this._open ? 'true' : 'false'}
        aria-controls=${this.#bodyId}
        @click=${this.#toggle}
        data-testid="thinking-toggle"
      >
        <span class="chev" aria-hidden="true"></span>
        <span class="label" data-testid="thinking-label">${this.#label()}</span>
      </button>
      <div id=${this.#bodyId} class="body" role="region" aria-label="Thinking" ?hidden=${!this._open} data-testid="thinking-text">${this.text || nothing}</div>`;
  }
}

customElements.define('wf-thinking-block', ThinkingBlock);
