// The renderer's entry. In the desktop app the preload exposes `window.westfall` (electron/shared/contract.ts)
// and the session comes from its getBackend(). In a browser the token arrives through the login handover:
//   1. `/#login=CODE` (the link `westfall serve` prints): the single-use code is exchanged for the token with
//      POST /api/session/login; the fragment is removed from the address bar before the request.
//   2. `/?token=TOKEN` (the token itself; kept for scripts): taken and removed from the address bar.
//   3. a token kept in sessionStorage from an earlier handover in this tab.
//   Otherwise the login screen asks for the token (or a fresh link).
import { exchangeLoginCode } from './api/client.js';
import { bootstrap, mountApp } from './bootstrap.js';
import { TOKEN_KEY, endSession, getState, navigate, notify } from './store.js';
import { desktopApi } from './shared/desktop.js';

export { bootstrap } from './bootstrap.js';

function storeToken(token: string): void {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    /* storage unavailable: the session lasts until reload */
  }
}

/** Removes the handover (fragment login code, ?token=) from the address bar and the history entry. */
function scrubLocation(): void {
  const url = new URL(location.href);
  url.searchParams.delete('token');
  const route = /^#\/[a-z]+/.exec(url.hash)?.[0] ?? '#/chat';
  history.replaceState(null, '', `${url.pathname}${url.search}${route}`);
}

async function browserHandover(): Promise<void> {
  const base = location.origin;
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const code = fragment.get('login');
  const queryToken = new URLSearchParams(location.search).get('token');
  if (code || queryToken) scrubLocation();
  if (code) {
    try {
      const token = await exchangeLoginCode(base, code);
      storeToken(token);
      return bootstrap({ baseUrl: base, token });
    } catch (err) {
      mountApp();
      const message = (err as Error).message;
      endSession(`${message.charAt(0).toUpperCase()}${message.slice(1)}.`);
      return;
    }
  }
  if (queryToken) {
    storeToken(queryToken);
    return bootstrap({ baseUrl: base, token: queryToken });
  }
  let saved: string | null = null;
  try {
    saved = sessionStorage.getItem(TOKEN_KEY);
  } catch {
    saved = null;
  }
  if (saved) return bootstrap({ baseUrl: base, token: saved });
  mountApp();
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
