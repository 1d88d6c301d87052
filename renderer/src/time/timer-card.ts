// <wf-timer-card>: the running or paused timer with a live clock, or the form that starts one.
// Properties: `timer` (TimerState | null), `projects`, `busy`. Event: `timer-action` ({ action, body? }),
// action one of start, pause, resume, stop, discard; the view talks to the backend.
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { formatClock, formatDateTime } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import type { Project, TimerState } from '../../../src/tools/time/types.js';

export type TimerAction = 'start' | 'pause' | 'resume' | 'stop' | 'discard';

export class TimerCard extends LitElement {
  static override properties: PropertyDeclarations = {
    timer: { attribute: false },
    projects: { attribute: false },
    busy: { type: Boolean },
    _now: { state: true },
  };

  timer: TimerState | null = null;
  projects: Project[] = [];
  busy = false;
  _now = Date.now();
  /** When `timer` arrived: its elapsedMs counts up from then while running. */
  #receivedAt = Date.now();
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
      form {
        display: grid;
        gap: 0.6rem;
        grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
        align-items: end;
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    this.#tick = setInterval(() => {
      if (this.timer?.state === 'running') this._now = Date.now();
    }, 500);
  }

  override disconnectedCallback(): void {
    if (this.#tick) clearInterval(this.#tick);
    super.disconnectedCallback();
  }

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('timer')) {
      this.#receivedAt = Date.now();
      this._now = this.#receivedAt;
    }
  }

  #elapsed(): number {
    const t = this.timer;
    if (!t) return 0;
    return t.state === 'running' ? t.elapsedMs + (this._now - this.#receivedAt) : t.elapsedMs;
  }

  #emit(action: TimerAction, body?: unknown): void {
    this.dispatchEvent(new CustomEvent('timer-action', { detail: { action, body } }));
  }

  #start(e: Event): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const projectId = Number(data.get('project'));
    if (!projectId) return;
    const description = String(data.get('description') ?? '').trim();
    this.#emit('start', { projectId, ...(description ? { description } : {}) });
  }

  override render() {
    const t = this.timer;
    const active = this.projects.filter((p) => p.status === 'active');
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
              ? html`<button @click=${() => this.#emit('pause')} ?disabled=${this.busy}>Pause</button>`
              : html`<button @click=${() => this.#emit('resume')} ?disabled=${this.busy}>Resume</button>`}
            <button class="primary" @click=${() => this.#emit('stop')} ?disabled=${this.busy} data-testid="timer-stop">Stop</button>
            <button class="ghost" @click=${() => this.#emit('discard')} ?disabled=${this.busy} aria-label="Discard the timer">Discard</button>
          </div>`
        : active.length === 0
          ? html`<p class="muted">Add a project below to start tracking time.</p>`
          : html`<form @submit=${this.#start} aria-label="Start the timer">
              <label
                >Project
                <select name="project" required>
                  ${active.map((p) => html`<option value=${p.id}>${p.name}${p.client ? ` (${p.client})` : ''}</option>`)}
                </select>
              </label>
              <label class="grow">What are you working on? <input name="description" maxlength="2000" placeholder="Description" /></label>
              <button class="primary" type="submit" ?disabled=${this.busy} data-testid="timer-start">▶ Start</button>
            </form>`}
    </section>`;
  }
}

customElements.define('wf-timer-card', TimerCard);

declare global {
  interface HTMLElementTagNameMap {
    'wf-timer-card': TimerCard;
  }
}
