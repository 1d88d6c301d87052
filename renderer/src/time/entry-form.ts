// <wf-entry-form>: time added by hand (a project, a day, hours, a description). Property: `projects`.
// Event: `entry-add` ({ body, done }) with the POST /api/time/entries body; `done(ok)` resets the form.
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { todayIso } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import { parseDuration } from './entry-time.js';
import type { Project } from '../../../src/tools/time/types.js';

export class EntryForm extends LitElement {
  static override properties: PropertyDeclarations = { projects: { attribute: false }, _error: { state: true } };
  projects: Project[] = [];
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
        grid-template-columns: repeat(auto-fit, minmax(150px, 1fr));
        align-items: end;
      }
      .error {
        color: var(--wf-danger, #b00020);
      }
    `,
  ];

  #submit(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const durationMs = parseDuration(String(data.get('hours') ?? ''));
    if (durationMs === null || durationMs === 0) {
      this._error = 'Enter the hours, e.g. 1.5 or 1:30';
      return;
    }
    this._error = null;
    const day = String(data.get('date') || todayIso());
    const body = {
      projectId: Number(data.get('project')),
      startAt: new Date(`${day}T09:00:00`).getTime(),
      durationMs,
      description: String(data.get('description') ?? '').trim(),
    };
    this.dispatchEvent(new CustomEvent('entry-add', { detail: { body, done: (ok: boolean) => ok && form.reset() } }));
  }

  override render() {
    if (this.projects.length === 0) return html`<p class="muted small">Add a project first.</p>`;
    return html`<form @submit=${(e: Event) => this.#submit(e)}>
      <label
        >Project
        <select name="project" required>
          ${this.projects.map((p) => html`<option value=${p.id}>${p.name}</option>`)}
        </select>
      </label>
      <label>Day <input name="date" type="date" value=${todayIso()} required /></label>
      <label>Hours <input name="hours" inputmode="decimal" required placeholder="1.5" /></label>
      <label>Description <input name="description" maxlength="2000" /></label>
      <button type="submit">Add entry</button>
      ${this._error ? html`<p class="error small" role="alert">${this._error}</p>` : ''}
    </form>`;
  }
}

customElements.define('wf-entry-form', EntryForm);

declare global {
  interface HTMLElementTagNameMap {
    'wf-entry-form': EntryForm;
  }
}
