// <wf-composer>: the message box. Properties: `busy` (a reply is streaming: the button stops it),
// `disabled`, `placeholder`. Events: `send` ({ text }) and `stop`. Enter sends, Shift+Enter is a new line,
// Escape stops a streaming reply.
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';

export class Composer extends LitElement {
  static override properties: PropertyDeclarations = {
    busy: { type: Boolean },
    disabled: { type: Boolean },
    placeholder: { type: String },
    _text: { state: true },
  };

  busy = false;
  disabled = false;
  placeholder = 'Message Westfall…';
  _text = '';

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      form {
        display: flex;
        gap: 0.5rem;
        align-items: flex-end;
        background: var(--wf-surface);
        border: 1px solid var(--wf-border);
        border-radius: 12px;
        padding: 0.5rem;
      }
      form:focus-within {
        border-color: var(--wf-focus);
      }
      textarea {
        flex: 1;
        border: none;
        resize: none;
        background: transparent;
        min-height: 2.4rem;
        max-height: 12rem;
        padding: 0.45rem;
      }
      textarea:focus-visible {
        outline: none;
      }
      .hint {
        font-size: 0.75rem;
        color: var(--wf-muted);
        margin: 0.3rem 0.25rem 0;
      }
    `,
  ];

  /** Puts text in the box (quick-ask) and focuses it. */
  fill(text: string): void {
    this._text = text;
    void this.updateComplete.then(() => this.focus());
  }

  override focus(): void {
    this.renderRoot.querySelector('textarea')?.focus();
  }

  #submit(e?: Event): void {
    e?.preventDefault();
    if (this.busy) {
      this.dispatchEvent(new CustomEvent('stop'));
      return;
    }
    const text = this._text.trim();
    if (!text || this.disabled) return;
    this.dispatchEvent(new CustomEvent('send', { detail: { text } }));
    this._text = '';
  }

  #onKey(e: KeyboardEvent): void {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (!this.busy) this.#submit();
    } else if (e.key === 'Escape' && this.busy) {
      e.preventDefault();
      this.dispatchEvent(new CustomEvent('stop'));
    }
  }

  #autosize(t: HTMLTextAreaElement): void {
    t.style.height = 'auto';
    t.style.height = `${Math.min(t.scrollHeight, 192)}px`;
  }

  override render() {
    return html`<form @submit=${this.#submit} aria-label="Send a message">
        <label class="visually-hidden" for="msg">Message</label>
        <textarea
          id="msg"
          rows="1"
          .value=${this._text}
          placeholder=${this.placeholder}
          ?disabled=${this.disabled}
          @input=${(e: Event) => {
            const t = e.target as HTMLTextAreaElement;
            this._text = t.value;
            this.#autosize(t);
          }}
          @keydown=${this.#onKey}
        ></textarea>
        ${this.busy
          ? html`<button type="submit" class="danger" aria-label="Stop generating" data-testid="stop">■ Stop</button>`
          : html`<button type="submit" class="primary" aria-label="Send message" ?disabled=${this.disabled || !this._text.trim()} data-testid="send">Send</button>`}
      </form>
      <p class="hint">Enter to send · Shift+Enter for a new line · Esc to stop</p>`;
  }
}

customElements.define('wf-composer', Composer);
