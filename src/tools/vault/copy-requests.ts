// Requests to copy a password, made by the model and answered by the user in the app. The model only
// learns that a request is pending; the password goes to the app when the user approves it. Requests
// live in memory and expire.
import { randomUUID } from 'node:crypto';
import { notFound } from '../errors.js';
import type { CopyRequest } from './types.js';

export type { CopyRequest } from './types.js';

export class CopyRequests {
  readonly #pending = new Map<string, CopyRequest & { expires: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(entryId: string, title: string): CopyRequest {
    this.#prune();
    const now = this.now();
    const r = { id: randomUUID(), entryId, title, createdAt: new Date(now).toISOString(), expiresAt: new Date(now + this.ttlMs).toISOString(), expires: now + this.ttlMs };
    this.#pending.set(r.id, r);
    return strip(r);
  }

  list(): CopyRequest[] {
    this.#prune();
    return [...this.#pending.values()].map(strip);
  }

  /** Removes and returns a pending request; not_found when unknown or expired. */
  take(id: string): CopyRequest {
    this.#prune();
    const r = this.#pending.get(id);
    if (!r) throw notFound('copy request', id);
    this.#pending.delete(id);
    return strip(r);
  }

  clear(): void {
    this.#pending.clear();
  }

  #prune(): void {
    const now = this.now();
    for (const [id, r] of this.#pending) if (r.expires <= now) this.#pending.delete(id);
  }
}

function strip(r: CopyRequest & { expires: number }): CopyRequest {
  return { id: r.id, entryId: r.entryId, title: r.title, createdAt: r.createdAt, expiresAt: r.expiresAt };
}
