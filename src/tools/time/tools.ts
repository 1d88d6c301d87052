// The time-tracking functions the model can call.
import { z } from 'zod';
import { ToolError } from '../errors.js';
import { formatMinor, currencyDigits } from '../finance/money.js';
import { defineTool, type AnyTool } from '../registry.js';
import type { TimeEntry } from './entries.js';
import { formatHours } from './reports.js';
import type { TimeService } from './service.js';

const day = z.iso.date();

export function timeTools(time: TimeService): AnyTool[] {
  const project = (ref: { projectId?: number | undefined; project?: string | undefined }) => {
    if (ref.projectId !== undefined) return time.projects.get(ref.projectId);
    if (ref.project !== undefined) {
      const p = time.projects.findByName(ref.project);
      if (!p) throw new ToolError('not_found', `no project named "${ref.project}"; existing: ${time.projects.list().map((x) => x.name).join(', ') || 'none'}`);
      return p;
    }
    throw new ToolError('invalid_params', 'name the project (projectId or project)');
  };
  const brief = (e: TimeEntry) => ({ id: e.id, project: e.project, description: e.description, start: e.startAt, hours: formatHours(e.durationMs), billable: e.billable, tags: e.tags });
  const projectRef = {
    projectId: z.number().int().min(1).optional(),
    project: z.string().min(1).max(100).optional().describe('Project name (instead of projectId)'),
  };
  // The user's projects, offered in the confirmation form (by id or by name).
  const projectChoices = () => {
    const list = time.projects.list();
    return { projectId: list.map((p) => ({ value: p.id, label: p.name })), project: list.map((p) => ({ value: p.name, label: p.name })) };
  };
  const byProject = { requiredAny: [['project', 'projectId']], choices: projectChoices };
  return [
    defineTool({
      name: 'time_list_projects',
      title: 'List projects',
      description: 'List time-tracking projects with client, hourly rate and status.',
      input: z.object({ status: z.enum(['active', 'paused', 'completed', 'archived']).optional() }).strict(),
      mutates: false,
      handler: (a) => ({
        projects: time.projects.list(a.status ? { status: a.status } : {}).map((p) => ({
          id: p.id,
          name: p.name,
          client: p.client,
          hourlyRate: `${formatMinor(p.hourlyRate, currencyDigits(p.currency))} ${p.currency}`,
          status: p.status,
        })),
      }),
    }),
    defineTool({
      name: 'time_timer_status',
      title: 'Timer status',
      description: 'Show the running or paused timer, if any.',
      input: z.object({}).strict(),
      mutates: false,
      handler: () => {
        const t = time.timer.status();
        return { timer: t ? { state: t.state, project: t.project, description: t.description, elapsed: formatHours(t.elapsedMs) + ' h', startedAt: t.startedAt } : null };
      },
    }),
    defineTool({
      name: 'time_start_timer',
      title: 'Start a timer',
      confirm: 'Start a timer on project {project/projectId}[ for "{description}"]?',
      ...byProject,
      description: 'Start the timer on a project (only one timer can run).',
      input: z.object({ ...projectRef, description: z.string().max(200).default(''), billable: z.boolean().default(true) }).strict(),
      mutates: true,
      handler: (a) => {
        const t = time.timer.start({ projectId: project(a).id, description: a.description, billable: a.billable });
        return { timer: { state: t.state, project: t.project, startedAt: t.startedAt } };
      },
    }),
    defineTool({
      name: 'time_pause_timer',
      title: 'Pause the timer',
      confirm: 'Pause the timer?',
      description: 'Pause the running timer.',
      input: z.object({}).strict(),
      mutates: true,
      handler: () => ({ timer: time.timer.pause() }),
    }),
    defineTool({
      name: 'time_resume_timer',
      title: 'Resume the timer',
      confirm: 'Resume the timer?',
      description: 'Resume the paused timer.',
      input: z.object({}).strict(),
      mutates: true,
      handler: () => ({ timer: time.timer.resume() }),
    }),
    defineTool({
      name: 'time_stop_timer',
      title: 'Stop the timer',
      confirm: 'Stop the timer and save its time?',
      description: 'Stop the timer and save its time entry.',
      input: z.object({}).strict(),
      mutates: true,
      handler: () => ({ entry: brief(time.timer.stop()) }),
    }),
    defineTool({
      name: 'time_log_entry',
      title: 'Log time',
      confirm: 'Log {minutes} minutes on project {project/projectId} on {date}[ at {startTime}][ for "{description}"]?',
      ...byProject,
      description: 'Log time worked on a project on a day (manual entry).',
      input: z
        .object({
          ...projectRef,
          date: day,
          minutes: z.number().int().min(1).max(24 * 60),
          startTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/).default('09:00').describe('HH:MM local time'),
          description: z.string().max(200).default(''),
          billable: z.boolean().default(true),
        })
        .strict(),
      mutates: true,
      handler: (a) => {
        const startAt = new Date(`${a.date}T${a.startTime}:00`).getTime(); // the user's local time
        return { entry: brief(time.entries.create({ projectId: project(a).id, startAt, durationMs: a.minutes * 60_000, description: a.description, billable: a.billable })) };
      },
    }),
    defineTool({
      name: 'time_report',
      title: 'Time report',
      description: 'Hours and billable amounts grouped by day, week or project for a date range.',
      input: z.object({ groupBy: z.enum(['day', 'week', 'project']).default('project'), from: day.optional(), to: day.optional() }).strict(),
      mutates: false,
      handler: (a) => {
        const r = time.reports.report({ groupBy: a.groupBy, ...(a.from ? { from: a.from } : {}), ...(a.to ? { to: a.to } : {}) });
        const money = (xs: { currency: string; amount: number }[]) => xs.map((m) => `${formatMinor(m.amount, currencyDigits(m.currency))} ${m.currency}`);
        return {
          groups: r.groups.map((g) => ({ group: g.label, hours: g.hours, billableHours: g.billableHours, billable: money(g.amounts) })),
          total: { hours: r.totals.hours, billableHours: r.totals.billableHours, billable: money(r.totals.amounts) },
        };
      },
    }),
    defineTool({
      name: 'time_add_reminder',
      title: 'Add a reminder',
      confirm: 'Remind you "{message}" at {at}[, repeat: {repeat}]?',
      description: 'Set a reminder that the app shows at a given time.',
      input: z
        .object({
          message: z.string().min(1).max(200),
          at: z.iso.datetime({ offset: true }).describe('ISO date-time, e.g. 2025-03-01T17:00:00+01:00'),
          repeat: z.enum(['none', 'daily', 'weekdays', 'weekly']).default('none'),
        })
        .strict(),
      mutates: true,
      handler: (a) => ({ reminder: time.reminders.create({ message: a.message, dueAt: Date.parse(a.at), repeat: a.repeat }) }),
    }),
  ];
}
