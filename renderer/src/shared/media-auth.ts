// Media URLs for <audio>, which cannot send an Authorization header. A browser signed in with the session
// cookie needs nothing: the same-origin cookie goes along with the element's requests, Range requests
// included, so playback streams and seeks. The desktop app holds a bearer token and no cookie; the stream
// route takes that token as `?token=` for this case (and the logs redact it).
//
// Earlier versions registered a service worker (/sw.js) that added the token to these requests. One left
// behind in a browser that now signs in by cookie had no token to add and waited a second per audio request
// asking pages for one, so retireMediaWorker() removes it.
import type { ApiClient } from '../api/client.js';

/** A URL an <audio> element can play for an API media path. */
export function mediaUrl(client: ApiClient, path: string): string {
  if (!client.hasToken) return client.url(path);
  return client.url(path, { token: client.authorization.replace(/^Bearer /, '') });
}

/**
 * Removes a media service worker an earlier version registered. Unregistering alone would leave it in
 * control of the open page until it is closed, so the registration is updated first: today's /sw.js takes
 * over without intercepting anything and then unregisters itself (see sw.ts).
 */
export async function retireMediaWorker(): Promise<void> {
  const sw = globalThis.navigator?.serviceWorker;
  if (!sw) return;
  try {
    const registrations = await sw.getRegistrations();
    await Promise.all(
      registrations
        .filter((r) => /\/sw\.js$/.test((r.active ?? r.waiting ?? r.installing)?.scriptURL ?? ''))
        .map(async (r) => {
          try {
            await r.update();
          } catch {
            await r.unregister(); // no /sw.js to update to: at least the next page load goes without it
          }
        }),
    );
  } catch (err) {
    console.warn('could not remove the old media service worker', err);
  }
}
