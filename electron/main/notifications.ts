// Native notifications, and the sources that produce them from the backend: finished model downloads
// (GET /api/models/downloads, then the SSE stream /api/models/downloads/:id/events of each running one) and
// reminders (polled from a route of the tools API). Sources are pluggable: anything implementing
// NotificationSource can be added in electron/main/app.ts's options.
import type { BackendClient } from './backend-client.js';
import { BackendHttpError } from './backend-client.js';
import type { ElectronLike } from './electron-api.js';

export interface NotifyOptions {
  /** Called when the user clicks the notification. */
  onClick?: () => void;
  silent?: boolean;
}

export type Notify = (title: string, body: string, options?: NotifyOptions) => void;

export interface Notifier {
  notify: Notify;
  /** Notifications shown so far (title and body), newest last; for diagnostics and tests. */
  readonly shown: readonly { title: string; body: string }[];
}

/**
 * Wraps electron.Notification; a no-op (logged) where notifications are unsupported. At most `burst` per
 * `windowMs`, and the same title and body only once per `dedupeMs` (the renderer and the main process's
 * sources may both announce one event).
 */
export function createNotifier(
  electron: Pick<ElectronLike, 'Notification'>,
  options: { burst?: number; windowMs?: number; dedupeMs?: number; onClickDefault?: () => void; log?: (m: string, d?: Record<string, unknown>) => void } = {},
): Notifier {
  const shown: { title: string; body: string }[] = [];
  const stamps: number[] = [];
  const recent = new Map<string, number>();
  const burst = options.burst ?? 5;
  const windowMs = options.windowMs ?? 10_000;
  const dedupeMs = options.dedupeMs ?? 60_000;
  return {
    shown,
    notify(title, body, o = {}) {
      const now = Date.now();
      for (const [k, t] of recent) if (now - t > dedupeMs) recent.delete(k);
      const key = `${title}\n${body}`;
      if (recent.has(key)) {
        options.log?.('notification dropped (duplicate)', { title });
        return;
      }
      while (stamps.length && now - stamps[0]! > windowMs) stamps.shift();
      if (stamps.length >= burst) {
        options.log?.('notification dropped (rate limit)', { title });
        return;
      }
      stamps.push(now);
      recent.set(key, now);
      shown.push({ title, body });
      if (shown.length > 100) shown.shift();
      try {
        if (!electron.Notification.isSupported()) {
          options.log?.('notifications are not supported here', { title });
          return;
        }
        const n = new electron.Notification({ title, body, ...(o.silent !== undefined ? { silent: o.silent } : {}) });
        const click = o.onClick ?? options.onClickDefault;
        if (click) n.on('click', click);
        n.show();
      } catch (err) {
        options.log?.('notification failed', { title, err: String(err) });
      }
    },
  };
}

export interface SourceContext {
  client: BackendClient;
  notify: Notify;
  /** Aborted when the backend stops or restarts (the source is started again with the new client). */
  signal: AbortSignal;
  log: (message: string, data?: Record<string, unknown>) => void;
}

export interface NotificationSource {
  readonly name: string;
  /** Starts watching; must stop when ctx.signal aborts. Errors are logged, not fatal. */
  start(ctx: SourceContext): void | Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

interface DownloadLike {
  id: string;
  fileName?: string;
  state: string;
  error?: { code?: string; message?: string };
}

const TERMINAL = new Set(['verified', 'error', 'cancelled']);

/**
 * Finished downloads: lists downloads every `pollMs`, follows each running one over SSE, and notifies when
 * one is verified (or fails, except when the user cancelled it). Downloads already finished at the first
 * listing are not announced.
 */
export function downloadsSource(options: { pollMs?: number; onOpen?: () => void } = {}): NotificationSource {
  const pollMs = options.pollMs ?? 5000;
  const announced = new Set<string>();
  return {
    name: 'downloads',
    async start(ctx) {
      const following = new Set<string>();
      let first = true;
      const announce = (d: DownloadLike): void => {
        if (announced.has(d.id)) return;
        announced.add(d.id);
        const name = d.fileName ?? 'the model';
        if (d.state === 'verified') {
          ctx.notify('Model downloaded', `${name} is downloaded and verified.`, options.onOpen ? { onClick: options.onOpen } : {});
        } else if (d.state === 'error' && d.error?.code !== 'aborted') {
          ctx.notify('Download failed', `${name}: ${d.error?.message ?? 'the download failed'}`, options.onOpen ? { onClick: options.onOpen } : {});
        }
      };
      const follow = (d: DownloadLike): void => {
        following.add(d.id);
        ctx.client
          .events(
            `/api/models/downloads/${encodeURIComponent(d.id)}/events`,
            (event, data) => {
              if (event === 'verified' || event === 'error') announce({ ...(data as DownloadLike), id: d.id, state: event === 'verified' ? 'verified' : ((data as DownloadLike)?.state ?? 'error') });
            },
            ctx.signal,
          )
          .catch((err: unknown) => {
            if (!ctx.signal.aborted) ctx.log('download events stream failed', { id: d.id, err: String(err) });
          })
          .finally(() => following.delete(d.id));
      };
      while (!ctx.signal.aborted) {
        try {
          const { downloads } = await ctx.client.json<{ downloads: DownloadLike[] }>('GET', '/api/models/downloads', undefined, ctx.signal);
          for (const d of downloads ?? []) {
            if (TERMINAL.has(d.state)) {
              if (first) announced.add(d.id);
              else if (!following.has(d.id)) announce(d);
            } else if (!following.has(d.id)) follow(d);
          }
          first = false;
        } catch (err) {
          if (ctx.signal.aborted) break;
          if (err instanceof BackendHttpError && err.status === 404) {
            ctx.log('downloads API not present; download notifications are off');
            return;
          }
          ctx.log('listing downloads failed', { err: String(err) });
        }
        await sleep(pollMs, ctx.signal);
      }
    },
  };
}

export interface ReminderLike {
  id: string | number;
  title: string;
  body?: string;
}

export interface PollingSourceOptions<T> {
  name: string;
  /** GET path on the backend, e.g. '/api/time/reminders/due'. */
  path: string;
  intervalMs?: number;
  /** Extracts the items to announce from the JSON answer. */
  select: (json: unknown) => T[];
  id: (item: T) => string;
  toNotification: (item: T) => { title: string; body: string };
  /** Called after an item was shown (e.g. POST an acknowledgement). */
  acknowledge?: (item: T, ctx: SourceContext) => Promise<void> | void;
}

/** A source that polls a JSON route and announces each new item once. A 404 turns it off (route not present). */
export function pollingSource<T>(o: PollingSourceOptions<T>): NotificationSource {
  const seen = new Set<string>();
  return {
    name: o.name,
    async start(ctx) {
      while (!ctx.signal.aborted) {
        try {
          const json = await ctx.client.json('GET', o.path, undefined, ctx.signal);
          for (const item of o.select(json)) {
            const id = o.id(item);
            if (seen.has(id)) continue;
            seen.add(id);
            const n = o.toNotification(item);
            ctx.notify(n.title, n.body);
            await o.acknowledge?.(item, ctx);
          }
        } catch (err) {
          if (ctx.signal.aborted) break;
          if (err instanceof BackendHttpError && err.status === 404) {
            ctx.log(`${o.path} not present; ${o.name} notifications are off`);
            return;
          }
          ctx.log(`${o.name} poll failed`, { err: String(err) });
        }
        await sleep(o.intervalMs ?? 30_000, ctx.signal);
      }
    },
  };
}

export interface SseSourceOptions {
  name: string;
  /** GET path of a Server-Sent Events stream on the backend. */
  path: string;
  /** Turns one event into a notification, or null to ignore it. */
  toNotification: (event: string, data: unknown) => { title: string; body: string; key?: string } | null;
  /** First delay before reconnecting after the stream ends or fails (doubles up to a minute). */
  retryMs?: number;
}

/**
 * A source that follows an SSE stream, reconnecting with backoff; each notification key is shown once.
 * A 404 turns it off (the route is not in this build).
 */
export function sseSource(o: SseSourceOptions): NotificationSource {
  const seen = new Set<string>();
  return {
    name: o.name,
    async start(ctx) {
      let delay = o.retryMs ?? 2000;
      while (!ctx.signal.aborted) {
        try {
          await ctx.client.events(
            o.path,
            (event, data) => {
              delay = o.retryMs ?? 2000;
              const n = o.toNotification(event, data);
              if (!n) return;
              const key = n.key ?? `${n.title}\n${n.body}`;
              if (seen.has(key)) return;
              seen.add(key);
              if (seen.size > 1000) seen.delete(seen.values().next().value as string);
              ctx.notify(n.title, n.body);
            },
            ctx.signal,
          );
        } catch (err) {
          if (ctx.signal.aborted) break;
          if (err instanceof BackendHttpError && err.status === 404) {
            ctx.log(`${o.path} not present; ${o.name} notifications are off`);
            return;
          }
          ctx.log(`${o.name} stream failed`, { err: String(err) });
        }
        await sleep(delay, ctx.signal);
        delay = Math.min(delay * 2, 60_000);
      }
    },
  };
}

/**
 * Reminders from the time tool: the SSE stream GET /api/time/reminders/events, whose `reminder` events carry
 * { id, message, dueAt, ... }. The renderer shows the same notification while its page is open; the
 * notifier's de-duplication keeps it to one.
 */
export function remindersSource(options: { path?: string; retryMs?: number } = {}): NotificationSource {
  return sseSource({
    name: 'reminders',
    path: options.path ?? '/api/time/reminders/events',
    ...(options.retryMs !== undefined ? { retryMs: options.retryMs } : {}),
    toNotification: (event, data) => {
      if (event !== 'reminder' || !data || typeof data !== 'object') return null;
      const r = data as { id?: unknown; message?: unknown; dueAt?: unknown };
      const message = typeof r.message === 'string' && r.message.trim() ? r.message.slice(0, 500) : 'Reminder';
      return { title: 'Reminder', body: message, key: `${String(r.id)}@${String(r.dueAt)}` };
    },
  });
}

/** Runs sources against one backend client until stopped; restart with a new client after a backend restart. */
export class NotificationHub {
  private controller: AbortController | null = null;

  constructor(
    private readonly sources: readonly NotificationSource[],
    private readonly notify: Notify,
    private readonly log: (message: string, data?: Record<string, unknown>) => void,
  ) {}

  start(client: BackendClient): void {
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    for (const source of this.sources) {
      const ctx: SourceContext = {
        client,
        notify: this.notify,
        signal: controller.signal,
        log: (m, d) => this.log(`[${source.name}] ${m}`, d),
      };
      Promise.resolve()
        .then(() => source.start(ctx))
        .catch((err: unknown) => this.log(`[${source.name}] stopped with an error`, { err: String(err) }));
    }
  }

  stop(): void {
    this.controller?.abort();
    this.controller = null;
  }
}
