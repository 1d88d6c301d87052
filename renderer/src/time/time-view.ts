// <wf-time-view>: time tracking (routes: /api/time/*, src/server/routes/time.ts). This element loads and
// changes the data; the parts are components: the timer (timer-card), hours per week (bar chart), time
// added by hand (entry-form), recent entries edited in place or deleted with undo (entry-table), billable
// amounts per project (billable-report), projects with their rates (project-list) and reminders.
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import '../charts/bar-chart.js';
import type { ChartDatum } from '../charts/bar-chart.js';
import { api, notify, reportError } from '../store.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { formatClock } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import { deleteWithUndo } from '../shared/undo.js';
import { billableSummary, type BillableSummary } from './billing.js';
import { type Period } from './billable-report.js';
import type { EntryPatch } from './entry-editor.js';
import type { TimerAction } from './timer-card.js';
import { lastWeeks, localIso, tzOffsetMinutes } from './weeks.js';
import './billable-report.js';
import './entry-form.js';
import './entry-table.js';
import './project-list.js';
import './reminder-list.js';
import './timer-card.js';
import type { MoneyTotal, Project, Reminder, ReportGroup, TimeEntry, TimerState } from '../../../src/tools/time/types.js';

export { isoWeekKey, lastWeeks } from './weeks.js';

type Done = { done: (ok: boolean) => void };

/** The first day of a period on the user's clock (undefined: all time). */
function periodStart(period: Period, now = new Date()): string | undefined {
  if (period === 'all') return undefined;
  if (period === 'year') return `${now.getFullYear()}-01-01`;
  if (period === 'month') return localIso(new Date(now.getFullYear(), now.getMonth(), 1));
  return lastWeeks(1, now).from;
}

export class TimeView extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _projects: { state: true },
    _timer: { state: true },
    _entries: { state: true },
    _weeks: { state: true },
    _billable: { state: true },
    _period: { state: true },
    _reminders: { state: true },
    _editing: { state: true },
    _unavailable: { state: true },
    _busy: { state: true },
  };

  active = false;
  _projects: Project[] = [];
  _timer: TimerState | null = null;
  _entries: TimeEntry[] = [];
  _weeks: ChartDatum[] = [];
  _billable: BillableSummary = { lines: [], totals: [] };
  _period: Period = 'month';
  _reminders: Reminder[] = [];
  _editing: number | null = null;
  _unavailable = false;
  _busy = false;
  /** Entries and reminders waiting out their undo time: kept off the screen across refreshes. */
  #hidden = new Set<string>();

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    // Loaded on the first visit, refreshed on every later one (the assistant may have changed things).
    if (changed.has('active') && this.active) void this.refresh();
  }

  async refresh(): Promise<void> {
    const weeks = lastWeeks(8);
    const tz = tzOffsetMinutes();
    const from = periodStart(this._period);
    try {
      const [projects, timer, entries, report, billable, reminders] = await Promise.all([
        api().get<{ projects: Project[] }>('/api/time/projects'),
        api().get<{ timer: TimerState | null }>('/api/time/timer'),
        api().get<{ entries: TimeEntry[] }>('/api/time/entries', { query: { limit: 20, tzOffsetMinutes: tz } }),
        api().get<{ groups: ReportGroup[] }>('/api/time/reports', { query: { groupBy: 'week', from: weeks.from, tzOffsetMinutes: tz } }),
        api().get<{ groups: ReportGroup[]; totals: { amounts: MoneyTotal[] } }>('/api/time/reports', { query: { groupBy: 'project', ...(from ? { from } : {}), tzOffsetMinutes: tz } }),
        api().get<{ reminders: Reminder[] }>('/api/time/reminders'),
      ]);
      this._projects = projects.projects;
      this._timer = timer.timer;
      this._entries = entries.entries.filter((e) => !this.#hidden.has(`e${e.id}`));
      const byWeek = new Map(report.groups.map((g) => [g.key, g.totalMs]));
      this._weeks = weeks.keys.map((k) => ({ label: k.slice(5), value: (byWeek.get(k) ?? 0) / 3_600_000 }));
      this._billable = billableSummary(billable, this._projects);
      this._reminders = reminders.reminders.filter((r) => !this.#hidden.has(`r${r.id}`));
    } catch (err) {
      if (err instanceof ApiError && err.isMissingRoute) this._unavailable = true;
      else reportError(err, 'Could not load time tracking');
    }
  }

  /** Runs a change, reports a failure, refreshes; `done(ok)` tells the form whether to keep its input. */
  async #change(what: string, fn: () => Promise<unknown>, done?: (ok: boolean) => void, success?: string): Promise<void> {
    try {
      await fn();
      done?.(true);
      if (success) notify('success', success);
    } catch (err) {
      done?.(false);
      reportError(err, what);
    }
    await this.refresh();
  }

  async #timerAction(action: TimerAction, body?: unknown): Promise<void> {
    this._busy = true;
    try {
      if (action === 'discard') {
        if (!(await askConfirm({ title: 'Discard timer', message: 'Discard the running timer without saving its time?', confirmLabel: 'Discard', danger: true }))) return;
        await api().delete('/api/time/timer');
        this._timer = null;
      } else if (action === 'stop') {
        const r = await api().post<{ entry: TimeEntry }>('/api/time/timer/stop', {});
        this._timer = null;
        notify('success', `Saved ${formatClock(r.entry.durationMs)} on ${r.entry.project}.`);
        await this.refresh();
      } else {
        this._timer = (await api().post<{ timer: TimerState }>(`/api/time/timer/${action}`, body ?? {})).timer;
      }
    } catch (err) {
      reportError(err, `Could not ${action} the timer`);
      await this.refresh();
    } finally {
      this._busy = false;
    }
  }

  #saveEntry(id: number, patch: EntryPatch): void {
    if (Object.keys(patch).length === 0) {
      this._editing = null;
      return;
    }
    void this.#change('Could not save the entry', () => api().patch(`/api/time/entries/${id}`, patch), (ok) => ok && (this._editing = null), 'Entry saved.');
  }

  #deleteEntry(entry: TimeEntry): void {
    const key = `e${entry.id}`;
    deleteWithUndo({
      message: `Deleted ${formatClock(entry.durationMs)} on ${entry.project}.`,
      failure: 'Could not delete the entry',
      hide: () => {
        this.#hidden.add(key);
        this._entries = this._entries.filter((e) => e.id !== entry.id);
        if (this._editing === entry.id) this._editing = null;
      },
      restore: () => {
        this.#hidden.delete(key);
        void this.refresh();
      },
      commit: async () => {
        await api().delete(`/api/time/entries/${entry.id}`);
        this.#hidden.delete(key);
        await this.refresh();
      },
    });
  }

  #deleteReminder(r: Reminder): void {
    const key = `r${r.id}`;
    deleteWithUndo({
      message: `Deleted the reminder "${r.message}".`,
      failure: 'Could not delete the reminder',
      hide: () => {
        this.#hidden.add(key);
        this._reminders = this._reminders.filter((x) => x.id !== r.id);
      },
      restore: () => {
        this.#hidden.delete(key);
        void this.refresh();
      },
      commit: async () => {
        await api().delete(`/api/time/reminders/${r.id}`);
        this.#hidden.delete(key);
        await this.refresh();
      },
    });
  }

  override render() {
    if (this._unavailable) return html`<div class="view"><h1 tabindex="-1">Time</h1><p class="unavailable">Time tracking is not available in this backend.</p></div>`;
    return html`<div class="view stack">
      <h1 tabindex="-1">Time</h1>
      <wf-timer-card
        .timer=${this._timer}
        .projects=${this._projects}
        ?busy=${this._busy}
        @timer-action=${(e: CustomEvent<{ action: TimerAction; body?: unknown }>) => void this.#timerAction(e.detail.action, e.detail.body)}
      ></wf-timer-card>
      <div class="grid">
        <section class="card" data-testid="chart-weeks">
          <wf-bar-chart label="Hours per week" orientation="vertical" .data=${this._weeks} .format=${(n: number) => `${n.toFixed(1)} h`}></wf-bar-chart>
        </section>
        <section class="card" aria-labelledby="manual-title">
          <h2 id="manual-title">Add time by hand</h2>
          <wf-entry-form
            .projects=${this._projects}
            @entry-add=${(e: CustomEvent<{ body: unknown } & Done>) => void this.#change('Could not add the entry', () => api().post('/api/time/entries', e.detail.body), e.detail.done, 'Entry added.')}
          ></wf-entry-form>
        </section>
      </div>
      <section class="card" aria-labelledby="entries-title">
        <h2 id="entries-title">Recent entries</h2>
        <wf-entry-table
          .entries=${this._entries}
          .projects=${this._projects}
          .editing=${this._editing}
          @entry-edit=${(e: CustomEvent<{ id: number | null }>) => (this._editing = e.detail.id)}
          @entry-save=${(e: CustomEvent<{ id: number; patch: EntryPatch }>) => this.#saveEntry(e.detail.id, e.detail.patch)}
          @entry-delete=${(e: CustomEvent<{ entry: TimeEntry }>) => this.#deleteEntry(e.detail.entry)}
        ></wf-entry-table>
      </section>
      <section class="card" aria-labelledby="bill-title">
        <wf-billable-report
          .summary=${this._billable}
          .period=${this._period}
          @period-change=${(e: CustomEvent<{ period: Period }>) => {
            this._period = e.detail.period;
            void this.refresh();
          }}
        ></wf-billable-report>
      </section>
      <div class="grid">
        <section class="card" aria-labelledby="projects-title">
          <h2 id="projects-title">Projects</h2>
          <wf-project-list
            .projects=${this._projects}
            @project-add=${(e: CustomEvent<{ body: unknown } & Done>) => void this.#change('Could not add the project', () => api().post('/api/time/projects', e.detail.body), e.detail.done, 'Project added.')}
            @project-update=${(e: CustomEvent<{ id: number; patch: unknown } & Done>) =>
              void this.#change('Could not save the rate', () => api().patch(`/api/time/projects/${e.detail.id}`, e.detail.patch), e.detail.done, 'Rate saved.')}
          ></wf-project-list>
        </section>
        <section class="card" aria-labelledby="rem-title">
          <h2 id="rem-title">Reminders</h2>
          <wf-reminder-list
            .reminders=${this._reminders}
            @reminder-add=${(e: CustomEvent<{ body: unknown } & Done>) => void this.#change('Could not add the reminder', () => api().post('/api/time/reminders', e.detail.body), e.detail.done)}
            @reminder-delete=${(e: CustomEvent<{ reminder: Reminder }>) => this.#deleteReminder(e.detail.reminder)}
          ></wf-reminder-list>
        </section>
      </div>
    </div>`;
  }
}

customElements.define('wf-time-view', TimeView);
