// <wf-chat-header>: the chat's title bar (title, this chat's model picker (`model`; `model-change` from
// <wf-model-picker>, bubbles), this chat's thinking controls, "Use tools", the chat's
// settings and export) and, under it, a banner while no model is ready. Properties: `heading`, `thinking`
// (this chat's setting), `toolsAvailable`, `settingsOpen`, `canExport` (the chat is saved). Events:
// `thinking-change` (from <wf-thinking-controls>, bubbles), `toggle-settings`, `export-chat` ({ format:
// 'markdown' | 'json' }). "Use tools" is a setting of all chats and goes straight to the store. Slot
// `start`: what goes before the title (the chat view's "Chats" drawer button in narrow windows).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { DEFAULT_THINKING, StoreController, navigate, setChatSettings, type ThinkingSetting } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import './model-picker.js';
import './thinking-controls.js';

export class ChatHeader extends LitElement {
  static override properties: PropertyDeclarations = {
    heading: { type: String },
    thinking: { attribute: false },
    toolsAvailable: { type: Boolean, attribute: 'tools-available' },
    settingsOpen: { type: Boolean, attribute: 'settings-open' },
    canExport: { type: Boolean, attribute: 'can-export' },
    model: { attribute: false },
  };

  heading = '';
  thinking: ThinkingSetting = DEFAULT_THINKING;
  toolsAvailable = false;
  settingsOpen = false;
  canExport = false;
  /** The chat's model (null: the default), shown in its picker; changes come out as `model-change`. */
  model: string | null = null;
  readonly #store = new StoreController(this);

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      header {
        display: flex;
        align-items: center;
        gap: 0.75rem;
        padding: 0.75rem 1.25rem;
        border-bottom: 1px solid var(--wf-border);
        flex-wrap: wrap;
      }
      header h1 {
        margin: 0;
        font-size: 1.1rem;
      }
      details {
        position: relative;
      }
      details summary {
        list-style: none;
        cursor: pointer;
      }
      details .menu {
        position: absolute;
        right: 0;
        z-index: 5;
        display: flex;
        flex-direction: column;
        gap: 0.25rem;
        padding: 0.4rem;
        background: var(--wf-surface);
        border: 1px solid var(--wf-border);
        border-radius: var(--wf-radius);
        white-space: nowrap;
      }
      .banner {
        margin: 0.75rem 1.25rem 0;
        padding: 0.6rem 0.8rem;
        border-radius: var(--wf-radius);
        background: var(--wf-surface-2);
        border: 1px solid var(--wf-border);
        display: flex;
        gap: 0.75rem;
        align-items: center;
        flex-wrap: wrap;
      }
    `,
  ];

  /** Focuses the title (after navigation, for screen readers). */
  override focus(): void {
    this.renderRoot.querySelector<HTMLElement>('h1')?.focus();
  }

  #banner() {
    const m = this.#store.state.model;
    if (!m || m.state === 'ready') return nothing;
    const text =
      m.state === 'loading'
        ? `The model is loading (${Math.round((m.progress ?? 0) * 100)}%)…`
        : m.state === 'error'
          ? `The model failed to load: ${m.error?.message ?? 'unknown error'}`
          : 'No model is loaded. Pick one in the model manager to start chatting.';
    return html`<div class="banner" role="status">
      <span class="grow">${text}</span>
      ${m.state !== 'loading' ? html`<button @click=${() => navigate('models')}>Open models</button>` : nothing}
    </div>`;
  }

  override render() {
    return html`<header>
        <slot name="start"></slot>
        <h1 tabindex="-1" class="grow">${this.heading}</h1>
        <wf-model-picker .value=${this.model}></wf-model-picker>
        <wf-thinking-controls .setting=${this.thinking}></wf-thinking-controls>
        ${this.toolsAvailable
          ? html`<label class="inline small" title="Let the assistant read and change your finances, time, vault and music (changes ask you first)"
              ><input type="checkbox" .checked=${this.#store.state.chat.useTools} @change=${(e: Event) => setChatSettings({ useTools: (e.target as HTMLInputElement).checked })} />Use
              tools</label
            >`
          : nothing}
        <button
          class="ghost small"
          aria-expanded=${this.settingsOpen ? 'true' : 'false'}
          title="This chat's system prompt and sampling"
          @click=${() => this.dispatchEvent(new CustomEvent('toggle-settings'))}
        >
          Chat settings
        </button>
        ${this.canExport
          ? html`<details>
              <summary class="small" role="button">Export</summary>
              <div class="menu">
                ${(['markdown', 'json'] as const).map(
                  (format) => html`<button
                    class="ghost small"
                    @click=${(e: Event) => {
                      (e.target as HTMLElement).closest('details')?.removeAttribute('open');
                      this.dispatchEvent(new CustomEvent('export-chat', { detail: { format } }));
                    }}
                  >
                    ${format === 'json' ? 'JSON (every branch, can be imported)' : 'Markdown'}
                  </button>`,
                )}
              </div>
            </details>`
          : nothing}
      </header>
      ${this.#banner()}`;
  }
}

customElements.define('wf-chat-header', ChatHeader);
