// Projects: what time is tracked against, for a client, at an hourly rate (minor units per hour), with an
// optional budget (minor units) and a status.
import type { DB } from '../../storage/index.js';
import { guarded, notFound, ToolError } from '../errors.js';
import { isCurrencyCode } from '../finance/money.js';
import { PROJECT_STATUSES, type Project, type ProjectStatus } from './types.js';

export { PROJECT_STATUSES, type Project, type ProjectStatus } from './types.js';



export interface NewProject {
  name: string;
  client?: string;
  hourlyRate?: number;
  currency?: string;
  budget?: number | null;
  status?: ProjectStatus;
}

interface Row {
  id: number;
  name: string;
  client: string;
  hourly_rate: number;
  currency: string;
  budget: number | null;
  status: ProjectStatus;
  created_at: number;
}

const toProject = (r: Row): Project => ({
  id: r.id,
  name: r.name,
  client: r.client,
  hourlyRate: r.hourly_rate,
  currency: r.currency,
  budget: r.budget,
  status: r.status,
  createdAt: new Date(r.created_at).toISOString(),
});

function checkMoney(v: number | null | undefined, field: string): void {
  if (v == null) return;
  if (!Number.isSafeInteger(v) || v < 0) throw new ToolError('invalid_params', `${field} must be a non-negative integer of minor units`, { details: { fields: [{ path: field, message: 'invalid' }] } });
}

function checkCurrency(c: string): string {
  const code = c.toUpperCase();
  if (!isCurrencyCode(code)) throw new ToolError('invalid_params', `${c} is not an ISO 4217 currency code`, { details: { fields: [{ path: 'currency', message: 'unknown currency' }] } });
  return code;
}

export class Projects {
  constructor(
    private readonly db: DB,
    private readonly now: () => number = Date.now,
    private readonly defaultCurrency = 'USD',
  ) {}

  list(options: { status?: ProjectStatus } = {}): Project[] {
    const rows = this.db
      .prepare(`SELECT * FROM time_projects ${options.status ? 'WHERE status = ?' : ''} ORDER BY name COLLATE NOCASE`)
      .all(...(options.status ? [options.status] : [])) as Row[];
    return rows.map(toProject);
  }

  find(id: number): Project | null {
    const r = this.db.prepare('SELECT * FROM time_projects WHERE id = ?').get(id) as Row | undefined;
    return r ? toProject(r) : null;
  }

  get(id: number): Project {
    const p = this.find(id);
    if (!p) throw notFound('project', id);
    return p;
  }

  findByName(name: string): Project | null {
    const r = this.db.prepare('SELECT * FROM time_projects WHERE name = ? COLLATE NOCASE').get(name.trim()) as Row | undefined;
    return r ? toProject(r) : null;
  }

  create(input: NewProject): Project {
    checkMoney(input.hourlyRate, 'hourlyRate');
    checkMoney(input.budget, 'budget');
    const currency = checkCurrency(input.currency ?? this.defaultCurrency);
    const r = guarded(`project "${input.name}"`, () =>
      this.db
        .prepare('INSERT INTO time_projects (name, client, hourly_rate, currency, budget, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *')
        .get(input.name.trim(), input.client ?? '', input.hourlyRate ?? 0, currency, input.budget ?? null, input.status ?? 'active', this.now()),
    ) as Row;
    return toProject(r);
  }

  update(id: number, patch: Partial<NewProject>): Project {
    const cur = this.get(id);
    checkMoney(patch.hourlyRate, 'hourlyRate');
    checkMoney(patch.budget, 'budget');
    const currency = patch.currency !== undefined ? checkCurrency(patch.currency) : cur.currency;
    guarded(`project "${patch.name ?? cur.name}"`, () =>
      this.db
        .prepare('UPDATE time_projects SET name = ?, client = ?, hourly_rate = ?, currency = ?, budget = ?, status = ? WHERE id = ?')
        .run(
          patch.name?.trim() ?? cur.name,
          patch.client ?? cur.client,
          patch.hourlyRate ?? cur.hourlyRate,
          currency,
          patch.budget !== undefined ? patch.budget : cur.budget,
          patch.status ?? cur.status,
          id,
        ),
    );
    return this.get(id);
  }

  /** Deletes a project without entries; one with entries is refused (archive it instead). */
  delete(id: number): void {
    this.get(id);
    const n = (this.db.prepare('SELECT count(*) AS n FROM time_entries WHERE project_id = ?').get(id) as { n: number }).n;
    if (n > 0) throw new ToolError('conflict', `project ${id} has ${n} time entries; archive it instead`, { details: { entries: n } });
    this.db.prepare('DELETE FROM time_projects WHERE id = ?').run(id);
  }
}
