// A small Server-Sent Events client over fetch, for the tests of the event-stream routes.
export interface SseEvent {
  event: string;
  data: any;
}

export interface SseClient {
  status: number;
  headers: Headers;
  /** The next event (optionally the next of a type), or rejects after `timeoutMs`. */
  next(type?: string, timeoutMs?: number): Promise<SseEvent>;
  /** Every event until the stream ends. */
  all(timeoutMs?: number): Promise<SseEvent[]>;
  close(): void;
}

export async function openSse(url: string, init: RequestInit = {}): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, { ...init, signal: controller.signal });
  const queue: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  let ended = false;
  let failure: unknown = null;
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  void (async () => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data.push(line.slice(6));
          }
          if (data.length === 0) continue; // comment / keep-alive
          queue.push({ event, data: JSON.parse(data.join('\n')) });
          wake();
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) failure = err;
    } finally {
      ended = true;
      wake();
    }
  })();
  const take = async (type: string | undefined, timeoutMs: number): Promise<SseEvent> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = queue.findIndex((e) => type === undefined || e.event === type);
      if (i >= 0) return queue.splice(i, 1)[0]!;
      if (ended) throw new Error(`stream ended without ${type ?? 'an event'}${failure ? `: ${String(failure)}` : ''}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type ?? 'event'} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  };
  return {
    status: res.status,
    headers: res.headers,
    next: (type, timeoutMs = 10_000) => take(type, timeoutMs),
    async all(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return queue.splice(0);
    },
    close: () => controller.abort(),
  };
}
