// Deleting with a few seconds to take it back: the thing leaves the screen at once, a notice offers Undo,
// and only when that time is up is it deleted on the backend. A window closed meanwhile deletes nothing,
// which is the safe way to lose the race.
import { dismissNotice, notifyWithAction, reportError } from '../store.js';

export const UNDO_MS = 6000;

export interface UndoableDelete {
  /** What the notice says, e.g. 'Deleted "Trip plans".' */
  message: string;
  /** Takes it off the screen now. */
  hide(): void;
  /** Puts it back (Undo, or the delete failed). */
  restore(): void;
  /** Deletes it on the backend. */
  commit(): Promise<void>;
  /** For the error notice, e.g. 'Could not delete the conversation'. */
  failure: string;
}

export function deleteWithUndo(d: UndoableDelete, ms = UNDO_MS): void {
  let undone = false;
  d.hide();
  const timer = setTimeout(() => {
    dismissNotice(noticeId);
    d.commit().catch((err: unknown) => {
      d.restore();
      reportError(err, d.failure);
    });
  }, ms);
  const noticeId = notifyWithAction('info', d.message, ms, {
    label: 'Undo',
    run: () => {
      if (undone) return;
      undone = true;
      clearTimeout(timer);
      dismissNotice(noticeId);
      d.restore();
    },
  });
}
