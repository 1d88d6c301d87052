// The timer: at most one, kept in the time_timer row so it survives a restart of the backend. Paused time
// does not count: `accumulated_ms` holds the time of finished running stretches and `running_since` the
// start of the current one (null while paused). Stopping writes a time entry and removes the timer in
// one transaction.
import { EventEmitter } from 'node:events';
import type { DB } from '../../storage/index.js';
import { ToolError } from '../errors.js';
import { normalizeTags, type Entries, type TimeEntry } from './entries.js';
import type { Projects } from './projects.js';
import type { TimerState } from './types.js';

export type { TimerState } from './types.js';


export interface StartTimer {
  projectId: number;
  description?: string;
  billable?: boolean;
  tags?: string[];
}

interface Row {
  project_id: number;
  project: string;
  description: string;
  billable: number;
  tags: string;
  started_at: number;
  running_since: number | null;
  accumulated_ms: number;
}

export interface TimerEvents {
  change: [TimerState | null];
  stopped: [TimeEntry];
}

export class Timer extends EventEmitter<TimerEvents> {
  constructor(
    private readonly db: DB,
    private readonly projects: Projects,
    private readonly entries: Entries,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  #row(): Row | undefined {
    return this.db
      .prepare('SELECT t.*, p.name AS project FROM time_timer t JOIN time_projects p ON p.id = t.project_id WHERE t.id = 1')
      .get() as Row | undefined;
  }

  #state(r: Row | undefined): TimerState | null {
    if (!r) return null;
    const now = this.now();
    return {
      state: r.running_since === null ? 'paused' : 'running',
      projectId: r.project_id,
      project: r.project,
      description: r.description,
      billable: r.billable === 1,
      tags: JSON.parse(r.tags) as string[],
      startedAt: new Date(r.started_at).toISOString(),
      runningSince: r.running_since === null ? null : new Date(r.running_since).toISOString(),
      elapsedMs: r.accumulated_ms + (r.running_since === null ? 0 : Math.max(0, now - r.running_since)),
    };
  }

  /** The timer, or null when none is running or paused. */
  status(): TimerState | null {
    return this.#state(this.#row());
  }

  start(input: StartTimer): TimerState {
    this.projects.get(input.projectId);
    const now = this.now();
    const state = this.db.transaction(() => {
      const cur = this.#row();
      if (cur) {
        throw new ToolError('timer_running', `a timer is already ${cur.running_since === null ? 'paused' : 'running'} for project "${cur.project}"; stop it first`, {
          details: { timer: this.#state(cur) },
        });
      }
      this.db
        .prepare('INSERT INTO time_timer (id, project_id, description, billable, tags, started_at, running_since, accumulated_ms) VALUES (1, ?, ?, ?, ?, ?, ?, 0)')
        .run(input.projectId, input.description ?? '', input.billable === false ? 0 : 1, JSON.stringify(normalizeTags(input.tags)), now, now);
      return this.status()!;
    }).immediate();
    this.emit('change', state);
    return state;
  }

  pause(): TimerState {
    const state = this.db.transaction(() => {
      const cur = this.#require();
      if (cur.running_since === null) return this.#state(cur)!; // already paused: nothing to do
      const add = Math.max(0, this.now() - cur.running_since);
      this.db.prepare('UPDATE time_timer SET accumulated_ms = accumulated_ms + ?, running_since = NULL WHERE id = 1').run(add);
      return this.status()!;
    }).immediate();
    this.emit('change', state);
    return state;
  }

  resume(): TimerState {
    const state = this.db.transaction(() => {
      const cur = this.#require();
      if (cur.running_since !== null) return this.#state(cur)!;
      this.db.prepare('UPDATE time_timer SET running_since = ? WHERE id = 1').run(this.now());
      return this.status()!;
    }).immediate();
    this.emit('change', state);
    return state;
  }

  /** Stops the timer and writes its entry (start = when it started, duration = time counted). */
  stop(patch: { description?: string; billable?: boolean; tags?: string[] } = {}): TimeEntry {
    const entry = this.db.transaction(() => {
      const cur = this.#require();
      const now = this.now();
      const durationMs = cur.accumulated_ms + (cur.running_since === null ? 0 : Math.max(0, now - cur.running_since));
      const e = this.entries.create(
        {
          projectId: cur.project_id,
          startAt: cur.started_at,
          durationMs,
          description: patch.description ?? cur.description,
          billable: patch.billable ?? cur.billable === 1,
          tags: patch.tags ?? (JSON.parse(cur.tags) as string[]),
        },
        'timer',
      );
      this.db.prepare('DELETE FROM time_timer WHERE id = 1').run();
      return e;
    }).immediate();
    this.emit('change', null);
    this.emit('stopped', entry);
    return entry;
  }

  /** Throws the timer away without writing an entry. */
  discard(): void {
    if (this.db.prepare('DELETE FROM time_timer WHERE id = 1').run().changes === 0) throw new ToolError('timer_not_running');
    this.emit('change', null);
  }

  #require(): Row {
    const cur = this.#row();
    if (!cur) throw new ToolError('timer_not_running', 'no timer is running; start one first');
    return cur;
  }
}
