// bootstrap({ baseUrl, token }): starts the UI against a backend. The browser entry (main.ts) calls it after
// the login handover; the desktop app's page calls it with what its preload's `window.westfall.getBackend()`
// returns. Idempotent: a second call replaces the session.
import './app/app-shell.js';
import { retireMediaWorker } from './shared/media-auth.js';
import { applyTheme, startSession, syncRouteFromLocation } from './store.js';

export interface BootstrapOptions {
  /** The backend's origin, e.g. http://127.0.0.1:8756. */
  baseUrl: string;
  /** The bearer token, or null when the browser's session cookie authenticates. */
  token: string | null;
  /** Running inside the desktop app. */
  desktop?: boolean;
  /** Where to put <wf-app> if the document has none (default: document.body). */
  mount?: HTMLElement;
}

let listening = false;

/** Applies the theme and mounts <wf-app> without a session (the login screen). */
export function mountApp(mount?: HTMLElement): void {
  applyTheme();
  if (!listening) {
    listening = true;
    globalThis.matchMedia?.('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme());
    globalThis.addEventListener('hashchange', () => syncRouteFromLocation());
    void retireMediaWorker();
  }
  if (!document.querySelector('wf-app')) (mount ?? document.body).append(document.createElement('wf-app'));
}

export function bootstrap(options: BootstrapOptions): void {
  if (!/^https?:\/\//.test(options.baseUrl)) throw new TypeError('bootstrap: baseUrl must be an http(s) URL');
  if (options.token === '') throw new TypeError('bootstrap: token must be a token or null (cookie session)');
  mountApp(options.mount);
  startSession(options.baseUrl, options.token, { desktop: options.desktop ?? false });
}
