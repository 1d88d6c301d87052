// <wf-project-list>: projects with their hourly rate (editable: the billable amounts follow), and the form
// that adds one. Property: `projects`. Events: `project-add` ({ body, done }), `project-update`
// ({ id, patch, done }); `done(ok)` lets the form reset or keep the user's input.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { formatAmount, parseRate } from './billing.js';
import type { Project } from '../../../src/tools/time/types.js';

const digitsOf = (currency: string): number => {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
};

/** A rate in minor units as the user would type it back ("85.50"). */
const rateText = (minor: number, currency: string): string => (minor / 10 ** digitsOf(currency)).toFixed(digitsOf(currency));

const validCurrency = (c: string): boolean => {
  try {
    new Intl.NumberFormat('en', { style: 'currency', currency: c });
    return /^[A-Z]{3}$/.test(c);
  } catch {
    return false;
  }
};

export class ProjectList extends LitElement {
  static override properties: PropertyDeclarations = { projects: { attribute: false }, _error: { state: true } };
  projects: Project[] = [];
  _error: string | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      ul {
        list-style: none;
        padding: 0;
        margin: 0 0 1rem;
        display: grid;
        gap: 0.5rem;
      }
      li form {
        display: flex;
        gap: 0.4rem;
        align-items: center;
        flex-wrap: wrap;
      }
      li .name {
        flex: 1 1 10rem;
      }
      li input.rate {
        width: 7rem;
      }
      li input.cur {
        width: 4.5rem;
      }
      form.add {
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

  /** { hourlyRate, currency } from a form, or an error message. */
  #rate(data: FormData): { hourlyRate?: number; currency: string } | string {
    const currency = String(data.get('currency') || 'USD').trim().toUpperCase();
    if (!validCurrency(currency)) return `${currency} is not a currency code (e.g. EUR, USD).`;
    const text = String(data.get('rate') ?? '').trim();
    if (text === '') return { currency };
    const hourlyRate = parseRate(text, currency);
    if (hourlyRate === null) return `Write the hourly rate as a number, e.g. 85 or 85.50 (${currency} has ${digitsOf(currency)} decimals).`;
    return { hourlyRate, currency };
  }

  #add(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const rate = this.#rate(data);
    if (typeof rate === 'string') return void (this._error = rate);
    this._error = null;
    const body = { name: String(data.get('name') ?? '').trim(), client: String(data.get('client') ?? '').trim(), ...rate };
    this.dispatchEvent(new CustomEvent('project-add', { detail: { body, done: (ok: boolean) => ok && form.reset() } }));
  }

  #saveRate(e: Event, p: Project): void {
    e.preventDefault();
    const rate = this.#rate(new FormData(e.target as HTMLFormElement));
    if (typeof rate === 'string') return void (this._error = rate);
    this._error = null;
    this.dispatchEvent(new CustomEvent('project-update', { detail: { id: p.id, patch: { hourlyRate: rate.hourlyRate ?? 0, currency: rate.currency }, done: () => undefined } }));
  }

  override render() {
    return html`<ul data-testid="projects">
        ${this.projects.map(
          (p) => html`<li>
            <form @submit=${(e: Event) => this.#saveRate(e, p)} aria-label="Rate of ${p.name}">
              <span class="name">${p.name}${p.client ? html` <span class="muted small">· ${p.client}</span>` : nothing} <span class="badge">${p.status}</span></span>
              <input class="rate" name="rate" inputmode="decimal" aria-label="Hourly rate of ${p.name}" .value=${rateText(p.hourlyRate, p.currency)} />
              <input class="cur" name="currency" aria-label="Currency of ${p.name}" maxlength="3" .value=${p.currency} />
              <span class="muted small">per hour</span>
              <button class="small" type="submit" aria-label="Save the rate of ${p.name}">Save</button>
              <span class="visually-hidden">now ${formatAmount(p.hourlyRate, p.currency)} per hour</span>
            </form>
          </li>`,
        )}
      </ul>
      ${this._error ? html`<p class="error small" role="alert">${this._error}</p>` : nothing}
      <form class="add" @submit=${(e: Event) => this.#add(e)} aria-label="Add a project">
        <label>Project name <input name="name" required maxlength="200" /></label>
        <label>Client <input name="client" maxlength="200" /></label>
        <label>Hourly rate <input name="rate" inputmode="decimal" placeholder="0" /></label>
        <label>Currency <input name="currency" value="USD" maxlength="3" /></label>
        <button type="submit">Add project</button>
      </form>`;
  }
}

customElements.define('wf-project-list', ProjectList);

declare global {
  interface HTMLElementTagNameMap {
    'wf-project-list': ProjectList;
  }
}
