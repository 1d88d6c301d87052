// <wf-mcp-audit active>: every call other MCP clients made to the assistant's tools, newest first: when,
// which client, the tool, its arguments and the outcome (refused ones included).
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { reportError } from '../store.js';
import { mcpApi, type AuditEntry } from './mcp-api.js';

export class McpAudit extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _entries: { state: true },
  };

  active = false;
  _entries: AuditEntry[] = [];

  static override styles = [
    baseStyles,
    css`
      table {
        width: 100%;
        border-collapse: collapse;
        font-size: 0.85rem;
      }
      th,
      td {
        text-align: left;
        padding: 0.2rem 0.4rem;
        vertical-align: top;
      }
      td.args {
        overflow-wrap: anywhere;
        font-family: var(--wf-mono, monospace);
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('active') && this.active) void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      this._entries = (await mcpApi.audit(100)).entries;
    } catch (err) {
      reportError(err, 'Could not read the audit list');
    }
  }

  override render() {
    return html`<details>
      <summary>Calls from MCP clients (${this._entries.length})</summary>
      <button class="ghost" @click=${() => void this.refresh()}>Refresh</button>
      <table data-testid="mcp-audit">
        <thead>
          <tr><th>When</th><th>Client</th><th>Tool</th><th>Arguments</th><th>Outcome</th></tr>
        </thead>
        <tbody>
          ${this._entries.map(
            (e) => html`<tr>
              <td>${new Date(e.at).toLocaleString()}</td>
              <td>${e.client} (${e.transport})</td>
              <td>${e.tool}</td>
              <td class="args">${e.arguments}</td>
              <td title=${e.message ?? ''}>${e.outcome}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </details>`;
  }
}

customElements.define('wf-mcp-audit', McpAudit);
