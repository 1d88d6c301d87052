// <wf-login>: shown without a session. Explains the login link and accepts the token pasted by hand.
// Properties: `error` (why the last attempt failed), `desktop`. Event: none (it starts the session itself
// through bootstrap, which is the one way into the app).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { bootstrap } from '../bootstrap.js';
import { TOKEN_KEY } from '../store.js';
import { baseStyles } from '../shared/styles.js';

export class LoginView extends LitElement {
  static override properties: PropertyDeclarations = {
    error: { type: String },
    desktop: { type: Boolean },
  };

  error: string | null = null;
  desktop = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: grid;
        place-items: center;
        min-height: 100vh;
        grid-column: 1 / -1;
        padding: 1rem;
      }
      .card {
        max-width: 460px;
        width: 100%;
      }
      form {
        display: flex;
        flex-direction: column;
        gap: 0.75rem;
        margin-top: 1rem;
      }
      img {
        width: 40px;
        height: 40px;
      }
    `,
  ];

  #submit(e: Event): void {
    e.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#token');
    const token = input?.value.trim() ?? '';
    if (!token) return;
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
    } catch {
      /* storage unavailable */
    }
    bootstrap({ baseUrl: location.origin, token });
  }

  protected override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLInputElement>('#token')?.focus();
  }

  override render() {
    return html`<section class="card" aria-labelledby="login-title">
      <img src="assets/favicon.svg" alt="" />
      <h1 id="login-title">Westfall Assistant</h1>
      ${this.error ? html`<p class="error-text" role="alert">${this.error}</p>` : nothing}
      ${this.desktop
        ? html`<p>The desktop app could not connect to its assistant service. Restart the app.</p>`
        : html`<p class="muted">
              Open the one-time login link that <code>westfall serve</code> printed in its terminal, or paste the access token
              below.
            </p>
            <form @submit=${this.#submit}>
              <label for="token">Access token</label>
              <input id="token" type="password" autocomplete="off" spellcheck="false" required aria-describedby="login-title" />
              <button class="primary" type="submit">Sign in</button>
            </form>`}
    </section>`;
  }
}

customElements.define('wf-login', LoginView);
