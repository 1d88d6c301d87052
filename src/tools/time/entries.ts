// Time entries (manual, or written by the timer when it stops) and their tags.
import type { DB } from '../../storage/index.js';
import { guarded, notFound, ToolError } from '../errors.js';
import type { Projects } from './projects.js';
import type { TimeEntry } from './types.js';

export type { TimeEntry } from './types.js';


export interface NewTimeEntry {
  projectId: number;
  /** Epoch milliseconds. */
  startAt: number;
  /** Epoch milliseconds; or give durationMs. */
  endAt?: number;
  durationMs?: number;
  description?: string;
  billable?: boolean;
  tags?: string[];
}

export interface EntryFilter {
  projectId?: number;
  /** Epoch ms, inclusive lower bound on the start. */
  from?: number;
  /** Epoch ms, exclusive upper bound on the start. */
  to?: number;
  tag?: string;
  billable?: boolean;
  limit?: number;
  offset?: number;
}

export interface EntryRow {
  id: number;
  project_id: number;
  project: string;
  description: string;
  start_at: number;
  end_at: number;
  duration_ms: number;
  billable: number;
  source: 'manual' | 'timer';
  tags: string | null;
  created_at: number;
}

export const toEntry = (r: EntryRow): TimeEntry => ({
  id: r.id,
  projectId: r.project_id,
  project: r.project,
  description: r.description,
  startAt: new Date(r.start_at).toISOString(),
  endAt: new Date(r.end_at).toISOString(),
  durationMs: r.duration_ms,
  billable: r.billable === 1,
  source: r.source,
  tags: r.tags ? r.tags.split('\u001f').sort() : [],
  createdAt: new Date(r.created_at).toISOString(),
});

const SELECT = `
  SELECT e.*, p.name AS project,
         (SELECT group_concat(t.name, char(31)) FROM time_entry_tags et JOIN time_tags t ON t.id = et.tag_id WHERE et.entry_id = e.id) AS tags
  FROM time_entries e JOIN time_projects p ON p.id = e.project_id`;

export function normalizeTags(tags: readonly string[] | undefined): string[] {
  const out = new Map<string, string>();
  for (const t of tags ?? []) {
    const name = t.trim().replace(/\s+/g, ' ');
    if (name === '') continue;
    if (name.length > 50) throw new ToolError('invalid_params', `tag "${name.slice(0, 20)}…" is longer than 50 characters`);
    if (!out.has(name.toLowerCase())) out.set(name.toLowerCase(), name);
  }
  return [...out.values()];
}

export class Entries {
  constructor(
    private readonly db: DB,
    private readonly projects: Projects,
    private readonly now: () => number = Date.now,
  ) {}

  find(id: number): TimeEntry | null {
    const r = this.db.prepare(`${SELECT} WHERE e.id = ?`).get(id) as EntryRow | undefined;
    return r ? toEntry(r) : null;
  }

  get(id: number): TimeEntry {
    const e = this.find(id);
    if (!e) throw notFound('time entry', id);
    return e;
  }

  list(filter: EntryFilter = {}): { entries: TimeEntry[]; total: number } {
    const { where, args } = entryWhere(filter);
    const rows = this.db.prepare(`${SELECT} ${where} ORDER BY e.start_at DESC, e.id DESC LIMIT ? OFFSET ?`).all(...args, filter.limit ?? 200, filter.offset ?? 0) as EntryRow[];
    const total = (this.db.prepare(`SELECT count(*) AS n FROM time_entries e ${where}`).get(...args) as { n: number }).n;
    return { entries: rows.map(toEntry), total };
  }

  /** All entries matching the filter, oldest first (for reports and exports). */
  all(filter: Omit<EntryFilter, 'limit' | 'offset'> = {}): TimeEntry[] {
    const { where, args } = entryWhere(filter);
    return (this.db.prepare(`${SELECT} ${where} ORDER BY e.start_at, e.id`).all(...args) as EntryRow[]).map(toEntry);
  }

  /** Writes an entry (and its tags) in one transaction. `source` is 'timer' for the timer's entries. */
  create(input: NewTimeEntry, source: 'manual' | 'timer' = 'manual'): TimeEntry {
    this.projects.get(input.projectId);
    const { startAt, endAt, durationMs } = span(input);
    const tags = normalizeTags(input.tags);
    return this.db.transaction(() => {
      const r = this.db
        .prepare(
          `INSERT INTO time_entries (project_id, description, start_at, end_at, duration_ms, billable, source, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        )
        .get(input.projectId, input.description ?? '', startAt, endAt, durationMs, input.billable === false ? 0 : 1, source, this.now()) as { id: number };
      this.#setTags(r.id, tags);
      return this.get(r.id);
    })();
  }

  update(id: number, patch: Partial<NewTimeEntry>): TimeEntry {
    const cur = this.get(id);
    if (patch.projectId !== undefined) this.projects.get(patch.projectId);
    const startAt = patch.startAt ?? Date.parse(cur.startAt);
    const timing =
      patch.endAt !== undefined || patch.durationMs !== undefined || patch.startAt !== undefined
        ? span({
            startAt,
            ...(patch.endAt !== undefined ? { endAt: patch.endAt } : patch.durationMs !== undefined ? { durationMs: patch.durationMs } : { durationMs: cur.durationMs }),
          })
        : { startAt, endAt: Date.parse(cur.endAt), durationMs: cur.durationMs };
    return this.db.transaction(() => {
      this.db
        .prepare('UPDATE time_entries SET project_id = ?, description = ?, start_at = ?, end_at = ?, duration_ms = ?, billable = ? WHERE id = ?')
        .run(patch.projectId ?? cur.projectId, patch.description ?? cur.description, timing.startAt, timing.endAt, timing.durationMs, (patch.billable ?? cur.billable) ? 1 : 0, id);
      if (patch.tags !== undefined) this.#setTags(id, normalizeTags(patch.tags));
      return this.get(id);
    })();
  }

  delete(id: number): void {
    if (this.db.prepare('DELETE FROM time_entries WHERE id = ?').run(id).changes === 0) throw notFound('time entry', id);
  }

  tags(): { name: string; entries: number }[] {
    return this.db
      .prepare('SELECT t.name, count(et.entry_id) AS entries FROM time_tags t LEFT JOIN time_entry_tags et ON et.tag_id = t.id GROUP BY t.id ORDER BY t.name COLLATE NOCASE')
      .all() as { name: string; entries: number }[];
  }

  #setTags(entryId: number, tags: string[]): void {
    this.db.prepare('DELETE FROM time_entry_tags WHERE entry_id = ?').run(entryId);
    const upsert = this.db.prepare('INSERT INTO time_tags (name) VALUES (?) ON CONFLICT (name) DO UPDATE SET name = name RETURNING id');
    const link = this.db.prepare('INSERT OR IGNORE INTO time_entry_tags (entry_id, tag_id) VALUES (?, ?)');
    for (const t of tags) {
      const { id } = guarded(`tag "${t}"`, () => upsert.get(t)) as { id: number };
      link.run(entryId, id);
    }
  }
}

function entryWhere(filter: Omit<EntryFilter, 'limit' | 'offset'>): { where: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (filter.projectId !== undefined) {
    where.push('e.project_id = ?');
    args.push(filter.projectId);
  }
  if (filter.from !== undefined) {
    where.push('e.start_at >= ?');
    args.push(filter.from);
  }
  if (filter.to !== undefined) {
    where.push('e.start_at < ?');
    args.push(filter.to);
  }
  if (filter.billable !== undefined) {
    where.push('e.billable = ?');
    args.push(filter.billable ? 1 : 0);
  }
  if (filter.tag !== undefined) {
    where.push('EXISTS (SELECT 1 FROM time_entry_tags et JOIN time_tags t ON t.id = et.tag_id WHERE et.entry_id = e.id AND t.name = ? COLLATE NOCASE)');
    args.push(filter.tag);
  }
  return { where: where.length ? `WHERE ${where.join(' AND ')}` : '', args };
}

function span(input: { startAt: number; endAt?: number; durationMs?: number }): { startAt: number; endAt: number; durationMs: number } {
  if (!Number.isSafeInteger(input.startAt)) throw new ToolError('invalid_params', 'startAt must be a time');
  if (input.endAt !== undefined) {
    if (!Number.isSafeInteger(input.endAt) || input.endAt < input.startAt) {
      throw new ToolError('invalid_params', 'the end must not be before the start', { details: { fields: [{ path: 'endAt', message: 'before startAt' }] } });
    }
    return { startAt: input.startAt, endAt: input.endAt, durationMs: input.endAt - input.startAt };
  }
  if (input.durationMs === undefined || !Number.isSafeInteger(input.durationMs) || input.durationMs < 0) {
    throw new ToolError('invalid_params', 'give an end time or a non-negative durationMs', { details: { fields: [{ path: 'durationMs', message: 'required without endAt' }] } });
  }
  return { startAt: input.startAt, endAt: input.startAt + input.durationMs, durationMs: input.durationMs };
}
