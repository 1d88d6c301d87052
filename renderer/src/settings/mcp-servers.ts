// <wf-mcp-servers active>: the MCP servers the assistant uses (Settings → MCP servers). Add one as an
// `mcpServers` entry (a command with args, or a URL), import a whole Claude Desktop / VS Code file, switch
// a server on or off, restart it, remove it, and see its tools (wf-mcp-server-tools) with "allow always".
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { askConfirm } from '../shared/confirm-dialog.js';
import { baseStyles } from '../shared/styles.js';
import { notify, reportError } from '../store.js';
import { mcpApi, type McpServerStatus } from './mcp-api.js';
import './mcp-server-tools.js';

const EXAMPLE = '{ "command": "npx", "args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/Documents"] }';

export class McpServers extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _servers: { state: true },
    _open: { state: true },
    _busy: { state: true },
  };

  active = false;
  _servers: McpServerStatus[] = [];
  /** The server whose tools are shown. */
  _open: string | null = null;
  _busy = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      ul.servers {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 0.6rem;
      }
      .row {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 0.5rem;
      }
      .cmd {
        color: var(--wf-muted);
        font-size: 0.85rem;
        overflow-wrap: anywhere;
      }
      .state-failed {
        color: var(--wf-danger, #b42318);
      }
      textarea {
        width: 100%;
        min-height: 4rem;
        font-family: var(--wf-mono, monospace);
      }
      form {
        display: grid;
        gap: 0.4rem;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      this._servers = (await mcpApi.servers()).servers;
    } catch (err) {
      reportError(err, 'Could not read the MCP servers');
    }
  }

  async #run(what: string, fn: () => Promise<unknown>, done?: string): Promise<void> {
    this._busy = true;
    try {
      await fn();
      if (done) notify('success', done);
    } catch (err) {
      reportError(err, what);
    } finally {
      this._busy = false;
      await this.refresh();
    }
  }

  async #add(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const name = String(data.get('name') ?? '').trim();
    let config: unknown;
    try {
      config = JSON.parse(String(data.get('config') ?? ''));
    } catch {
      notify('error', 'The entry is not JSON: give {"command": ..., "args": [...]} or {"url": ...}.');
      return;
    }
    await this.#run('Could not add the server', () => mcpApi.put(name, config), `MCP server ${name} added.`);
    form.reset();
  }

  async #import(input: HTMLInputElement): Promise<void> {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    const text = await file.text();
    await this.#run('Could not import the file', async () => {
      const r = await mcpApi.import(text);
      const skipped = r.skipped.map((s) => `${s.name} (${s.reason})`).join('; ');
      notify(r.skipped.length ? 'error' : 'success', `Imported ${r.added.length} server(s)${skipped ? `; skipped: ${skipped}` : ''}.`, 10_000);
    });
  }

  async #remove(s: McpServerStatus): Promise<void> {
    if (!(await askConfirm({ title: `Remove ${s.name}`, message: 'The server is stopped and its tools leave every chat.', confirmLabel: 'Remove', danger: true }))) return;
    await this.#run('Could not remove the server', () => mcpApi.remove(s.name), `MCP server ${s.name} removed.`);
  }

  #server(s: McpServerStatus) {
    const cmd = s.config.url ?? [s.config.command, ...(s.config.args ?? [])].join(' ');
    const state = s.status.state === 'failed' ? `failed: ${s.status.lastError ?? ''}` : s.status.state;
    return html`<li class="card stack" data-testid="mcp-server-${s.name}">
      <div class="row">
        <label class="inline"><input type="checkbox" .checked=${s.enabled} ?disabled=${this._busy} @change=${(e: Event) => void this.#run('Could not switch the server', () => mcpApi.setEnabled(s.name, (e.target as HTMLInputElement).checked))} /> <strong>${s.name}</strong></label>
        <span class=${s.status.state === 'failed' ? 'state-failed' : 'cmd'}>${state}</span>
        <button class="ghost" @click=${() => (this._open = this._open === s.name ? null : s.name)} aria-expanded=${this._open === s.name}>Tools</button>
        <button class="ghost" ?disabled=${this._busy} @click=${() => void this.#run('Could not restart the server', () => mcpApi.restart(s.name), `${s.name} restarted.`)}>Restart</button>
        <button class="ghost danger" ?disabled=${this._busy} @click=${() => void this.#remove(s)}>Remove</button>
      </div>
      <div class="cmd">${cmd}</div>
      ${this._open === s.name ? html`<wf-mcp-server-tools .server=${s.name} @tools-loaded=${() => void this.refresh()}></wf-mcp-server-tools>` : nothing}
    </li>`;
  }

  override render() {
    return html`<section class="card stack" aria-labelledby="mcp-servers-title">
      <h2 id="mcp-servers-title">MCP servers</h2>
      <p class="cmd">
        Tools from Model Context Protocol servers join the assistant's own in every chat (each server can be turned off per chat). Each call is
        confirmed unless you allow that tool always.
      </p>
      <ul class="servers">
        ${this._servers.map((s) => this.#server(s))}
      </ul>
      <form @submit=${(e: Event) => void this.#add(e)}>
        <label>Name <input name="name" required pattern="[a-z0-9][a-z0-9_\\-]{0,31}" placeholder="files" /></label>
        <label>Entry (as in mcpServers) <textarea name="config" required placeholder=${EXAMPLE}></textarea></label>
        <div class="row">
          <button type="submit" ?disabled=${this._busy}>Add server</button>
          <label class="ghost">Import a config file (Claude Desktop, VS Code)… <input type="file" accept=".json,application/json" @change=${(e: Event) => void this.#import(e.target as HTMLInputElement)} /></label>
        </div>
      </form>
    </section>`;
  }
}

customElements.define('wf-mcp-servers', McpServers);
