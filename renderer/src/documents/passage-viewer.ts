// <wf-passage-viewer>: a cited passage opened in a dialog: the file, page and heading, the passage itself
// marked, and the text just before and after it for context.
// Properties: `chunkId` (null: closed). Events: `close`.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { documentsApi, placeOf, type Passage } from './documents-api.js';

export class PassageViewer extends LitElement {
  static override properties: PropertyDeclarations = {
    chunkId: { attribute: false },
    _passage: { state: true },
    _error: { state: true },
  };

  chunkId: number | null = null;
  _passage: Passage | null = null;
  _error: string | null = null;

  static override styles = [
    baseStyles,
    css`
      dialog {
        max-width: min(760px, calc(100vw - 2rem));
        width: 100%;
        border: 1px solid var(--wf-border);
        border-radius: var(--wf-radius);
        background: var(--wf-surface);
        color: var(--wf-text);
        padding: 1rem 1.25rem;
      }
      header {
        display: flex;
        gap: 0.5rem;
        align-items: baseline;
      }
      h2 {
        margin: 0;
        font-size: 1.05rem;
        flex: 1;
        overflow-wrap: anywhere;
      }
      .text {
        white-space: pre-wrap;
        max-height: 60vh;
        overflow: auto;
        line-height: 1.5;
      }
      mark {
        background: var(--wf-accent-soft);
        color: inherit;
        display: block;
        padding: 0.4rem 0.5rem;
        border-left: 3px solid var(--wf-accent);
        margin: 0.5rem 0;
      }
      .context {
        color: var(--wf-muted);
      }
    `,
  ];

  protected override async updated(changed: Map<string, unknown>): Promise<void> {
    if (!changed.has('chunkId')) return;
    const dialog = this.renderRoot.querySelector('dialog');
    if (this.chunkId === null) {
      dialog?.close();
      return;
    }
    this._passage = null;
    this._error = null;
    if (dialog && !dialog.open) dialog.showModal();
    const id = this.chunkId;
    try {
      const p = await documentsApi.passage(id);
      if (this.chunkId === id) this._passage = p;
    } catch (err) {
      this._error = (err as Error).message;
    }
  }

  #close(): void {
    this.dispatchEvent(new CustomEvent('close'));
  }

  override render() {
    const p = this._passage;
    return html`<dialog aria-labelledby="passage-title" @close=${() => this.#close()} data-testid="passage-viewer">
      <header>
        <h2 id="passage-title">${p ? p.chunk.fileName : 'Source'}</h2>
        <button class="ghost" aria-label="Close" @click=${() => this.#close()}>✕</button>
      </header>
      ${p
        ? html`<p class="muted small"><span data-testid="passage-place">${placeOf(p.chunk) || 'whole file'}</span> · <span class="mono">${p.chunk.path}</span></p>
            <div class="text">
              ${p.before ? html`<span class="context">…${p.before.slice(-300)}</span>` : nothing}
              <mark data-testid="passage-text">${p.chunk.text}</mark>
              ${p.after ? html`<span class="context">${p.after.slice(0, 300)}…</span>` : nothing}
            </div>`
        : this._error
          ? html`<p class="error-text" role="alert">${this._error}</p>`
          : html`<p class="muted">Loading…</p>`}
    </dialog>`;
  }
}

customElements.define('wf-passage-viewer', PassageViewer);

declare global {
  interface HTMLElementTagNameMap {
    'wf-passage-viewer': PassageViewer;
  }
}
