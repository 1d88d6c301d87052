// /sw.js retires the media service worker of earlier versions, which added the bearer token to <audio>
// requests (see shared/media-auth.ts: the session cookie or `?token=` does that now). A browser that still
// has the old one registered fetches this script on its next update check; it takes over at once, so the
// open pages stop going through the old fetch handler, has no fetch handler of its own, and unregisters.
interface ExtendableEventLike extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface WorkerScope {
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  registration: { unregister(): Promise<boolean> };
  addEventListener(type: 'install' | 'activate', fn: (e: ExtendableEventLike) => void): void;
}

const scope = self as unknown as WorkerScope;

scope.addEventListener('install', (e) => e.waitUntil(scope.skipWaiting()));
scope.addEventListener('activate', (e) => e.waitUntil(scope.clients.claim().then(() => scope.registration.unregister())));

export {};
