// Follows the backend's player over its event stream (/api/music/player/events): the assistant may change
// what plays. Reconnects with backoff (2 s doubling to a minute) until `signal` aborts; stops for good on
// 401 or when this backend has no such route.
import { ApiError } from '../api/client.js';
import { api } from '../store.js';
import type { PlayerState } from '../../../src/tools/music/types.js';

export function followPlayer(signal: AbortSignal, onState: (state: PlayerState) => void): void {
  const loop = async () => {
    let delay = 2000;
    while (!signal.aborted) {
      try {
        await api().sse(
          '/api/music/player/events',
          (ev) => {
            delay = 2000;
            if (ev.event !== 'player') return;
            try {
              onState(JSON.parse(ev.data) as PlayerState);
            } catch {
              /* malformed */
            }
          },
          signal,
        );
      } catch (err) {
        if (signal.aborted || (err instanceof ApiError && (err.isMissingRoute || err.status === 401))) return;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 60_000);
    }
  };
  void loop();
}
