// Time tracking: projects, a timer that survives restarts, manual entries with tags, reports with billable
// totals in integer arithmetic, CSV export, and reminders delivered as events.
export { TimeService, type TimeOptions } from './service.js';
export { Projects, PROJECT_STATUSES, type Project, type NewProject, type ProjectStatus } from './projects.js';
export { Entries, normalizeTags, type TimeEntry, type NewTimeEntry, type EntryFilter } from './entries.js';
export { Timer, type TimerState, type StartTimer, type TimerEvents } from './timer.js';
export {
  Reports,
  billableAmount,
  formatHours,
  isoWeek,
  weekStart,
  localDay,
  dayBounds,
  currentTzOffset,
  type Report,
  type ReportGroup,
  type ReportGrouping,
  type ReportOptions,
  type MoneyTotal,
} from './reports.js';
export { Reminders, REMINDER_REPEATS, MAX_MISSED, nextOccurrence, type Reminder, type ReminderEvent, type ReminderRepeat, type RemindersEvents } from './reminders.js';
export { exportEntriesCsv, TIME_CSV_COLUMNS } from './export.js';
export { timeTools } from './tools.js';
