// <wf-billable-report>: billable hours × hourly rate per project for a period, and the total per currency,
// formatted with Intl in the user's locale (the one chosen in Settings, else the browser's).
// Properties: `summary` (billing.ts), `period`. Event: `period-change` ({ period }).
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { LocaleController } from '../shared/locale.js';
import { baseStyles } from '../shared/styles.js';
import { formatAmount, formatBillableHours, type BillableSummary } from './billing.js';

export const PERIODS = { week: 'This week', month: 'This month', year: 'This year', all: 'All time' } as const;
export type Period = keyof typeof PERIODS;

export class BillableReport extends LitElement {
  static override properties: PropertyDeclarations = { summary: { attribute: false }, period: { type: String } };
  summary: BillableSummary = { lines: [], totals: [] };
  period: Period = 'month';
  readonly #locale = new LocaleController(this);

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .table-wrap {
        overflow-x: auto;
      }
      tfoot td {
        font-weight: 700;
        border-top: 2px solid var(--wf-border);
      }
    `,
  ];

  override render() {
    const s = this.summary;
    const locale = this.#locale.locale;
    return html`<div class="row">
        <h2 id="bill-title" class="grow">Billable</h2>
        <label
          >Period
          <select
            @change=${(e: Event) => this.dispatchEvent(new CustomEvent('period-change', { detail: { period: (e.target as HTMLSelectElement).value } }))}
          >
            ${Object.entries(PERIODS).map(([k, label]) => html`<option value=${k} ?selected=${k === this.period}>${label}</option>`)}
          </select>
        </label>
      </div>
      ${s.lines.length === 0
        ? html`<p class="muted">No billable time in this period.</p>`
        : html`<div class="table-wrap">
            <table data-testid="billable-report" aria-labelledby="bill-title">
              <thead>
                <tr>
                  <th>Project</th>
                  <th class="num">Hours</th>
                  <th class="num">Rate</th>
                  <th class="num">Amount</th>
                </tr>
              </thead>
              <tbody>
                ${s.lines.map(
                  (l) => html`<tr data-project=${l.project}>
                    <td>${l.project}</td>
                    <td class="num">${formatBillableHours(l.billableMs, locale)}</td>
                    <td class="num">${formatAmount(l.rate, l.currency, locale)}/h</td>
                    <td class="num" data-testid="billable-amount">${formatAmount(l.amount, l.currency, locale)}</td>
                  </tr>`,
                )}
              </tbody>
              <tfoot>
                ${s.totals.map(
                  (t) => html`<tr>
                    <td colspan="3">Total${s.totals.length > 1 ? ` (${t.currency})` : ''}</td>
                    <td class="num" data-testid="billable-total">${formatAmount(t.amount, t.currency, locale)}</td>
                  </tr>`,
                )}
              </tfoot>
            </table>
          </div>`}`;
  }
}

customElements.define('wf-billable-report', BillableReport);

declare global {
  interface HTMLElementTagNameMap {
    'wf-billable-report': BillableReport;
  }
}
