// Pending confirmations of tool calls, answered by the app. The agent's `confirm` callback registers a
// request and waits; the app answers it by id (approve or decline). Unanswered requests are declined
// after a timeout, or when the run is aborted.
import { EventEmitter } from 'node:events';
import { notFound } from './errors.js';
import type { ConfirmationRequest } from './agent.js';

interface Pending {
  request: ConfirmationRequest;
  resolve: (approved: boolean) => void;
  timer: NodeJS.Timeout;
}

export interface ConfirmationsEvents {
  requested: [ConfirmationRequest];
  answered: [{ id: string; approved: boolean; reason: 'user' | 'timeout' | 'aborted' }];
}

export class Confirmations extends EventEmitter<ConfirmationsEvents> {
  readonly #pending = new Map<string, Pending>();

  constructor(private readonly timeoutMs = 5 * 60_000) {
    super();
  }

  /** A `confirm` callback for runAgent. */
  confirmer(signal?: AbortSignal): (request: ConfirmationRequest) => Promise<boolean> {
    return (request) => this.wait(request, signal);
  }

  wait(request: ConfirmationRequest, signal?: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const settle = (approved: boolean, reason: 'user' | 'timeout' | 'aborted') => {
        const p = this.#pending.get(request.id);
        if (!p) return;
        clearTimeout(p.timer);
        this.#pending.delete(request.id);
        signal?.removeEventListener('abort', onAbort);
        this.emit('answered', { id: request.id, approved, reason });
        resolve(approved);
      };
      const onAbort = () => settle(false, 'aborted');
      const timer = setTimeout(() => settle(false, 'timeout'), this.timeoutMs);
      timer.unref();
      this.#pending.set(request.id, { request, resolve: (approved) => settle(approved, 'user'), timer });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.emit('requested', request);
    });
  }

  list(): ConfirmationRequest[] {
    return [...this.#pending.values()].map((p) => p.request);
  }

  /** The app's answer; not_found when no such request is waiting. */
  answer(id: string, approved: boolean): ConfirmationRequest {
    const p = this.#pending.get(id);
    if (!p) throw notFound('confirmation', id);
    p.resolve(approved);
    return p.request;
  }

  /** Declines everything pending (shutdown). */
  clear(): void {
    for (const p of [...this.#pending.values()]) p.resolve(false);
  }
}
