// Whether a Westfall app (desktop window or browser tab) is open to confirm calls from MCP clients: the
// app keeps an event stream open (GET /api/mcp/host/confirmations/events) while it runs, and a call that
// changes data is refused at once when none is, instead of waiting minutes for an answer nobody can give.
import type { ConfirmationRequest } from '../tools/agent.js';
import type { Confirmations } from '../tools/confirmations.js';
import type { ConfirmOutcome } from './host.js';

export class AppPresence {
  #open = 0;

  get open(): number {
    return this.#open;
  }

  /** One app stream opened; call the result when it closes. */
  enter(): () => void {
    this.#open++;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#open--;
    };
  }
}

/** Confirms through the app's pending confirmations (answered at POST /api/agent/confirmations/:id). */
export function appConfirmer(confirmations: Confirmations, presence: AppPresence) {
  return async (request: ConfirmationRequest, signal?: AbortSignal): Promise<ConfirmOutcome> => {
    if (presence.open === 0) return 'no_app';
    const answer: unknown = await confirmations.wait(request, signal);
    // The answer is a boolean or { approved, arguments } depending on the confirmations' version.
    const approved = typeof answer === 'boolean' ? answer : (answer as { approved: boolean }).approved;
    return approved ? 'approved' : 'declined';
  };
}
