// Reminders as they fall due (SSE /api/time/reminders/events), shown as a notice in the page (the desktop
// app's main process shows the native notification itself, also while no window is open). Reconnects with
// backoff; stops for good when the backend has no time routes.
import { ApiError, type ApiClient } from '../api/client.js';
import { notify } from '../store.js';

export function watchReminders(client: ApiClient): () => void {
  const controller = new AbortController();
  let delay = 2000;
  const run = async () => {
    while (!controller.signal.aborted) {
      try {
        await client.sse(
          '/api/time/reminders/events',
          (ev) => {
            delay = 2000;
            if (ev.event !== 'reminder') return;
            try {
              const r = JSON.parse(ev.data) as { message?: string };
              const text = r.message ?? 'Reminder';
              notify('info', `Reminder: ${text}`, 0);
            } catch {
              /* malformed event */
            }
          },
          controller.signal,
        );
      } catch (err) {
        if (controller.signal.aborted) return;
        if (err instanceof ApiError && (err.isMissingRoute || err.status === 401)) return;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 60_000);
    }
  };
  void run();
  return () => controller.abort();
}
