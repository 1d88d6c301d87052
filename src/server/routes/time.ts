// /api/time: projects, the timer (start, pause, resume, stop, discard), time entries with tags, reports
// by day, week or project, CSV export, and reminders (CRUD plus a Server-Sent Events stream of the
// reminders as they fall due).
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { PROJECT_STATUSES, REMINDER_REPEATS, currentTzOffset, dayBounds, type ReminderEvent, type TimeService } from '../../tools/time/index.js';
import { parseWith } from '../errors.js';
import { boolQuery, defined, idParams, instant, isoDate, limitQuery, offsetQuery, eventStreams, sendCsv } from './tool-helpers.js';

export interface TimeRoutesOptions {
  time: TimeService;
  /** Keep-alive interval of the reminder event stream (default 15 s). */
  heartbeatMs?: number;
}

const minor = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const projectBody = z
  .object({
    name: z.string().min(1).max(200),
    client: z.string().max(200).optional(),
    hourlyRate: minor.optional(),
    currency: z.string().regex(/^[A-Za-z]{3}$/).optional(),
    budget: minor.nullable().optional(),
    status: z.enum(PROJECT_STATUSES).optional(),
  })
  .strict();
const tags = z.array(z.string().min(1).max(50)).max(50);
const entryBody = z
  .object({
    projectId: z.number().int().min(1),
    startAt: instant,
    endAt: instant.optional(),
    durationMs: z.number().int().min(0).max(366 * 86_400_000).optional(),
    description: z.string().max(2000).optional(),
    billable: z.boolean().optional(),
    tags: tags.optional(),
  })
  .strict();
const tz = z.coerce.number().int().min(-14 * 60).max(14 * 60);
const entryQuery = z.object({
  projectId: z.coerce.number().int().min(1).optional(),
  from: isoDate.optional(),
  to: isoDate.optional(),
  tag: z.string().max(50).optional(),
  billable: boolQuery.optional(),
  tzOffsetMinutes: tz.optional(),
  limit: limitQuery.default(200),
  offset: offsetQuery.default(0),
});
const reminderBody = z.object({ message: z.string().min(1).max(500), dueAt: instant, repeat: z.enum(REMINDER_REPEATS).optional() }).strict();

const timeRoutes: FastifyPluginAsync<TimeRoutesOptions> = async (app, { time, heartbeatMs }) => {
  const streams = eventStreams(app, defined({ heartbeatMs }));

  // Projects
  app.get('/api/time/projects', async (req) => {
    const q = parseWith(z.object({ status: z.enum(PROJECT_STATUSES).optional() }), req.query, 'query');
    return { projects: time.projects.list(defined(q)) };
  });
  app.post('/api/time/projects', async (req, reply) => {
    const body = parseWith(projectBody, req.body);
    reply.code(201);
    return time.projects.create(defined(body));
  });
  app.get('/api/time/projects/:id', async (req) => time.projects.get(parseWith(idParams, req.params, 'parameters').id));
  app.patch('/api/time/projects/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    return time.projects.update(id, defined(parseWith(projectBody.partial().strict(), req.body)));
  });
  app.delete('/api/time/projects/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    time.projects.delete(id);
    return { deleted: id };
  });

  // Timer
  app.get('/api/time/timer', async () => ({ timer: time.timer.status() }));
  app.post('/api/time/timer/start', async (req, reply) => {
    const body = parseWith(z.object({ projectId: z.number().int().min(1), description: z.string().max(2000).optional(), billable: z.boolean().optional(), tags: tags.optional() }).strict(), req.body);
    reply.code(201);
    return { timer: time.timer.start(defined(body)) };
  });
  app.post('/api/time/timer/pause', async () => ({ timer: time.timer.pause() }));
  app.post('/api/time/timer/resume', async () => ({ timer: time.timer.resume() }));
  app.post('/api/time/timer/stop', async (req) => {
    const body = parseWith(z.object({ description: z.string().max(2000).optional(), billable: z.boolean().optional(), tags: tags.optional() }).strict(), req.body ?? {});
    return { entry: time.timer.stop(defined(body)) };
  });
  app.delete('/api/time/timer', async () => {
    time.timer.discard();
    return { timer: null };
  });

  // Entries and tags
  const entryFilter = (q: z.output<typeof entryQuery>) => {
    const bounds = dayBounds(q.from, q.to, q.tzOffsetMinutes ?? currentTzOffset());
    return defined({ projectId: q.projectId, tag: q.tag, billable: q.billable, ...bounds });
  };
  app.get('/api/time/entries', async (req) => {
    const q = parseWith(entryQuery, req.query, 'query');
    return time.entries.list({ ...entryFilter(q), limit: q.limit, offset: q.offset });
  });
  app.post('/api/time/entries', async (req, reply) => {
    const body = parseWith(entryBody, req.body);
    reply.code(201);
    return time.entries.create(defined(body));
  });
  app.get('/api/time/entries/:id', async (req) => time.entries.get(parseWith(idParams, req.params, 'parameters').id));
  app.patch('/api/time/entries/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    return time.entries.update(id, defined(parseWith(entryBody.partial().strict(), req.body)));
  });
  app.delete('/api/time/entries/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    time.entries.delete(id);
    return { deleted: id };
  });
  app.get('/api/time/tags', async () => ({ tags: time.entries.tags() }));

  // Reports and export
  app.get('/api/time/reports', async (req) => {
    const q = parseWith(
      z.object({
        groupBy: z.enum(['day', 'week', 'project']).default('project'),
        from: isoDate.optional(),
        to: isoDate.optional(),
        projectId: z.coerce.number().int().min(1).optional(),
        tag: z.string().max(50).optional(),
        tzOffsetMinutes: tz.optional(),
      }),
      req.query,
      'query',
    );
    return time.reports.report(defined(q));
  });
  app.get('/api/time/export', async (req, reply) => {
    const q = parseWith(entryQuery.omit({ limit: true, offset: true }), req.query, 'query');
    return sendCsv(reply, `time-entries${q.from ? `-${q.from}` : ''}${q.to ? `-${q.to}` : ''}.csv`, time.exportCsv(entryFilter({ ...q, limit: 1, offset: 0 })));
  });

  // Reminders
  app.get('/api/time/reminders', async (req) => {
    const q = parseWith(z.object({ includeDone: boolQuery.optional() }), req.query, 'query');
    return { reminders: time.reminders.list(defined(q)) };
  });
  app.post('/api/time/reminders', async (req, reply) => {
    const body = parseWith(reminderBody, req.body);
    reply.code(201);
    return time.reminders.create(defined(body));
  });
  app.get('/api/time/reminders/events', async (req, reply) => {
    let unsubscribe = () => {};
    const stream = streams.open(req, reply, () => unsubscribe());
    stream.send('ready', { reminders: time.reminders.list().length, missed: time.reminders.missed.length });
    // First the reminders that fell due while no app was listening, then each new one.
    unsubscribe = time.reminders.subscribe((e: ReminderEvent) => stream.send('reminder', e));
    return reply;
  });
  app.get('/api/time/reminders/:id', async (req) => time.reminders.get(parseWith(idParams, req.params, 'parameters').id));
  app.patch('/api/time/reminders/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    const body = parseWith(reminderBody.partial().extend({ active: z.boolean().optional() }).strict(), req.body);
    return time.reminders.update(id, defined(body));
  });
  app.delete('/api/time/reminders/:id', async (req) => {
    const { id } = parseWith(idParams, req.params, 'parameters');
    time.reminders.delete(id);
    return { deleted: id };
  });
};

export default timeRoutes;
export { timeRoutes };
