// <wf-time-view>: the timer (start, pause, resume, stop, discard) with a live clock, hours per week (last 8
// ISO weeks), recent entries, a manual entry, projects and reminders (routes: /api/time/*,
// src/server/routes/time.ts).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import '../charts/bar-chart.js';
import type { ChartDatum } from '../charts/bar-chart.js';
import { api, notify, reportError } from '../store.js';
import { currencyDigits, formatClock, formatDateTime, todayIso } from '../shared/format.js';
import { askConfirm } from '../shared/confirm-dialog.js';
import { baseStyles } from '../shared/styles.js';
import type { Project, Reminder, ReportGroup, TimeEntry, TimerState } from '../../../src/tools/time/types.js';


/** ISO week key 'YYYY-Www' of a local date. */
export function isoWeekKey(date: Date): string {
  const d = new Date(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()));
  const dow = (d.getUTCDay() + 6) % 7;
  const thursday = new Date(d.getTime() + (3 - dow) * 86_400_000);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** The last `n` ISO weeks (oldest first) with the Monday that starts the first. */
export function lastWeeks(n: number, now = new Date()): { keys: string[]; from: string } {
  const monday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - ((now.getDay() + 6) % 7));
  const keys: string[] = [];
  for (let i = n - 1; i >= 0; i--) keys.push(isoWeekKey(new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() - 7 * i)));
  const first = new Date(monday.getFullYear(), monday.getMonth(), monday.getDate() - 7 * (n - 1));
  const from = `${first.getFullYear()}-${String(first.getMonth() + 1).padStart(2, '0')}-${String(first.getDate()).padStart(2, '0')}`;
  return { keys, from };
}

const tzOffsetMinutes = () => -new Date().getTimezoneOffset();

export class TimeView extends LitElement {
  static override properties: PropertyDeclarations = {
    active: { type: Boolean },
    _projects: { state: true },
    _timer: { state: true },
    _entries: { state: true },
    _weeks: { state: true },
    _reminders: { state: true },
    _now: { state: true },
    _unavailable: { state: true },
    _busy: { state: true },
  };

  active = false;
  _projects: Project[] = [];
  _timer: TimerState | null = null;
  _entries: TimeEntry[] = [];
  _weeks: ChartDatum[] = [];
  _reminders: Reminder[] = [];
  _now = Date.now();
  _unavailable = false;
  _busy = false;
  #timerFetchedAt = Date.now();
  #tick: ReturnType<typeof setInterval> | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .timer {
        display: flex;
        gap: 1rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .clock {
        font-size: 2.2rem;
        font-weight: 700;
        font-variant-numeric: tabular-nums;
        font-family: var(--wf-mono);
        min-width: 9ch;
      }
      .clock.paused {
        color: var(--wf-muted);
      }
      form.inline-form {
        display: grid;
        gap: 0.6rem;
        grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
        align-items: end;
      }
      .table-wrap {
        overflow-x: auto;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    // Loaded on the first visit, refreshed on every later one (the assistant may have changed things).
    if (changed.has('active') && this.active) {
      void this.refresh();
    }
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#tick = setInterval(() => {
      if (this._timer?.state === 'running' && this.active) this._now = Date.now();
    }, 500);
  }

  override disconnectedCallback(): void {
    if (this.#tick) clearInterval(this.#tick);
    super.disconnectedCallback();
  }

  async refresh(): Promise<void> {
    const weeks = lastWeeks(8);
    try {
      const [projects, timer, entries, report, reminders] = await Promise.all([
        api().get<{ projects: Project[] }>('/api/time/projects'),
        api().get<{ timer: TimerState | null }>('/api/time/timer'),
        api().get<{ entries: TimeEntry[] }>('/api/time/entries', { query: { limit: 20, tzOffsetMinutes: tzOffsetMinutes() } }),
        api().get<{ groups: ReportGroup[] }>('/api/time/reports', { query: { groupBy: 'week', from: weeks.from, tzOffsetMinutes: tzOffsetMinutes() } }),
        api().get<{ reminders: Reminder[] }>('/api/time/reminders'),
      ]);
      this._projects = projects.projects;
      this.#setTimer(timer.timer);
      this._entries = entries.entries;
      const byWeek = new Map(report.groups.map((g) => [g.key, g.totalMs]));
      this._weeks = weeks.keys.map((k) => ({ label: k.slice(5), value: (byWeek.get(k) ?? 0) / 3_600_000 }));
      this._reminders = reminders.reminders;
    } catch (err) {
      if (err instanceof ApiError && err.isMissingRoute) this._unavailable = true;
      else reportError(err, 'Could not load time tracking');
    }
  }

  #setTimer(t: TimerState | null): void {
    this._timer = t;
    this.#timerFetchedAt = Date.now();
    this._now = Date.now();
  }

  #elapsed(): number {
    const t = this._timer;
    if (!t) return 0;
    return t.state === 'running' ? t.elapsedMs + (this._now - this.#timerFetchedAt) : t.elapsedMs;
  }

  async #timerAction(action: 'start' | 'pause' | 'resume' | 'stop' | 'discard', body?: unknown): Promise<void> {
    this._busy = true;
    try {
      if (action === 'discard') {
        if (!(await askConfirm({ title: 'Discard timer', message: 'Discard the running timer without saving its time?', confirmLabel: 'Discard', danger: true }))) return;
        await api().delete('/api/time/timer');
        this.#setTimer(null);
      } else if (action === 'stop') {
        const r = await api().post<{ entry: TimeEntry }>('/api/time/timer/stop', {});
        this.#setTimer(null);
        notify('success', `Saved ${formatClock(r.entry.durationMs)} on ${r.entry.project}.`);
        await this.refresh();
      } else {
        const r = await api().post<{ timer: TimerState }>(`/api/time/timer/${action}`, body ?? {});
        this.#setTimer(r.timer);
      }
    } catch (err) {
      reportError(err, `Could not ${action} the timer`);
      await this.refresh();
    } finally {
      this._busy = false;
    }
  }

  #start(e: Event): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const projectId = Number(data.get('project'));
    if (!projectId) return notify('error', 'Choose a project (add one below first).');
    const description = String(data.get('description') ?? '').trim();
    void this.#timerAction('start', { projectId, ...(description ? { description } : {}) });
  }

  async #addProject(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const currency = String(data.get('currency') || 'USD').toUpperCase();
    const rate = Number(String(data.get('rate') ?? '').replace(',', '.'));
    try {
      await api().post('/api/time/projects', {
        name: String(data.get('name') ?? '').trim(),
        client: String(data.get('client') ?? '').trim(),
        currency,
        ...(Number.isFinite(rate) && rate > 0 ? { hourlyRate: Math.round(rate * 10 ** currencyDigits(currency)) } : {}),
      });
      form.reset();
      notify('success', 'Project added.');
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not add the project');
    }
  }

  async #addEntry(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const hours = Number(String(data.get('hours') ?? '').replace(',', '.'));
    if (!Number.isFinite(hours) || hours <= 0) return notify('error', 'Enter the hours, e.g. 1.5');
    const day = String(data.get('date') || todayIso());
    const startAt = new Date(`${day}T09:00:00`).getTime();
    try {
      await api().post('/api/time/entries', {
        projectId: Number(data.get('project')),
        startAt,
        durationMs: Math.round(hours * 3_600_000),
        description: String(data.get('description') ?? '').trim(),
      });
      form.reset();
      notify('success', 'Entry added.');
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not add the entry');
    }
  }

  async #deleteEntry(entry: TimeEntry): Promise<void> {
    if (!(await askConfirm({ title: 'Delete entry', message: `Delete ${formatClock(entry.durationMs)} on ${entry.project}?`, confirmLabel: 'Delete', danger: true }))) return;
    try {
      await api().delete(`/api/time/entries/${entry.id}`);
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not delete the entry');
    }
  }

  async #addReminder(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const due = new Date(String(data.get('due') ?? ''));
    if (Number.isNaN(due.getTime())) return notify('error', 'Choose when to be reminded.');
    try {
      await api().post('/api/time/reminders', { message: String(data.get('message') ?? '').trim(), dueAt: due.getTime(), repeat: String(data.get('repeat') || 'none') });
      form.reset();
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not add the reminder');
    }
  }

  async #deleteReminder(r: Reminder): Promise<void> {
    if (!(await askConfirm({ title: 'Delete reminder', message: `Delete the reminder "${r.message}"?`, confirmLabel: 'Delete', danger: true }))) return;
    try {
      await api().delete(`/api/time/reminders/${r.id}`);
      await this.refresh();
    } catch (err) {
      reportError(err, 'Could not delete the reminder');
    }
  }

  #timerCard() {
    const t = this._timer;
    const active = this._projects.filter((p) => p.status === 'active');
    return html`<section class="card" aria-labelledby="timer-title" data-testid="timer">
      <h2 id="timer-title">Timer</h2>
      ${t
        ? html`<div class="timer">
            <div class="clock ${t.state}" role="timer" aria-live="off" aria-label="Elapsed time" data-testid="timer-clock">${formatClock(this.#elapsed())}</div>
            <div class="grow">
              <div><strong>${t.project}</strong> ${t.state === 'paused' ? html`<span class="badge warn">paused</span>` : html`<span class="badge ok">running</span>`}</div>
              <div class="muted small">${t.description || 'No description'} · since ${formatDateTime(t.startedAt)}</div>
            </div>
            ${t.state === 'running'
              ? html`<button @click=${() => void this.#timerAction('pause')} ?disabled=${this._busy}>Pause</button>`
              : html`<button @click=${() => void this.#timerAction('resume')} ?disabled=${this._busy}>Resume</button>`}
            <button class="primary" @click=${() => void this.#timerAction('stop')} ?disabled=${this._busy} data-testid="timer-stop">Stop</button>
            <button class="ghost" @click=${() => void this.#timerAction('discard')} ?disabled=${this._busy} aria-label="Discard the timer">Discard</button>
          </div>`
        : active.length === 0
          ? html`<p class="muted">Add a project below to start tracking time.</p>`
          : html`<form class="inline-form" @submit=${this.#start} aria-label="Start the timer">
              <label
                >Project
                <select name="project" required>
                  ${active.map((p) => html`<option value=${p.id}>${p.name}${p.client ? ` (${p.client})` : ''}</option>`)}
                </select>
              </label>
              <label class="grow">What are you working on? <input name="description" maxlength="2000" placeholder="Description" /></label>
              <button class="primary" type="submit" ?disabled=${this._busy} data-testid="timer-start">▶ Start</button>
            </form>`}
    </section>`;
  }

  override render() {
    if (this._unavailable) return html`<div class="view"><h1 tabindex="-1">Time</h1><p class="unavailable">Time tracking is not available in this backend.</p></div>`;
    return html`<div class="view stack">
      <h1 tabindex="-1">Time</h1>
      ${this.#timerCard()}
      <div class="grid">
        <section class="card" data-testid="chart-weeks">
          <wf-bar-chart label="Hours per week" orientation="vertical" .data=${this._weeks} .format=${(n: number) => `${n.toFixed(1)} h`}></wf-bar-chart>
        </section>
        <section class="card" aria-labelledby="manual-title">
          <h2 id="manual-title">Add time by hand</h2>
          ${this._projects.length === 0
            ? html`<p class="muted small">Add a project first.</p>`
            : html`<form class="inline-form" @submit=${(e: Event) => void this.#addEntry(e)}>
                <label
                  >Project
                  <select name="project" required>
                    ${this._projects.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
                  </select>
                </label>
                <label>Day <input name="date" type="date" value=${todayIso()} required /></label>
                <label>Hours <input name="hours" inputmode="decimal" required placeholder="1.5" /></label>
                <label>Description <input name="description" maxlength="2000" /></label>
                <button type="submit">Add entry</button>
              </form>`}
        </section>
      </div>
      <section class="card" aria-labelledby="entries-title">
        <h2 id="entries-title">Recent entries</h2>
        ${this._entries.length === 0
          ? html`<p class="muted">No time tracked yet.</p>`
          : html`<div class="table-wrap">
              <table data-testid="time-entries">
                <thead>
                  <tr>
                    <th>Project</th>
                    <th>Description</th>
                    <th>Started</th>
                    <th class="num">Duration</th>
                    <th><span class="visually-hidden">Actions</span></th>
                  </tr>
                </thead>
                <tbody>
                  ${this._entries.map(
                    (e) => html`<tr>
                      <td>${e.project}</td>
                      <td>${e.description || html`<span class="muted">—</span>`} ${e.source === 'timer' ? html`<span class="badge">timer</span>` : nothing}</td>
                      <td>${formatDateTime(e.startAt)}</td>
                      <td class="num">${formatClock(e.durationMs)}</td>
                      <td><button class="ghost small" aria-label="Delete entry ${e.description || e.project}" @click=${() => void this.#deleteEntry(e)}>✕</button></td>
                    </tr>`,
                  )}
                </tbody>
              </table>
            </div>`}
      </section>
      <div class="grid">
        <section class="card" aria-labelledby="projects-title">
          <h2 id="projects-title">Projects</h2>
          <ul>
            ${this._projects.map((p) => html`<li>${p.name}${p.client ? html` <span class="muted small">· ${p.client}</span>` : nothing} <span class="badge">${p.status}</span></li>`)}
          </ul>
          <form class="inline-form" @submit=${(e: Event) => void this.#addProject(e)} aria-label="Add a project">
            <label>Project name <input name="name" required maxlength="200" /></label>
            <label>Client <input name="client" maxlength="200" /></label>
            <label>Hourly rate <input name="rate" inputmode="decimal" placeholder="0" /></label>
            <label>Currency <input name="currency" value="USD" pattern="[A-Za-z]{3}" maxlength="3" /></label>
            <button type="submit">Add project</button>
          </form>
        </section>
        <section class="card" aria-labelledby="rem-title">
          <h2 id="rem-title">Reminders</h2>
          <ul>
            ${this._reminders.map(
              (r) => html`<li>
                ${r.message} <span class="muted small">· ${formatDateTime(r.dueAt)}${r.repeat !== 'none' ? ` · ${r.repeat}` : ''}</span>
                <button class="ghost small" aria-label="Delete reminder ${r.message}" @click=${() => void this.#deleteReminder(r)}>✕</button>
              </li>`,
            )}
          </ul>
          <form class="inline-form" @submit=${(e: Event) => void this.#addReminder(e)} aria-label="Add a reminder">
            <label>Remind me to <input name="message" required maxlength="500" /></label>
            <label>When <input name="due" type="datetime-local" required /></label>
            <label
              >Repeat
              <select name="repeat">
                <option value="none">Once</option>
                <option value="daily">Daily</option>
                <option value="weekdays">Weekdays</option>
                <option value="weekly">Weekly</option>
              </select>
            </label>
            <button type="submit">Add reminder</button>
          </form>
        </section>
      </div>
    </div>`;
  }
}

customElements.define('wf-time-view', TimeView);
