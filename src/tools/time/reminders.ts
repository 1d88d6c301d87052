// Reminders at a time the user sets, delivered as 'reminder' events of this EventEmitter and to
// delivery channels (subscribe(): the REST plugin's Server-Sent Events stream, which also receives what
// fell due while no channel was open). They live in SQLite: start() loads the
// pending ones, and one setTimeout waits for the next due time. A reminder that fell due while the backend
// was down is delivered at start. Repeating reminders move to their next time when delivered.
import { EventEmitter } from 'node:events';
import type { DB } from '../../storage/index.js';
import { notFound, ToolError } from '../errors.js';
import { REMINDER_REPEATS, type Reminder, type ReminderRepeat } from './types.js';

export { REMINDER_REPEATS, type Reminder, type ReminderRepeat } from './types.js';



export interface ReminderEvent {
  id: number;
  message: string;
  dueAt: string;
  deliveredAt: string;
  repeat: ReminderRepeat;
  /** Next time of a repeating reminder. */
  nextAt: string | null;
}

export interface RemindersEvents {
  reminder: [ReminderEvent];
}

interface Row {
  id: number;
  message: string;
  due_at: number;
  repeat: ReminderRepeat;
  delivered_at: number | null;
  active: number;
  created_at: number;
}

const toReminder = (r: Row): Reminder => ({
  id: r.id,
  message: r.message,
  dueAt: new Date(r.due_at).toISOString(),
  repeat: r.repeat,
  deliveredAt: r.delivered_at === null ? null : new Date(r.delivered_at).toISOString(),
  active: r.active === 1,
  createdAt: new Date(r.created_at).toISOString(),
});

// setTimeout's longest delay; longer waits are re-armed.
const MAX_DELAY = 2_147_483_647;

/** The next time after `after` of a repeating reminder first due at `due` (local clock, so 9:00 stays 9:00 across DST). */
export function nextOccurrence(due: number, repeat: ReminderRepeat, after: number): number | null {
  if (repeat === 'none') return null;
  const d = new Date(due);
  do {
    if (repeat === 'weekly') d.setDate(d.getDate() + 7);
    else {
      d.setDate(d.getDate() + 1);
      if (repeat === 'weekdays') while (d.getDay() === 0 || d.getDay() === 6) d.setDate(d.getDate() + 1);
    }
  } while (d.getTime() <= after);
  return d.getTime();
}

/** Reminders kept for the app while no delivery channel is open (the oldest go first). */
export const MAX_MISSED = 100;

export class Reminders extends EventEmitter<RemindersEvents> {
  #timer: NodeJS.Timeout | null = null;
  #started = false;
  readonly #subscribers = new Set<(e: ReminderEvent) => void>();
  readonly #missed: ReminderEvent[] = [];

  constructor(
    private readonly db: DB,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  get started(): boolean {
    return this.#started;
  }

  /** Loads pending reminders, delivers the overdue ones and waits for the next. */
  start(): void {
    this.#started = true;
    this.#fire();
  }

  stop(): void {
    this.#started = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /**
   * A delivery channel to the user (the app's event stream): it first receives the reminders that fell
   * due while no channel was open (overdue ones delivered at startup, before the app connected), then
   * each new one. Returns the unsubscribe function. ('reminder' events are emitted either way.)
   */
  subscribe(deliver: (e: ReminderEvent) => void): () => void {
    for (const e of this.#missed.splice(0)) deliver(e);
    this.#subscribers.add(deliver);
    return () => {
      this.#subscribers.delete(deliver);
    };
  }

  /** Reminders waiting for a delivery channel. */
  get missed(): readonly ReminderEvent[] {
    return [...this.#missed];
  }

  list(options: { includeDone?: boolean } = {}): Reminder[] {
    const rows = this.db
      .prepare(`SELECT * FROM time_reminders ${options.includeDone ? '' : "WHERE active = 1 AND (delivered_at IS NULL OR repeat <> 'none')"} ORDER BY due_at, id`)
      .all() as Row[];
    return rows.map(toReminder);
  }

  get(id: number): Reminder {
    const r = this.db.prepare('SELECT * FROM time_reminders WHERE id = ?').get(id) as Row | undefined;
    if (!r) throw notFound('reminder', id);
    return toReminder(r);
  }

  create(input: { message: string; dueAt: number; repeat?: ReminderRepeat }): Reminder {
    if (!Number.isSafeInteger(input.dueAt)) throw new ToolError('invalid_params', 'dueAt must be a time');
    if (input.message.trim() === '') throw new ToolError('invalid_params', 'the reminder needs a message');
    const r = this.db
      .prepare('INSERT INTO time_reminders (message, due_at, repeat, created_at) VALUES (?, ?, ?, ?) RETURNING *')
      .get(input.message.trim(), input.dueAt, input.repeat ?? 'none', this.now()) as Row;
    this.#reschedule();
    return toReminder(r);
  }

  update(id: number, patch: { message?: string; dueAt?: number; repeat?: ReminderRepeat; active?: boolean }): Reminder {
    const cur = this.get(id);
    const dueAt = patch.dueAt ?? Date.parse(cur.dueAt);
    // A new time re-arms a delivered one-off reminder.
    const delivered = patch.dueAt !== undefined ? null : cur.deliveredAt === null ? null : Date.parse(cur.deliveredAt);
    this.db
      .prepare('UPDATE time_reminders SET message = ?, due_at = ?, repeat = ?, active = ?, delivered_at = ? WHERE id = ?')
      .run(patch.message?.trim() ?? cur.message, dueAt, patch.repeat ?? cur.repeat, (patch.active ?? cur.active) ? 1 : 0, delivered, id);
    this.#reschedule();
    return this.get(id);
  }

  delete(id: number): void {
    if (this.db.prepare('DELETE FROM time_reminders WHERE id = ?').run(id).changes === 0) throw notFound('reminder', id);
    this.#reschedule();
  }

  /** Delivers every due reminder now and re-arms the timer. */
  #fire(): void {
    if (!this.#started) return;
    const now = this.now();
    const events = this.db.transaction(() => {
      const due = this.db
        .prepare("SELECT * FROM time_reminders WHERE active = 1 AND due_at <= ? AND (delivered_at IS NULL OR repeat <> 'none') ORDER BY due_at, id")
        .all(now) as Row[];
      const out: ReminderEvent[] = [];
      for (const r of due) {
        // A repeating reminder whose time has come was not yet delivered for this time.
        const next = nextOccurrence(r.due_at, r.repeat, now);
        if (next === null) this.db.prepare('UPDATE time_reminders SET delivered_at = ? WHERE id = ?').run(now, r.id);
        else this.db.prepare('UPDATE time_reminders SET delivered_at = ?, due_at = ? WHERE id = ?').run(now, next, r.id);
        out.push({
          id: r.id,
          message: r.message,
          dueAt: new Date(r.due_at).toISOString(),
          deliveredAt: new Date(now).toISOString(),
          repeat: r.repeat,
          nextAt: next === null ? null : new Date(next).toISOString(),
        });
      }
      return out;
    }).immediate();
    for (const e of events) {
      this.emit('reminder', e);
      if (this.#subscribers.size === 0) {
        this.#missed.push(e);
        if (this.#missed.length > MAX_MISSED) this.#missed.shift();
      } else {
        for (const deliver of this.#subscribers) deliver(e);
      }
    }
    this.#reschedule();
  }

  #reschedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (!this.#started) return;
    const next = this.db
      .prepare("SELECT min(due_at) AS t FROM time_reminders WHERE active = 1 AND (delivered_at IS NULL OR repeat <> 'none')")
      .get() as { t: number | null };
    if (next.t === null) return;
    const delay = Math.min(MAX_DELAY, Math.max(0, next.t - this.now()));
    this.#timer = setTimeout(() => this.#fire(), delay);
    this.#timer.unref();
  }
}
