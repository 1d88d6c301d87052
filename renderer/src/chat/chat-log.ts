// <wf-chat-log>: the messages and tool calls of a chat, in order, following the end while a reply streams
// unless the user scrolled up. Properties: `items`, `busy`. Copies a message itself; `regenerate`, `retry-reply`,
// `confirm-tool` and `deny-tool` ({ id }) bubble up from the messages and cards; `edit-message` ({ key, text })
// and `switch-branch` ({ messageId }: the sibling to show) come from a message's Edit and arrows.
// `stick()` follows the end again (a new question).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { notify } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import { thinkingLive, type ChatItem, type MessageItem } from './chat-items.js';
import './chat-message.js';
import './tool-call-card.js';
import './empty-reply.js';

export class ChatLog extends LitElement {
  static override properties: PropertyDeclarations = {
    items: { attribute: false },
    busy: { type: Boolean },
  };

  items: ChatItem[] = [];
  busy = false;
  #stickToBottom = true;

  static override styles = [
    baseStyles,
    css`
      :host {
        flex: 1;
        min-height: 0;
        display: flex;
        flex-direction: column;
      }
      .log {
        flex: 1;
        overflow-y: auto;
        padding: 1rem 1.25rem;
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
      }
      .empty {
        margin: auto;
        text-align: center;
        color: var(--wf-muted);
        max-width: 420px;
      }
    `,
  ];

  stick(): void {
    this.#stickToBottom = true;
    this.requestUpdate();
  }

  #onScroll(e: Event): void {
    const el = e.target as HTMLElement;
    this.#stickToBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 60;
  }

  protected override updated(): void {
    if (this.#stickToBottom) {
      const log = this.renderRoot.querySelector('.log');
      if (log) log.scrollTop = log.scrollHeight;
    }
  }

  async #copy(item: MessageItem): Promise<void> {
    try {
      await navigator.clipboard.writeText(item.content);
      notify('success', 'Copied to the clipboard');
    } catch {
      notify('error', 'The clipboard is not available');
    }
  }

  #emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  #step(it: MessageItem, delta: number): void {
    const at = it.siblings?.indexOf(it.id ?? -1) ?? -1;
    const next = at < 0 ? undefined : it.siblings?.[at + delta];
    if (next !== undefined && !this.busy) this.#emit('switch-branch', { messageId: next });
  }

  #message(it: MessageItem, last: boolean) {
    return html`<wf-chat-message
      sender=${it.role}
      .content=${it.content}
      ?streaming=${it.streaming === true}
      .stopReason=${it.stopReason ?? null}
      .error=${it.error ?? null}
      .stats=${it.stats ?? null}
      .reasoning=${it.reasoning ?? ''}
      ?thinking-live=${thinkingLive(it)}
      .thinkingMs=${it.thinkingMs ?? null}
      .thinkingStartedAt=${it.thinkingStartedAt ?? null}
      .warning=${it.warning ?? null}
      ?can-regenerate=${last && !this.busy}
      ?can-edit=${it.role === 'user' && !this.busy}
      ?locked=${this.busy}
      .dropped=${it.dropped ?? null}
      .branchIndex=${Math.max(0, it.siblings?.indexOf(it.id ?? -1) ?? 0)}
      .branchCount=${it.siblings?.length ?? 1}
      @copy-message=${() => void this.#copy(it)}
      @edit-message=${(e: CustomEvent<{ text: string }>) => {
        e.stopPropagation(); // sent on with the message's key
        this.#emit('edit-message', { key: it.key, text: e.detail.text });
      }}
      @branch-step=${(e: CustomEvent<{ delta: number }>) => {
        e.stopPropagation();
        this.#step(it, e.detail.delta);
      }}
    ></wf-chat-message>${it.empty && !it.streaming ? html`<wf-empty-reply reason=${it.empty} ?disabled=${this.busy || !last}></wf-empty-reply>` : nothing}${it.citations?.length ? html`<wf-doc-citations .citations=${it.citations}></wf-doc-citations>` : nothing}`;
  }

  override render() {
    const lastAssistant = this.items.findLastIndex((i) => i.kind === 'message' && i.role === 'assistant');
    return html`<div class="log" role="log" aria-label="Messages" aria-live="polite" aria-relevant="additions" @scroll=${this.#onScroll}>
      ${this.items.length === 0
        ? html`<div class="empty">
            <h2>How can I help?</h2>
            <p>Everything stays on this machine. Ask a question, or have the assistant look at your finances, time or music.</p>
          </div>`
        : nothing}
      ${repeat(
        this.items,
        (it) => it.key,
        (it, i) => (it.kind === 'tool' ? html`<wf-tool-call-card .call=${it.call}></wf-tool-call-card>` : this.#message(it, i === lastAssistant)),
      )}
    </div>`;
  }
}

customElements.define('wf-chat-log', ChatLog);
