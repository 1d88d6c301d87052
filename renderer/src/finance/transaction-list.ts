// <wf-transaction-list>: the latest transactions, amounts and dates in the user's locale, each with Edit
// (the row becomes the form) and Delete. Events: `delete-transaction` (detail: the transaction), `saved`
// (from the edit form, bubbling).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { LocaleController, money, shortDate } from '../shared/locale.js';
import { baseStyles } from '../shared/styles.js';
import type { Account, Category, Transaction } from '../../../src/tools/finance/types.js';
import './transaction-form.js';

export class TransactionList extends LitElement {
  static override properties: PropertyDeclarations = {
    transactions: { attribute: false },
    accounts: { attribute: false },
    categories: { attribute: false },
    total: { type: Number },
    _editing: { state: true },
  };

  transactions: Transaction[] = [];
  accounts: Account[] = [];
  categories: Category[] = [];
  total = 0;
  _editing: number | null = null;
  readonly #locale = new LocaleController(this);

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      td.amount.neg {
        color: var(--wf-danger);
      }
      td.amount.pos {
        color: var(--wf-success);
      }
      .table-wrap {
        overflow-x: auto;
      }
      td.actions,
      td.date,
      td.amount {
        white-space: nowrap;
      }
      /* Narrow windows (the tray's quick window): the account and category give way to the amount. */
      @media (max-width: 560px) {
        .col-account,
        .col-category {
          display: none;
        }
      }
    `,
  ];

  override render() {
    void this.#locale.locale;
    return html`<h2 id="tx-title">Latest transactions <span class="badge">${this.total}</span></h2>
      ${this.transactions.length === 0
        ? html`<p class="muted">No transactions yet.</p>`
        : html`<div class="table-wrap">
            <table data-testid="transactions" aria-labelledby="tx-title">
              <thead>
                <tr>
                  <th>Date</th>
                  <th>Payee</th>
                  <th class="col-category">Category</th>
                  <th class="col-account">Account</th>
                  <th class="num">Amount</th>
                  <th><span class="visually-hidden">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                ${this.transactions.map((t) =>
                  this._editing === t.id
                    ? html`<tr>
                        <td colspan="6">
                          <wf-transaction-form
                            .transaction=${t}
                            .accounts=${this.accounts}
                            .categories=${this.categories}
                            @saved=${() => (this._editing = null)}
                            @cancel=${() => (this._editing = null)}
                          ></wf-transaction-form>
                        </td>
                      </tr>`
                    : html`<tr data-id=${t.id}>
                        <td class="date">${shortDate(t.date)}</td>
                        <td>${t.payee}${t.note ? html`<div class="small muted">${t.note}</div>` : nothing}</td>
                        <td class="col-category">${t.category ?? html`<span class="muted">—</span>`}</td>
                        <td class="col-account">${this.accounts.find((a) => a.id === t.accountId)?.name ?? t.accountId}</td>
                        <td class="num amount ${t.amount < 0 ? 'neg' : 'pos'}">${money(t.amount, t.currency)}</td>
                        <td class="actions">
                          <button class="ghost small" @click=${() => (this._editing = t.id)} aria-label="Edit transaction ${t.payee} ${t.date}">Edit</button>
                          <button
                            class="ghost small"
                            @click=${() => this.dispatchEvent(new CustomEvent('delete-transaction', { detail: t, bubbles: true, composed: true }))}
                            aria-label="Delete transaction ${t.payee} ${t.date}"
                          >
                            ✕
                          </button>
                        </td>
                      </tr>`,
                )}
              </tbody>
            </table>
          </div>`}`;
  }
}

customElements.define('wf-transaction-list', TransactionList);
