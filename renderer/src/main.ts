// The renderer's entry. In the desktop app the preload exposes `window.westfall` (electron/shared/contract.ts)
// and the session comes from its getBackend(). In a browser the backend's session cookie (httpOnly, so this
// page never holds a token) signs every tab in, across backend restarts:
//   1. `/#login=CODE` (the link `npm start` / `westfall login-link` prints): the single-use code is exchanged
//      for the cookie with POST /api/session/login; the fragment is removed from the address bar first. A
//      link pasted into a tab that is already open arrives as a hash change and is handled the same way.
//   2. `/?token=TOKEN` (the token itself; kept for scripts): exchanged for the cookie, removed from the bar.
//   3. otherwise GET /api/session says whether the cookie is there and valid.
//   Otherwise the login screen says how to get a link (or takes the token).
import { ApiError, sessionStatus, signIn } from './api/client.js';
import { bootstrap, mountApp } from './bootstrap.js';
import { endSession, getState, navigate, notify } from './store.js';
import { desktopApi } from './shared/desktop.js';

export { bootstrap } from './bootstrap.js';

/** Removes the handover (fragment login code, ?token=) from the address bar and the history entry. */
function scrubLocation(): void {
  const url = new URL(location.href);
  url.searchParams.delete('token');
  const route = /^#\/[a-z]+/.exec(url.hash)?.[0] ?? '#/chat';
  history.replaceState(null, '', `${url.pathname}${url.search}${route}`);
}

function refused(err: unknown): void {
  mountApp();
  const message = err instanceof ApiError && err.code === 'offline' ? err.message : (err as Error).message;
  endSession(`${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'}`);
}

/** Signs in with a code or the token from the address bar; false when there was none. */
async function signInFromLocation(): Promise<boolean> {
  const base = location.origin;
  const code = new URLSearchParams(location.hash.replace(/^#/, '')).get('login');
  const queryToken = new URLSearchParams(location.search).get('token');
  if (!code && !queryToken) return false;
  scrubLocation();
  try {
    await signIn(base, code ? { code } : { token: queryToken! });
    bootstrap({ baseUrl: base, token: null });
  } catch (err) {
    refused(err);
  }
  return true;
}

async function browserHandover(): Promise<void> {
  try {
    // A token an older version of this page kept in the tab: the cookie has replaced it.
    sessionStorage.removeItem('westfall.token');
  } catch {
    /* storage unavailable */
  }
  globalThis.addEventListener('hashchange', () => {
    if (/^#(.*&)?login=/.test(location.hash)) void signInFromLocation();
  });
  if (await signInFromLocation()) return;
  try {
    const s = await sessionStatus(location.origin);
    if (s.signedIn) return bootstrap({ baseUrl: location.origin, token: null });
    mountApp();
  } catch (err) {
    refused(err);
  }
}

async function desktopHandover(): Promise<boolean> {
  const desk = desktopApi();
  if (!desk) return false;
  mountApp();
  try {
    const info = await desk.getBackend();
    bootstrap({ baseUrl: info.baseUrl, token: info.token, desktop: true });
  } catch (err) {
    endSession(`The desktop app did not hand over the backend: ${(err as Error).message}`);
    return true;
  }
  const quickWindow = /^#\/quick/.test(location.hash); // the quick-ask window shows the chat alone
  desk.onQuickAsk?.((event) => {
    if (!quickWindow) navigate('chat');
    window.dispatchEvent(new CustomEvent('wf-quick-ask', { detail: { text: event.text } }));
    if (!getState().api) notify('error', 'Not connected to the assistant service.');
  });
  return true;
}

if (!(await desktopHandover())) await browserHandover();
