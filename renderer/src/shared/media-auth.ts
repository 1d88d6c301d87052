// Authenticated media URLs for <audio>. With the service worker (sw.ts) in control, the plain stream URL
// works (the worker adds the token and keeps Range requests, so playback streams and seeks). Without it
// (no service worker support, or it failed to start) the file is fetched with the token into a blob: URL.
import type { ApiClient } from '../api/client.js';

let ready: Promise<boolean> | null = null;
let tokenFor: ApiClient | null = null;

function tokenOf(client: ApiClient): string {
  return client.authorization.replace(/^Bearer /, '');
}

/** Registers the worker (once) and hands it the token; resolves true when it controls the page. */
export function ensureMediaWorker(client: ApiClient): Promise<boolean> {
  const sw = globalThis.navigator?.serviceWorker;
  const httpPage = location.protocol === 'http:' || location.protocol === 'https:';
  // Without a token the session cookie goes along with <audio> requests by itself.
  if (!client.hasToken || !sw || !httpPage || new URL(client.baseUrl).origin !== location.origin) return Promise.resolve(false);
  tokenFor = client;
  const post = () => sw.controller?.postMessage({ type: 'westfall-token', token: tokenOf(client) });
  if (!ready) {
    sw.addEventListener('message', (e: MessageEvent) => {
      if ((e.data as { type?: string })?.type === 'westfall-token-request' && tokenFor) e.ports[0]?.postMessage(tokenOf(tokenFor));
    });
    sw.addEventListener('controllerchange', () => post());
    ready = (async () => {
      try {
        await sw.register('/sw.js', { scope: '/' });
        await sw.ready;
        if (!sw.controller) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 3000);
            sw.addEventListener('controllerchange', () => (clearTimeout(t), resolve()), { once: true });
          });
        }
        return sw.controller !== null;
      } catch (err) {
        console.warn('media service worker unavailable', err);
        return false;
      }
    })();
  }
  return ready.then((ok) => {
    if (ok) post();
    return ok;
  });
}

/** Drops the worker's token (sign-out). */
export function forgetMediaToken(): void {
  tokenFor = null;
  globalThis.navigator?.serviceWorker?.controller?.postMessage({ type: 'westfall-token', token: null });
}

/** A URL an <audio> element can play for an API media path. Blob URLs must be revoked by the caller. */
export async function mediaUrl(client: ApiClient, path: string, signal?: AbortSignal): Promise<{ url: string; blob: boolean }> {
  if (!client.hasToken) return { url: client.url(path), blob: false };
  if (await ensureMediaWorker(client)) return { url: client.url(path), blob: false };
  const res = await fetch(client.url(path), { headers: { authorization: client.authorization }, signal: signal ?? null });
  if (!res.ok) throw new Error(`the track could not be loaded (HTTP ${res.status})`);
  return { url: URL.createObjectURL(await res.blob()), blob: true };
}
