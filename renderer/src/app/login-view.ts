// <wf-login>: shown without a session. Says how to get a login link and accepts the token pasted by hand
// (exchanged for the same session cookie a link gives).
// Properties: `error` (why the last attempt failed), `desktop`. Event: none (it starts the session itself
// through bootstrap, which is the one way into the app).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { signIn } from '../api/client.js';
import { bootstrap } from '../bootstrap.js';
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

  async #submit(e: Event): Promise<void> {
    e.preventDefault();
    const input = this.renderRoot.querySelector<HTMLInputElement>('#token');
    const token = input?.value.trim() ?? '';
    if (!token) return;
    try {
      await signIn(location.origin, { token });
    } catch (err) {
      this.error = (err as Error).message;
      return;
    }
    bootstrap({ baseUrl: location.origin, token: null });
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
        : html`<p data-testid="sign-in-advice">
              Open the login link that <code>npm start</code> printed in its terminal, or run <code>npx westfall login-link</code> for a new
              one.
            </p>
            <p class="muted small">This browser then stays signed in, in every tab and after the assistant restarts. Or paste the access token:</p>
            <form @submit=${(e: Event) => void this.#submit(e)}>
              <label for="token">Access token</label>
              <input id="token" type="password" autocomplete="off" spellcheck="false" required aria-describedby="login-title" />
              <button class="primary" type="submit">Sign in</button>
            </form>`}
    </section>`;
  }
}

customElements.define('wf-login', LoginView);
