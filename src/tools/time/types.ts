// Time tracking's shapes as the API sends them. This file imports nothing from Node or SQLite, so the
// renderer imports these types (type-only) instead of keeping copies that could drift.

export const PROJECT_STATUSES = ['active', 'paused', 'completed', 'archived'] as const;
export type ProjectStatus = (typeof PROJECT_STATUSES)[number];

export const REMINDER_REPEATS = ['none', 'daily', 'weekdays', 'weekly'] as const;
export type ReminderRepeat = (typeof REMINDER_REPEATS)[number];

export interface Project {
  id: number;
  name: string;
  client: string;
  /** Minor units of `currency` per hour. */
  hourlyRate: number;
  currency: string;
  /** Minor units; null = no budget. */
  budget: number | null;
  status: ProjectStatus;
  createdAt: string;
}

export interface TimeEntry {
  id: number;
  projectId: number;
  project: string;
  description: string;
  startAt: string;
  endAt: string;
  durationMs: number;
  billable: boolean;
  source: 'manual' | 'timer';
  tags: string[];
  createdAt: string;
}

export interface TimerState {
  state: 'running' | 'paused';
  projectId: number;
  project: string;
  description: string;
  billable: boolean;
  tags: string[];
  startedAt: string;
  /** Start of the current running stretch; null while paused. */
  runningSince: string | null;
  /** Time counted so far (paused stretches excluded). */
  elapsedMs: number;
}

export interface ReportGroup {
  /** YYYY-MM-DD (day), YYYY-Www (ISO week) or the project id as text. */
  key: string;
  label: string;
  totalMs: number;
  billableMs: number;
  /** Hours with two decimals, for display. */
  hours: string;
  billableHours: string;
  amounts: MoneyTotal[];
  entries: number;
}

export interface MoneyTotal {
  currency: string;
  amount: number;
}

export interface Reminder {
  id: number;
  message: string;
  dueAt: string;
  repeat: ReminderRepeat;
  /** When it was last delivered; for a one-off reminder, set means done. */
  deliveredAt: string | null;
  active: boolean;
  createdAt: string;
}
