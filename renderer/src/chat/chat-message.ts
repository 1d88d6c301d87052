// <wf-chat-message>: one message. Properties: `sender` (the message's role), `content`, `streaming`, `stopReason`, `error`,
// `stats` (tokens/s etc.), `canRegenerate`, and the thinking of an assistant message: `reasoning`,
// `thinkingLive`, `thinkingMs`, `thinkingStartedAt`; `warning`; `dropped` (older messages the model did not
// see); `branchIndex`/`branchCount` (its place among its alternatives); `canEdit` (a question); `locked`. Events:
// `copy-message`, `regenerate`, `edit-message` ({ text }) and `branch-step` (from <wf-branch-switcher>), all
// bubbling and composed. Assistant text is rendered as sanitized markdown; user text as plain text; the
// thinking sits above the answer in a <wf-thinking-block>. Edit turns a question into a text box: saving
// sends it as a new version (the original stays, one arrow away).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { unsafeHTML } from 'lit/directives/unsafe-html.js';
import { baseStyles } from '../shared/styles.js';
import { markdownStyles, renderMarkdown } from './markdown.js';
import './branch-switcher.js';
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
    dropped: { type: Number, attribute: false },
    branchIndex: { type: Number, attribute: false },
    branchCount: { type: Number, attribute: false },
    canEdit: { type: Boolean, attribute: 'can-edit' },
    locked: { type: Boolean },
    _editing: { state: true },
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
  dropped: number | null = null;
  branchIndex = 0;
  branchCount = 1;
  canEdit = false;
  /** A reply is in flight: no switching branches. */
  locked = false;
  _editing = false;
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
      .edit textarea {
        width: min(640px, 70vw);
        min-height: 4rem;
        font: inherit;
      }
      .edit .actions {
        display: flex;
        gap: 0.4rem;
        justify-content: flex-end;
        margin-top: 0.35rem;
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

  #emit(name: string, detail?: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }

  #branches() {
    return this.branchCount > 1
      ? html`<wf-branch-switcher .index=${this.branchIndex} .count=${this.branchCount} ?disabled=${this.locked}></wf-branch-switcher>`
      : nothing;
  }

  #saveEdit(): void {
    const text = this.renderRoot.querySelector<HTMLTextAreaElement>('.edit textarea')?.value.trim() ?? '';
    if (!text) return;
    this._editing = false;
    this.#emit('edit-message', { text });
  }

  #editor() {
    return html`<div class="edit">
      <textarea
        aria-label="Edit your message"
        .value=${this.content}
        @keydown=${(e: KeyboardEvent) => {
          if (e.key === 'Escape') this._editing = false;
          else if (e.key === 'Enter' && !e.shiftKey) {
            e.preventDefault();
            this.#saveEdit();
          }
        }}
      ></textarea>
      <div class="actions">
        <button class="ghost" @click=${() => (this._editing = false)}>Cancel</button>
        <button class="primary" @click=${() => this.#saveEdit()}>Save and send</button>
      </div>
    </div>`;
  }

  protected override updated(changed: Map<string, unknown>): void {
    if (changed.has('_editing') && this._editing) this.renderRoot.querySelector<HTMLTextAreaElement>('.edit textarea')?.focus();
  }

  #userFooter() {
    return html`<footer>
      ${this.#branches()}
      <span class="grow"></span>
      <button class="ghost" @click=${() => this.#emit('copy-message')} aria-label="Copy message">Copy</button>
      ${this.canEdit ? html`<button class="ghost" @click=${() => (this._editing = true)} aria-label="Edit message">Edit</button>` : nothing}
    </footer>`;
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
    if (!this.content && !this.error && !this.stopReason && !this.stats && !this.canRegenerate && !this.warning && this.branchCount < 2) return nothing;
    const notes = [
      this.dropped
        ? html`<span data-testid="dropped-note" title="The chat is longer than the model's context window"
            >The model did not see the ${this.dropped} oldest message${this.dropped === 1 ? '' : 's'}</span
          >`
        : null,
      this.stopReason && STOP_TEXT[this.stopReason] ? html`<span class="stop" data-testid="stop-reason">${STOP_TEXT[this.stopReason]}</span>` : null,
      this.warning ? html`<span class="warning" title=${this.warning} data-testid="format-warning">Not in the model's format</span>` : null,
      this.stats
        ? html`<span title="time to first token ${Math.round(this.stats.timeToFirstTokenMs)} ms"
            >${this.stats.completionTokens} tokens · ${this.stats.tokensPerSecond.toFixed(1)} tok/s</span
          >`
        : null,
    ].filter((n) => n !== null);
    return html`<footer>
      ${this.#branches()} ${notes.map((n, i) => (i === 0 ? n : html` · ${n}`))}
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
            : this._editing
              ? this.#editor()
              : html`<div class="user-text">${this.content}</div>`}
        ${this.error ? html`<div class="error-text" role="alert">${this.error}</div>` : nothing}
        ${assistant && !this.streaming ? this.#footer() : nothing} ${this.sender === 'user' && !this._editing ? this.#userFooter() : nothing}
      </article>
    `;
  }
}

customElements.define('wf-chat-message', ChatMessageView);
