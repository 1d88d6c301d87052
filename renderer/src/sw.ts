// The service worker (served at /sw.js, scope /): adds the bearer token to the music streaming requests of
// <audio> elements, which cannot set headers, so audio streams from the Range route
// (/api/music/tracks/:id/stream) with seeking. It touches no other request and caches nothing. It keeps the
// token in memory only; after a restart of the worker it asks the page that made the request. A browser
// signed in with the session cookie has no token: the request then goes with the cookie alone.
interface FetchEventLike extends Event {
  request: Request;
  clientId: string;
  respondWith(r: Promise<Response>): void;
}
interface ExtendableEventLike extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface ClientLike {
  postMessage(message: unknown, transfer: Transferable[]): void;
}
interface WorkerScope {
  location: Location;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void>; get(id: string): Promise<ClientLike | undefined>; matchAll(): Promise<ClientLike[]> };
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEventLike) => void): void;
  addEventListener(type: 'fetch', fn: (e: FetchEventLike) => void): void;
  addEventListener(type: 'message', fn: (e: MessageEvent) => void): void;
}

const scope = self as unknown as WorkerScope;
const MEDIA_PATH = /^\/api\/music\/(tracks\/\d+\/stream|folders\/\d+\/files\/)/;
let token: string | null = null;

scope.addEventListener('install', (e) => e.waitUntil(scope.skipWaiting()));
scope.addEventListener('activate', (e) => e.waitUntil(scope.clients.claim()));
scope.addEventListener('message', (e) => {
  const data = e.data as { type?: string; token?: unknown } | null;
  if (data?.type === 'westfall-token') token = typeof data.token === 'string' && data.token ? data.token : null;
});

async function askForToken(clientId: string): Promise<string | null> {
  const candidates = [...(clientId ? [await scope.clients.get(clientId)] : []), ...(await scope.clients.matchAll())].filter((c): c is ClientLike => c !== undefined);
  for (const client of candidates) {
    const answer = await new Promise<string | null>((resolve) => {
      const channel = new MessageChannel();
      const timer = setTimeout(() => resolve(null), 1000);
      channel.port1.onmessage = (m: MessageEvent) => {
        clearTimeout(timer);
        resolve(typeof m.data === 'string' && m.data ? m.data : null);
      };
      client.postMessage({ type: 'westfall-token-request' }, [channel.port2]);
    });
    if (answer) return answer;
  }
  return null;
}

scope.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (url.origin !== scope.location.origin || !MEDIA_PATH.test(url.pathname) || (e.request.method !== 'GET' && e.request.method !== 'HEAD')) return;
  e.respondWith(
    (async () => {
      token ??= await askForToken(e.clientId);
      const headers = new Headers();
      const range = e.request.headers.get('range');
      if (range) headers.set('range', range);
      const ifRange = e.request.headers.get('if-range');
      if (ifRange) headers.set('if-range', ifRange);
      if (token) headers.set('authorization', `Bearer ${token}`);
      return fetch(url.toString(), { method: e.request.method, headers, mode: 'same-origin', credentials: 'same-origin', cache: 'no-store', redirect: 'error' });
    })(),
  );
});

export {};
