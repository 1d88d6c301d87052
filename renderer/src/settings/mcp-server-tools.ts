// <wf-mcp-server-tools .server>: one MCP server's tools as the model sees them (the server is started to
// list them; `tools-loaded` tells the list to refresh its state), each with "Allow always" (run without asking), and the tools whose schemas were refused, with why.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { reportError } from '../store.js';
import { mcpApi, type McpToolInfo, type McpToolProblem } from './mcp-api.js';

export class McpServerTools extends LitElement {
  static override properties: PropertyDeclarations = {
    server: { type: String },
    _tools: { state: true },
    _problems: { state: true },
    _error: { state: true },
  };

  server = '';
  _tools: McpToolInfo[] | null = null;
  _problems: McpToolProblem[] = [];
  _error: string | null = null;

  static override styles = [
    baseStyles,
    css`
      ul {
        list-style: none;
        padding: 0;
        margin: 0.4rem 0 0;
        display: grid;
        gap: 0.3rem;
      }
      .desc,
      .problem {
        color: var(--wf-muted);
        font-size: 0.85rem;
      }
      .problem {
        color: var(--wf-danger, #b42318);
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  async load(): Promise<void> {
    this._error = null;
    try {
      const r = await mcpApi.tools(this.server);
      this._tools = r.tools;
      this._problems = r.problems;
      // The server was started to list them: its row's state changed.
      this.dispatchEvent(new CustomEvent('tools-loaded', { bubbles: true, composed: true }));
    } catch (err) {
      this._error = (err as Error).message;
    }
  }

  async #allow(t: McpToolInfo, allow: boolean): Promise<void> {
    try {
      await mcpApi.allowAlways(this.server, t.tool, allow);
      await this.load();
    } catch (err) {
      reportError(err, 'Could not change the permission');
    }
  }

  override render() {
    if (this._error) return html`<p class="problem" role="alert">${this._error}</p>`;
    if (!this._tools) return html`<p class="desc">Starting the server to list its tools…</p>`;
    return html`<ul data-testid="mcp-tools-${this.server}">
        ${this._tools.map(
          (t) => html`<li>
            <label class="inline"
              ><input type="checkbox" .checked=${t.allowAlways} @change=${(e: Event) => void this.#allow(t, (e.target as HTMLInputElement).checked)} />
              <span><strong>${t.title}</strong> <code>${t.name}</code> — allow always</span></label
            >
            <div class="desc">${t.description}</div>
          </li>`,
        )}
      </ul>
      ${this._problems.length
        ? html`<ul>
            ${this._problems.map((p) => html`<li class="problem">${p.tool ? html`<code>${p.tool}</code>: ` : nothing}${p.message}</li>`)}
          </ul>`
        : nothing}`;
  }
}

customElements.define('wf-mcp-server-tools', McpServerTools);
