// <wf-app>: the shell. A login screen until there is a session; then a navigation rail (chat, models,
// finance, time, vault, music, settings), the model's status, the theme toggle, notices, and the views.
// Views are mounted on first visit and kept (hidden) afterwards, so a streaming chat or a download keeps
// going while another view is shown. Keyboard: Alt+1…7 switch views, arrow keys move within the navigation,
// a skip link jumps to the content, and the new view's heading takes focus after a switch. Below 700 px the
// rail becomes a top bar with a Menu button (aria-expanded) that opens the links, the model status and the
// theme toggle as a dropdown; Escape or focus leaving it closes it.
import { LitElement, css, html, nothing, type PropertyDeclarations, type TemplateResult } from 'lit';
import { ROUTES, StoreController, dismissNotice, effectiveTheme, navigate, setTheme, type RouteName } from '../store.js';
import { baseStyles } from '../shared/styles.js';
import './login-view.js';
import { watchReminders } from './reminder-watcher.js';
import '../chat/chat-view.js';
import '../models/model-manager.js';
import '../finance/finance-view.js';
import '../time/time-view.js';
import '../vault/vault-view.js';
import '../music/music-view.js';
import '../settings/settings-view.js';
import '../documents/documents-view.js';
import '../settings/mcp-confirmations.js';

const ICONS: Record<RouteName, TemplateResult> = {
  chat: html`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 5h16v11H8l-4 4z" /></svg>`,
  models: html`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 7l8-4 8 4v10l-8 4-8-4zM4 7l8 4 8-4M12 11v10" /></svg>`,
  finance: html`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 20V10M10 20V4M16 20v-7M22 20H2" /></svg>`,
  time: html`<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="9" /><path d="M12 7v5l3 3" /></svg>`,
  vault: html`<svg viewBox="0 0 24 24" aria-hidden="true"><rect x="5" y="10" width="14" height="10" rx="2" /><path d="M8 10V7a4 4 0 018 0v3" /></svg>`,
  music: html`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M9 18V5l11-2v13" /><circle cx="6" cy="18" r="3" /><circle cx="17" cy="16" r="3" /></svg>`,
  documents: html`<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 2h9l5 5v15H6zM14 2v6h6M9 13h8M9 17h8" /></svg>`,
  settings: html`<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="3" /><path d="M12 2v3M12 19v3M2 12h3M19 12h3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M4.9 19.1L7 17M17 7l2.1-2.1" /></svg>`,
};

export class AppShell extends LitElement {
  static override properties: PropertyDeclarations = {
    _visited: { state: true },
    _compact: { state: true },
    _menuOpen: { state: true },
  };

  readonly #store = new StoreController(this);
  _visited = new Set<RouteName>();
  /** The desktop app's quick-ask window (`#/quick`): the chat alone. */
  _compact = /^#\/quick/.test(globalThis.location?.hash ?? '');
  /** The narrow layout's navigation menu (the wide rail ignores it). */
  _menuOpen = false;
  #lastRoute: RouteName | null = null;
  #userNavigated = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: grid;
        grid-template-columns: 210px 1fr;
        /* dvh: the visible height on mobile browsers (vh includes the area under their toolbars). */
        height: 100vh;
        height: 100dvh;
        background: var(--wf-bg);
      }
      :host([compact]) {
        grid-template-columns: 1fr;
      }
      .skip {
        position: absolute;
        left: -999px;
        top: 0;
        z-index: 10;
        background: var(--wf-surface);
        padding: 0.5rem 1rem;
      }
      .skip:focus {
        left: 0.5rem;
        top: 0.5rem;
      }
      nav {
        background: var(--wf-surface);
        border-right: 1px solid var(--wf-border);
        display: flex;
        flex-direction: column;
        padding: 0.75rem 0.5rem;
        gap: 0.25rem;
        min-height: 0;
      }
      .brand {
        display: flex;
        align-items: center;
        gap: 0.5rem;
        font-weight: 700;
        padding: 0.25rem 0.6rem 0.75rem;
        font-size: 1.05rem;
      }
      .brand img {
        width: 24px;
        height: 24px;
      }
      .menu-toggle {
        display: none;
      }
      .menu-toggle svg {
        width: 20px;
        height: 20px;
        fill: none;
        stroke: currentColor;
        stroke-width: 2;
        stroke-linecap: round;
      }
      /* Wide: the panel's children are the rail's own (links, spacer, status). */
      .menu-panel {
        display: contents;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: flex;
        flex-direction: column;
        gap: 2px;
      }
      a.nav {
        display: flex;
        align-items: center;
        gap: 0.6rem;
        padding: 0.5rem 0.6rem;
        border-radius: var(--wf-radius);
        color: var(--wf-text);
        text-decoration: none;
      }
      a.nav:hover {
        background: var(--wf-surface-2);
      }
      a.nav[aria-current='page'] {
        background: var(--wf-accent-soft);
        color: var(--wf-accent);
        font-weight: 600;
      }
      a.nav svg {
        width: 18px;
        height: 18px;
        fill: none;
        stroke: currentColor;
        stroke-width: 1.8;
        stroke-linecap: round;
        stroke-linejoin: round;
        flex: none;
      }
      kbd {
        margin-left: auto;
        font-size: 0.7rem;
        color: var(--wf-muted);
        font-family: var(--wf-mono);
      }
      .spacer {
        flex: 1;
      }
      .status {
        font-size: 0.8rem;
        color: var(--wf-muted);
        padding: 0.5rem 0.6rem;
        display: flex;
        flex-direction: column;
        gap: 0.4rem;
      }
      .dot {
        display: inline-block;
        width: 8px;
        height: 8px;
        border-radius: 50%;
        background: var(--wf-muted);
        margin-right: 0.35rem;
      }
      .dot.ready {
        background: var(--wf-success);
      }
      .dot.loading {
        background: var(--wf-warning);
      }
      .dot.error,
      .dot.offline {
        background: var(--wf-danger);
      }
      main {
        min-width: 0;
        min-height: 0;
        overflow: auto;
        position: relative;
      }
      main > * {
        min-height: 100%;
      }
      .notices {
        position: fixed;
        right: 1rem;
        bottom: 1rem;
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
        z-index: 20;
        max-width: min(420px, calc(100vw - 2rem));
      }
      .notice {
        display: flex;
        gap: 0.5rem;
        align-items: flex-start;
        background: var(--wf-surface);
        border: 1px solid var(--wf-border);
        border-left: 4px solid var(--wf-accent);
        border-radius: var(--wf-radius);
        box-shadow: var(--wf-shadow);
        padding: 0.6rem 0.75rem;
      }
      .notice.error {
        border-left-color: var(--wf-danger);
      }
      .notice.success {
        border-left-color: var(--wf-success);
      }
      .notice p {
        margin: 0;
        flex: 1;
      }
      @media (max-width: 700px) {
        :host {
          grid-template-columns: minmax(0, 1fr);
          grid-template-rows: auto minmax(0, 1fr);
        }
        /* The quick-ask window has no navigation: its one row is the chat. */
        :host([compact]) {
          grid-template-rows: minmax(0, 1fr);
        }
        nav {
          position: relative;
          flex-direction: row;
          align-items: center;
          padding: 0.35rem 0.5rem;
          border-right: none;
          border-bottom: 1px solid var(--wf-border);
          padding-top: max(0.35rem, env(safe-area-inset-top));
        }
        .brand {
          padding: 0 0.25rem;
        }
        .menu-toggle {
          display: inline-flex;
        }
        .menu-panel {
          display: none;
          position: absolute;
          top: 100%;
          left: 0;
          right: 0;
          z-index: 15;
          flex-direction: column;
          gap: 0.25rem;
          padding: 0.5rem;
          background: var(--wf-surface);
          border-bottom: 1px solid var(--wf-border);
          box-shadow: var(--wf-shadow);
          max-height: calc(100dvh - 3.5rem);
          overflow-y: auto;
        }
        nav.open .menu-panel {
          display: flex;
        }
        .spacer,
        kbd {
          display: none;
        }
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    if (this._compact) this.setAttribute('compact', '');
    window.addEventListener('keydown', this.#onGlobalKey);
  }

  override disconnectedCallback(): void {
    window.removeEventListener('keydown', this.#onGlobalKey);
    super.disconnectedCallback();
  }

  #onGlobalKey = (e: KeyboardEvent): void => {
    if (!this.#store.state.api || !e.altKey || e.ctrlKey || e.metaKey) return;
    const n = Number(e.key);
    const route = Number.isInteger(n) && n >= 1 ? ROUTES[n - 1] : undefined;
    if (route) {
      e.preventDefault();
      this.#go(route.name);
    }
  };

  #go(route: RouteName): void {
    this._menuOpen = false;
    this.#userNavigated = true;
    navigate(route);
  }

  #onNavKey(e: KeyboardEvent): void {
    if (e.key === 'Escape' && this._menuOpen) {
      e.preventDefault();
      this._menuOpen = false;
      this.renderRoot.querySelector<HTMLButtonElement>('.menu-toggle')?.focus();
      return;
    }
    const keys = ['ArrowDown', 'ArrowUp', 'Home', 'End'];
    if (!keys.includes(e.key)) return;
    const links = [...this.renderRoot.querySelectorAll<HTMLAnchorElement>('a.nav')];
    const i = links.indexOf(e.target as HTMLAnchorElement);
    if (i < 0) return;
    e.preventDefault();
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? links.length - 1 : (i + (e.key === 'ArrowDown' ? 1 : -1) + links.length) % links.length;
    links[next]?.focus();
  }

  /** The menu closes when focus goes elsewhere (a click in the view, Tab past its last entry). */
  #onNavFocusOut(e: FocusEvent): void {
    const next = e.relatedTarget as Node | null;
    if (this._menuOpen && !(next && this.renderRoot.querySelector('nav')?.contains(next))) this._menuOpen = false;
  }

  #cycleTheme(): void {
    const t = this.#store.state.theme;
    setTheme(t === 'system' ? (effectiveTheme() === 'dark' ? 'light' : 'dark') : t === 'light' ? 'dark' : 'light');
  }

  #skipToContent(e: Event): void {
    e.preventDefault();
    this.#focusView();
  }

  #focusView(): void {
    const view = this.renderRoot.querySelector<HTMLElement>(`main > [data-route='${this.#store.state.route}']`);
    const heading = view?.shadowRoot?.querySelector<HTMLElement>('h1');
    if (heading) {
      if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
      heading.focus();
    } else view?.focus();
  }

  #watching: unknown = null;
  #stopWatching: (() => void) | null = null;

  protected override updated(): void {
    const client = this.#store.state.api;
    if (client !== this.#watching) {
      this.#stopWatching?.();
      this.#stopWatching = client ? watchReminders(client) : null;
      this.#watching = client;
    }
    const route = this.#store.state.route;
    if (this.#store.state.api && route !== this.#lastRoute) {
      const first = this.#lastRoute === null;
      this.#lastRoute = route;
      if (!first && this.#userNavigated) void this.updateComplete.then(() => requestAnimationFrame(() => this.#focusView()));
      this.#userNavigated = false;
    }
  }

  #renderView(route: RouteName, active: boolean): TemplateResult {
    const hidden = !active;
    switch (route) {
      case 'chat':
        return html`<wf-chat-view data-route="chat" ?hidden=${hidden} ?compact=${this._compact}></wf-chat-view>`;
      case 'models':
        return html`<wf-model-manager data-route="models" ?hidden=${hidden} .active=${active}></wf-model-manager>`;
      case 'finance':
        return html`<wf-finance-view data-route="finance" ?hidden=${hidden} .active=${active}></wf-finance-view>`;
      case 'time':
        return html`<wf-time-view data-route="time" ?hidden=${hidden} .active=${active}></wf-time-view>`;
      case 'vault':
        return html`<wf-vault-view data-route="vault" ?hidden=${hidden} .active=${active}></wf-vault-view>`;
      case 'music':
        return html`<wf-music-view data-route="music" ?hidden=${hidden} .active=${active}></wf-music-view>`;
      case 'settings':
        return html`<wf-settings-view data-route="settings" ?hidden=${hidden} .active=${active}></wf-settings-view>`;
      case 'documents':
        return html`<wf-documents-view data-route="documents" ?hidden=${hidden} .active=${active}></wf-documents-view>`;
    }
  }

  #statusLine() {
    const { model, online } = this.#store.state;
    if (!online) return html`<span><span class="dot offline"></span>Service unreachable</span>`;
    const state = model?.state ?? 'none';
    const name = model?.model?.name ?? model?.model?.id ?? '';
    const text =
      state === 'ready'
        ? `Model: ${name}`
        : state === 'loading'
          ? `Loading ${model?.path ? (model.path.split(/[\\/]/).pop() ?? 'model') : 'model'}… ${Math.round((model?.progress ?? 0) * 100)}%`
          : state === 'error'
            ? 'Model failed to load'
            : 'No model loaded';
    return html`<span title=${model?.path ?? ''}><span class="dot ${state}"></span>${text}</span>`;
  }

  override render() {
    const s = this.#store.state;
    const notices = html`<div class="notices" role="status" aria-live="polite">
      ${s.notices.map(
        (n) => html`<div class="notice ${n.kind}" role=${n.kind === 'error' ? 'alert' : nothing}>
          <p>${n.text}</p>
          ${n.action ? html`<button class="notice-action" @click=${n.action.run}>${n.action.label}</button>` : nothing}
          <button class="ghost" aria-label="Dismiss notice" @click=${() => dismissNotice(n.id)}>✕</button>
        </div>`,
      )}
    </div>`;
    if (!s.api) return html`<wf-login .error=${s.authError} ?desktop=${s.desktop}></wf-login>${notices}`;

    this._visited.add(s.route);
    // Calls from other MCP clients that change data are confirmed wherever the app is.
    const mcpConfirmations = html`<wf-mcp-confirmations></wf-mcp-confirmations>`;
    if (this._compact) return html`<main id="content">${this.#renderView('chat', true)}</main>${notices}${mcpConfirmations}`;
    const effective = effectiveTheme();
    const themeLabel = s.theme === 'system' ? `Theme: system (${effective})` : `Theme: ${s.theme}`;
    return html`
      <a class="skip" href="#content" @click=${this.#skipToContent}>Skip to content</a>
      <nav aria-label="Main" class=${this._menuOpen ? 'open' : ''} @keydown=${this.#onNavKey} @focusout=${this.#onNavFocusOut}>
        <button
          class="ghost menu-toggle"
          aria-expanded=${this._menuOpen ? 'true' : 'false'}
          aria-controls="nav-menu"
          data-testid="menu-toggle"
          @click=${() => (this._menuOpen = !this._menuOpen)}
        >
          <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 6h16M4 12h16M4 18h16" /></svg>Menu
        </button>
        <div class="brand"><img src="assets/favicon.svg" alt="" />Westfall</div>
        <div class="menu-panel" id="nav-menu">
          <ul>
            ${ROUTES.map(
              (r, i) => html`<li>
                <a
                  class="nav"
                  href="#/${r.name}"
                  aria-current=${s.route === r.name ? 'page' : nothing}
                  aria-keyshortcuts="Alt+${i + 1}"
                  data-nav=${r.name}
                  @click=${(e: Event) => {
                    e.preventDefault();
                    this.#go(r.name);
                  }}
                  >${ICONS[r.name]}<span>${r.label}</span><kbd aria-hidden="true">Alt+${i + 1}</kbd></a
                >
              </li>`,
            )}
          </ul>
          <div class="spacer"></div>
          <div class="status" aria-live="polite">
            ${this.#statusLine()}
            <button class="ghost small" @click=${this.#cycleTheme} aria-label="Switch theme (now ${themeLabel})" title=${themeLabel} data-testid="theme-toggle">
              ${effective === 'dark' ? '☾ Dark' : '☀ Light'}
            </button>
          </div>
        </div>
      </nav>
      <main id="content">${ROUTES.filter((r) => this._visited.has(r.name)).map((r) => this.#renderView(r.name, r.name === s.route))}</main>
      ${notices}${mcpConfirmations}
    `;
  }
}

customElements.define('wf-app', AppShell);

declare global {
  interface HTMLElementTagNameMap {
    'wf-app': AppShell;
  }
}
