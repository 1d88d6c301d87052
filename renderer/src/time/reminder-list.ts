// <wf-reminder-list>: reminders and the form that adds one. Property: `reminders`. Events: `reminder-add`
// ({ body, done }), `reminder-delete` ({ reminder }).
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { formatDateTime } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import { fromLocalInput } from './entry-time.js';
import type { Reminder } from '../../../src/tools/time/types.js';

export class ReminderList extends LitElement {
  static override properties: PropertyDeclarations = { reminders: { attribute: false }, _error: { state: true } };
  reminders: Reminder[] = [];
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

  #add(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const dueAt = fromLocalInput(String(data.get('due') ?? ''));
    if (dueAt === null) return void (this._error = 'Choose when to be reminded.');
    this._error = null;
    const body = { message: String(data.get('message') ?? '').trim(), dueAt, repeat: String(data.get('repeat') || 'none') };
    this.dispatchEvent(new CustomEvent('reminder-add', { detail: { body, done: (ok: boolean) => ok && form.reset() } }));
  }

  override render() {
    return html`<ul>
        ${this.reminders.map(
          (r) => html`<li>
            ${r.message} <span class="muted small">· ${formatDateTime(r.dueAt)}${r.repeat !== 'none' ? ` · ${r.repeat}` : ''}</span>
            <button class="ghost small" aria-label="Delete reminder ${r.message}" @click=${() => this.dispatchEvent(new CustomEvent('reminder-delete', { detail: { reminder: r } }))}>✕</button>
          </li>`,
        )}
      </ul>
      <form @submit=${(e: Event) => this.#add(e)} aria-label="Add a reminder">
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
      ${this._error ? html`<p class="error small" role="alert">${this._error}</p>` : ''}`;
  }
}

customElements.define('wf-reminder-list', ReminderList);

declare global {
  interface HTMLElementTagNameMap {
    'wf-reminder-list': ReminderList;
  }
}
