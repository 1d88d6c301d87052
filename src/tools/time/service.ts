// TimeService: the time-tracking tool's parts over one database.
import type { DB } from '../../storage/index.js';
import { Entries, type EntryFilter } from './entries.js';
import { exportEntriesCsv } from './export.js';
import { Projects } from './projects.js';
import { Reminders } from './reminders.js';
import { Reports } from './reports.js';
import { Timer } from './timer.js';

export interface TimeOptions {
  now?: () => number;
  /** Currency of projects created without one (default USD). */
  defaultCurrency?: string;
}

export class TimeService {
  readonly projects: Projects;
  readonly entries: Entries;
  readonly timer: Timer;
  readonly reports: Reports;
  /** Emits 'reminder' events; call start() to schedule (createToolServices does). */
  readonly reminders: Reminders;

  constructor(db: DB, options: TimeOptions = {}) {
    const now = options.now ?? Date.now;
    this.projects = new Projects(db, now, options.defaultCurrency ?? 'USD');
    this.entries = new Entries(db, this.projects, now);
    this.timer = new Timer(db, this.projects, this.entries, now);
    this.reports = new Reports(this.entries, this.projects);
    this.reminders = new Reminders(db, now);
  }

  exportCsv(filter: Omit<EntryFilter, 'limit' | 'offset'> = {}): string {
    return exportEntriesCsv(this.entries, this.projects, filter);
  }
}
