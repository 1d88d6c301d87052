// <wf-mcp-chat-servers .conversationId>: in a chat's settings, which MCP servers' tools this chat gets
// (each follows the server's own switch in Settings until changed here). Renders nothing for a chat not
// saved yet or when no MCP server is configured.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import { baseStyles } from '../shared/styles.js';
import { api, reportError } from '../store.js';

interface ChatServer {
  name: string;
  enabled: boolean;
}

export class McpChatServers extends LitElement {
  static override properties: PropertyDeclarations = {
    conversationId: { attribute: false },
    _servers: { state: true },
  };

  conversationId: string | null = null;
  _servers: ChatServer[] = [];
  #loads = 0;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        padding: 0 1.25rem 0.75rem;
        background: var(--wf-surface);
        border-bottom: 1px solid var(--wf-border);
      }
      :host([hidden]) {
        display: none;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem 1rem;
        align-items: center;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('conversationId')) void this.#load();
  }

  async #load(): Promise<void> {
    const load = ++this.#loads;
    const id = this.conversationId;
    if (!id) {
      this._servers = [];
      return;
    }
    try {
      const r = await api().get<{ servers: ChatServer[] }>(`/api/mcp/chats/${encodeURIComponent(id)}`);
      if (load === this.#loads) this._servers = r.servers;
    } catch (err) {
      // 404: a backend without MCP, or a chat not saved yet.
      if (load === this.#loads) this._servers = [];
      if (!(err instanceof ApiError && err.status === 404)) reportError(err, 'Could not read the MCP servers of this chat');
    }
  }

  async #set(name: string, enabled: boolean): Promise<void> {
    const id = this.conversationId;
    if (!id) return;
    try {
      await api().put(`/api/mcp/chats/${encodeURIComponent(id)}/servers/${encodeURIComponent(name)}`, { enabled });
    } catch (err) {
      reportError(err, 'Could not change the server for this chat');
    }
    await this.#load();
  }

  protected override updated(): void {
    this.hidden = this._servers.length === 0;
  }

  override render() {
    if (this._servers.length === 0) return nothing;
    return html`<div class="row" role="group" aria-label="MCP servers in this chat">
      <span>MCP servers in this chat:</span>
      ${this._servers.map(
        (s) => html`<label class="inline"
          ><input type="checkbox" .checked=${s.enabled} @change=${(e: Event) => void this.#set(s.name, (e.target as HTMLInputElement).checked)} />${s.name}</label
        >`,
      )}
    </div>`;
  }
}

customElements.define('wf-mcp-chat-servers', McpChatServers);
