// <wf-mcp-exposed active>: the assistant as an MCP server for other apps (Claude Desktop, VS Code): which
// of its tools they may call (all off until turned on here), how to connect, and the audit list of every
// call they made (wf-mcp-audit).
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { reportError } from '../store.js';
import { mcpApi, type ExposedTool } from './mcp-api.js';
import './mcp-audit.js';

export class McpExposed extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _tools: { state: true },
  };

  active = false;
  _tools: ExposedTool[] = [];

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      ul {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr));
        gap: 0.3rem 1rem;
      }
      .muted {
        color: var(--wf-muted);
        font-size: 0.85rem;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      this._tools = (await mcpApi.exposed()).tools;
    } catch (err) {
      reportError(err, 'Could not read the shared tools');
    }
  }

  async #toggle(t: ExposedTool, enabled: boolean): Promise<void> {
    try {
      await mcpApi.setExposed(t.name, enabled);
    } catch (err) {
      reportError(err, 'Could not change the tool');
    }
    await this.refresh();
  }

  override render() {
    return html`<section class="card stack" aria-labelledby="mcp-exposed-title">
      <h2 id="mcp-exposed-title">Tools for other apps (MCP)</h2>
      <p class="muted">
        Claude Desktop, VS Code and other MCP clients can use the tools turned on here: run <code>westfall mcp</code> as their server command, or
        connect to <code>/mcp</code> on this backend with the API token. Tools that change data (✎) ask you here first; the vault only generates
        passwords.
      </p>
      <ul data-testid="mcp-exposed-tools">
        ${this._tools.map(
          (t) => html`<li>
            <label class="inline" title=${t.description}
              ><input type="checkbox" .checked=${t.enabled} @change=${(e: Event) => void this.#toggle(t, (e.target as HTMLInputElement).checked)} />
              ${t.title}${t.mutates ? ' ✎' : ''}</label
            >
          </li>`,
        )}
      </ul>
      <wf-mcp-audit ?active=${this.active}></wf-mcp-audit>
    </section>`;
  }
}

customElements.define('wf-mcp-exposed', McpExposed);
