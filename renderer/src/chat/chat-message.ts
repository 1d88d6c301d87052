// <wf-chat-message>: one message. Properties: `sender` (the message's role), `content`, `streaming`, `stopReason`, `error`,
// `stats` (tokens/s etc.), `canRegenerate`, and the thinking of an assistant message: `reasoning`,
// `thinkingLive`, `thinkingMs`, `thinkingStartedAt`; `warning`. Events: `copy-message` and `regenerate` (both
// bubble, composed). Assistant text is rendered as sanitized markdown; user text as plain text; the
// thinking sits above the answer in a <wf-thinking-block>.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { baseStyles } from '../shared/styles.js';
import { markdownStyles, renderMarkdown } from './markdown.js';
import './thinking-block.js';

export interface MessageStats {
  completionTokens: number;
  tokensPerSecond: number;
  timeToFirstTokenMs: number;
}

const STOP_TEXT: Record<string, string> = {
  aborted: 'Stopped',
  max_tokens: 'Reached the token limit',
  context_full: 'The context is full',
  step_limit: 'Stopped after the most tool steps',
};

export class ChatMessageView extends LitElement {
  static override properties: PropertyDeclarations = {
    sender: { type: String, reflect: true },
    content: { type: String },
    streaming: { type: Boolean, reflect: true },
    stopReason: { type: String, attribute: 'stop-reason', reflect: true },
    error: { type: String },
    stats: { attribute: false },
    canRegenerate: { type: Boolean, attribute: 'can-regenerate' },
    reasoning: { type: String },
    thinkingLive: { type: Boolean, attribute: 'thinking-live' },
    thinkingMs: { type: Number, attribute: false },
    thinkingStartedAt: { type: Number, attribute: false },
    warning: { type: String },
  };

  sender: 'user' | 'assistant' | 'system' | 'tool' = 'assistant';
  content = '';
  streaming = false;
  stopReason: string | null = null;
  error: string | null = null;
  stats: MessageStats | null = null;
  canRegenerate = false;
  reasoning = '';
  thinkingLive = false;
  thinkingMs: number | null = null;
  thinkingStartedAt: number | null = null;
  warning: string | null = null;
  #html = '';
  #htmlFor: string | null = null;

  static override styles = [
    baseStyles,
    markdownStyles,
    css`
      :host {
        display: flex;
        gap: 0.75rem;
        padding: 0.25rem 0;
      }
      :host([sender='user']) {
        flex-direction: row-reverse;
      }
      .avatar {
        flex: none;
        width: 30px;
        height: 30px;
        border-radius: 50%;
        display: grid;
        place-items: center;
        font-size: 0.8rem;
        font-weight: 700;
        background: var(--wf-accent-soft);
        color: var(--wf-accent);
      }
      :host([sender='user']) .avatar {
        background: var(--wf-surface-2);
        color: var(--wf-muted);
      }
      .bubble {
        max-width: min(760px, 85%);
        background: var(--wf-surface);
        border: 1px solid var(--wf-border);
        border-radius: 12px;
        padding: 0.6rem 0.85rem;
        min-width: 3rem;
      }
      :host([sender='user']) .bubble {
        background: var(--wf-accent-soft);
        border-color: transparent;
      }
      .user-text {
        white-space: pre-wrap;
        overflow-wrap: anywhere;
      }
      .cursor {
        display: inline-block;
        width: 0.5em;
        height: 1em;
        vertical-align: text-bottom;
        background: var(--wf-accent);
        animation: blink 1s steps(2) infinite;
        margin-left: 2px;
      }
      @keyframes blink {
        50% {
          opacity: 0;
        }
      }
      @media (prefers-reduced-motion: reduce) {
        .cursor {
          animation: none;
        }
      }
      footer {
        display: flex;
        align-items: center;
        gap: 0.25rem;
        margin-top: 0.35rem;
        font-size: 0.78rem;
        color: var(--wf-muted);
        flex-wrap: wrap;
      }
      footer button {
        padding: 0.15rem 0.45rem;
        font-size: 0.78rem;
      }
      .stop {
        font-style: italic;
      }
      .error-text {
        margin-top: 0.35rem;
      }
      .warning {
        color: var(--wf-warning);
      }
    `,
  ];

  #rendered(): string {
    if (this.#htmlFor !== this.content) {
      this.#html = renderMarkdown(this.content);
      this.#htmlFor = this.content;
    }
    return this.#html;
  }

  #emit(name: string): void {
    this.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true }));
  }

  #thinking() {
    if (this.sender !== 'assistant' || (!this.reasoning && !this.thinkingLive)) return nothing;
    return html`<wf-thinking-block
      .text=${this.reasoning}
      ?live=${this.thinkingLive}
      .durationMs=${this.thinkingMs}
      .startedAt=${this.thinkingStartedAt}
    ></wf-thinking-block>`;
  }

  #footer() {
    // A step of a tool-using reply that only thought before its calls has nothing to copy or report.
    if (!this.content && !this.error && !this.stopReason && !this.stats && !this.canRegenerate && !this.warning) return nothing;
    const notes = [
      this.stopReason && STOP_TEXT[this.stopReason] ? html`<span class="stop" data-testid="stop-reason">${STOP_TEXT[this.stopReason]}</span>` : null,
      this.warning ? html`<span class="warning" title=${this.warning} data-testid="format-warning">Not in the model's format</span>` : null,
      this.stats
        ? html`<span title="time to first token ${Math.round(this.stats.timeToFirstTokenMs)} ms"
            >${this.stats.completionTokens} tokens · ${this.stats.tokensPerSecond.toFixed(1)} tok/s</span
          >`
        : null,
    ].filter((n) => n !== null);
    return html`<footer>
      ${notes.map((n, i) => (i === 0 ? n : html` · ${n}`))}
      <span class="grow"></span>
      <button class="ghost" @click=${() => this.#emit('copy-message')} aria-label="Copy message" ?disabled=${!this.content}>Copy</button>
      ${this.canRegenerate ? html`<button class="ghost" @click=${() => this.#emit('regenerate')} aria-label="Regenerate response">Regenerate</button>` : nothing}
    </footer>`;
  }

  override render() {
    const assistant = this.sender === 'assistant';
    const label = assistant ? 'Assistant' : this.sender === 'user' ? 'You' : this.sender;
    // While it only thinks, the cursor stays out of the answer: the thinking block shows the progress.
    const answer = assistant && (this.content || (this.streaming && !this.thinkingLive) || !this.reasoning);
    return html`
      <div class="avatar" aria-hidden="true">${assistant ? 'W' : 'You'}</div>
      <article class="bubble" aria-label="${label} message" aria-busy=${this.streaming ? 'true' : 'false'}>
        ${this.#thinking()}
        ${answer
          ? html`<div class="md" data-testid="assistant-text">${unsafeHTML(this.#rendered())}${this.streaming ? html`<span class="cursor" aria-hidden="true"></span>` : nothing}</div>`
          : assistant
            ? nothing
            : html`<div class="user-text">${this.content}</div>`}
        ${this.error ? html`<div class="error-text" role="alert">${this.error}</div>` : nothing}
        ${assistant && !this.streaming ? this.#footer() : nothing}
      </article>
    `;
  }
}

customElements.define('wf-chat-message', ChatMessageView);
