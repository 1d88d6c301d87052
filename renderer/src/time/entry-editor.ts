// <wf-entry-editor>: edits one time entry in place: project, start, end or duration (changing one updates
// the other), note. Properties: `entry`, `projects`. Events: `entry-save` ({ id, patch }) with only the
// fields the user changed (an untouched start keeps its seconds), `entry-cancel`.
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { formatHm, fromLocalInput, parseDuration, toLocalInput } from './entry-time.js';
import type { Project, TimeEntry } from '../../../src/tools/time/types.js';

export interface EntryPatch {
  projectId?: number;
  startAt?: number;
  endAt?: number;
  description?: string;
}

export class EntryEditor extends LitElement {
  static override properties: PropertyDeclarations = {
    entry: { attribute: false },
    projects: { attribute: false },
    _end: { state: true },
    _duration: { state: true },
    _error: { state: true },
  };

  entry!: TimeEntry;
  projects: Project[] = [];
  _end = '';
  _duration = '';
  _error: string | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      form {
        display: grid;
        gap: 0.6rem;
        grid-template-columns: repeat(auto-fit, minmax(140px, 1fr));
        align-items: end;
      }
      .actions {
        display: flex;
        gap: 0.4rem;
      }
      .error {
        grid-column: 1 / -1;
        color: var(--wf-danger, #b00020);
        margin: 0;
      }
    `,
  ];

  protected override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('entry') && this.entry) {
      this._end = toLocalInput(this.entry.endAt);
      this._duration = formatHm(this.entry.durationMs);
      this._error = null;
    }
  }

  override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLElement>('select, input')?.focus();
  }

  #start(): number | null {
    return fromLocalInput(this.renderRoot.querySelector<HTMLInputElement>('input[name="start"]')?.value ?? '');
  }

  #onEnd(value: string): void {
    this._end = value;
    const start = this.#start();
    const end = fromLocalInput(value);
    if (start !== null && end !== null && end >= start) this._duration = formatHm(end - start);
  }

  #onDuration(value: string): void {
    this._duration = value;
    const start = this.#start();
    const ms = parseDuration(value);
    if (start !== null && ms !== null) this._end = toLocalInput(start + ms);
  }

  #onStart(value: string): void {
    // Moving the start keeps the duration: the end follows.
    const start = fromLocalInput(value);
    const ms = parseDuration(this._duration);
    if (start !== null && ms !== null) this._end = toLocalInput(start + ms);
  }

  #submit(e: Event): void {
    e.preventDefault();
    const data = new FormData(e.target as HTMLFormElement);
    const e0 = this.entry;
    const fail = (message: string) => void (this._error = message);
    const patch: EntryPatch = {};
    const projectId = Number(data.get('project'));
    if (projectId && projectId !== e0.projectId) patch.projectId = projectId;
    // Only what changed is sent, so an untouched start or end keeps its seconds.
    const startText = String(data.get('start') ?? '');
    const start = fromLocalInput(startText);
    if (start === null) return fail('Enter when it started.');
    if (startText !== toLocalInput(e0.startAt)) patch.startAt = start;
    const from = patch.startAt ?? Date.parse(e0.startAt);
    const duration = parseDuration(this._duration);
    if (duration === null) return fail('Enter the duration as hours (1.5) or h:mm (1:30).');
    if (this._duration !== formatHm(e0.durationMs)) patch.endAt = from + duration;
    else if (this._end !== toLocalInput(e0.endAt)) {
      const end = fromLocalInput(this._end);
      if (end === null) return fail('Enter when it ended.');
      patch.endAt = end;
    }
    if (patch.endAt !== undefined && patch.endAt < from) return fail('The end must not be before the start.');
    const description = String(data.get('description') ?? '').trim();
    if (description !== e0.description) patch.description = description;
    this._error = null;
    this.dispatchEvent(new CustomEvent('entry-save', { detail: { id: e0.id, patch } }));
  }

  override render() {
    const e = this.entry;
    return html`<form aria-label="Edit entry" @submit=${(ev: Event) => this.#submit(ev)} @keydown=${(ev: KeyboardEvent) => ev.key === 'Escape' && this.dispatchEvent(new CustomEvent('entry-cancel'))}>
      <label
        >Project
        <select name="project">
          ${this.projects.map((p) => html`<option value=${p.id} ?selected=${p.id === e.projectId}>${p.name}</option>`)}
        </select>
      </label>
      <label>Start <input name="start" type="datetime-local" required .value=${toLocalInput(e.startAt)} @change=${(ev: Event) => this.#onStart((ev.target as HTMLInputElement).value)} /></label>
      <label>End <input name="end" type="datetime-local" .value=${this._end} @change=${(ev: Event) => this.#onEnd((ev.target as HTMLInputElement).value)} /></label>
      <label>Duration <input name="duration" inputmode="decimal" placeholder="1:30" .value=${this._duration} @input=${(ev: Event) => this.#onDuration((ev.target as HTMLInputElement).value)} /></label>
      <label>Note <input name="description" maxlength="2000" .value=${e.description} /></label>
      <div class="actions">
        <button class="primary" type="submit">Save</button>
        <button type="button" @click=${() => this.dispatchEvent(new CustomEvent('entry-cancel'))}>Cancel</button>
      </div>
      ${this._error ? html`<p class="error small" role="alert">${this._error}</p>` : ''}
    </form>`;
  }
}

customElements.define('wf-entry-editor', EntryEditor);

declare global {
  interface HTMLElementTagNameMap {
    'wf-entry-editor': EntryEditor;
  }
}
