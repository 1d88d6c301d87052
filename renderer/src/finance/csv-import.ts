// <wf-csv-import>: a bank's CSV export into an account. The file is chosen here and read by the backend
// (POST /api/finance/import/inspect: separator, columns, first rows, guessed mapping); the user maps the
// columns (one amount column, or debit and credit), says how the file writes numbers and dates (a locale,
// and a date order), checks every row (a preview: new, already stored, or repeated in the file; duplicates
// are skipped unless kept), then imports. A malformed row fails the whole file with its line (csv_invalid).
// Event: `imported`.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { ApiError } from '../api/client.js';
import { api, reportError } from '../store.js';
import { COMMON_LOCALES, LocaleController, localeLabel, money, shortDate } from '../shared/locale.js';
import { baseStyles } from '../shared/styles.js';
import { datePattern, numberSymbols } from '../../../src/locale/index.js';
import type { Account } from '../../../src/tools/finance/types.js';

type Field = 'date' | 'amount' | 'debit' | 'credit' | 'payee' | 'category' | 'note';

interface Inspection {
  delimiter: string;
  columns: string[];
  rows: string[][];
  rowCount: number;
  suggested: Partial<Record<Field, string>>;
  decimalMark: ',' | '.' | null;
}

interface PreviewRow {
  line: number;
  date: string;
  amount: number;
  currency: string;
  payee: string;
  note: string;
  category: string | null;
  duplicate: boolean;
  duplicateOf: 'stored' | 'file' | null;
}

interface Preview {
  total: number;
  new: number;
  duplicates: number;
  storedDuplicates: number;
  fileDuplicates: number;
  rows: PreviewRow[];
}

interface Result {
  total: number;
  imported: number;
  duplicates: number;
  kept: number;
  createdCategories: string[];
}

const FIELDS: { key: Field; label: string; split?: boolean; one?: boolean }[] = [
  { key: 'date', label: 'Date column' },
  { key: 'amount', label: 'Amount column', one: true },
  { key: 'debit', label: 'Debit column (money out)', split: true },
  { key: 'credit', label: 'Credit column (money in)', split: true },
  { key: 'payee', label: 'Description column' },
  { key: 'category', label: 'Category column' },
  { key: 'note', label: 'Note column' },
];

const DATE_FORMATS = ['YYYY-MM-DD', 'DD.MM.YYYY', 'DD/MM/YYYY', 'MM/DD/YYYY', 'YYYY/MM/DD', 'D.M.YYYY', 'M/D/YYYY', 'DD-MM-YYYY'];
const PREVIEW_ROWS = 200;

export class CsvImport extends LitElement {
  static override properties: PropertyDeclarations = {
    accounts: { attribute: false },
    _fileName: { state: true },
    _info: { state: true },
    _map: { state: true },
    _split: { state: true },
    _fileLocale: { state: true },
    _dateFormat: { state: true },
    _accountId: { state: true },
    _preview: { state: true },
    _keep: { state: true },
    _result: { state: true },
    _error: { state: true },
    _busy: { state: true },
  };

  accounts: Account[] = [];
  _fileName = '';
  _csv = '';
  _info: Inspection | null = null;
  _map: Partial<Record<Field, string>> = {};
  _split = false;
  _fileLocale = '';
  /** '' = the locale's order (and ISO). */
  _dateFormat = '';
  _accountId: number | null = null;
  _preview: Preview | null = null;
  _keep = new Set<number>();
  _result: Result | null = null;
  _error = '';
  _busy = false;
  readonly #locale = new LocaleController(this);

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .mapping {
        display: grid;
        gap: 0.6rem;
        grid-template-columns: repeat(auto-fit, minmax(190px, 1fr));
        align-items: end;
      }
      .table-wrap {
        overflow-x: auto;
        max-height: 24rem;
        overflow-y: auto;
      }
      tr.dup td {
        color: var(--wf-muted);
      }
      tr.dup.kept td {
        color: inherit;
      }
      .error-box {
        color: var(--wf-danger);
        white-space: pre-wrap;
      }
      .result {
        border-left: 3px solid var(--wf-success);
        padding-left: 0.75rem;
      }
      td.neg {
        color: var(--wf-danger);
      }
    `,
  ];

  #reset(): void {
    this._preview = null;
    this._keep = new Set();
    this._result = null;
    this._error = '';
  }

  async #choose(e: Event): Promise<void> {
    const file = (e.target as HTMLInputElement).files?.[0];
    this.#reset();
    this._info = null;
    if (!file) return;
    this._busy = true;
    try {
      this._fileName = file.name;
      this._csv = await file.text();
      const info = await api().post<Inspection>('/api/finance/import/inspect', { csv: this._csv, limit: 5 });
      this._info = info;
      this._map = { ...info.suggested };
      this._split = !info.suggested.amount && Boolean(info.suggested.debit || info.suggested.credit);
      // The file's numbers may be written otherwise than the user's own (a German bank, an English UI).
      const mine = this.#locale.locale;
      const myDecimal = numberSymbols(mine).decimal;
      this._fileLocale = info.decimalMark === null || info.decimalMark === myDecimal ? mine : info.decimalMark === ',' ? 'de-DE' : 'en-US';
      this._dateFormat = '';
      this._accountId ??= this.accounts[0]?.id ?? null;
    } catch (err) {
      this._error = err instanceof Error ? err.message : String(err);
    } finally {
      this._busy = false;
    }
  }

  #mapping(): Record<string, unknown> {
    const m: Record<string, unknown> = { locale: this._fileLocale };
    for (const f of FIELDS) {
      if ((f.split && !this._split) || (f.one && this._split)) continue;
      const v = this._map[f.key];
      if (v) m[f.key] = v;
    }
    if (this._dateFormat) m.dateFormat = this._dateFormat;
    if (this._info) m.delimiter = this._info.delimiter;
    return m;
  }

  async #send(preview: boolean): Promise<void> {
    if (!this._accountId) {
      this._error = 'Choose the account to import into.';
      return;
    }
    this._busy = true;
    this._error = '';
    try {
      const body = { accountId: this._accountId, csv: this._csv, mapping: this.#mapping(), fileName: this._fileName, preview, ...(preview ? {} : { keep: [...this._keep] }) };
      if (preview) {
        this._preview = await api().post<Preview>('/api/finance/import', body);
        this._keep = new Set();
        this._result = null;
      } else {
        this._result = await api().post<Result>('/api/finance/import', body);
        this._preview = null;
        this.dispatchEvent(new CustomEvent('imported', { detail: this._result, bubbles: true, composed: true }));
      }
    } catch (err) {
      if (err instanceof ApiError && (err.code === 'csv_invalid' || err.code === 'invalid_params' || err.code === 'invalid_request')) this._error = err.message;
      else reportError(err, 'Could not import the file');
    } finally {
      this._busy = false;
    }
  }

  #toggleKeep(line: number, on: boolean): void {
    const next = new Set(this._keep);
    if (on) next.add(line);
    else next.delete(line);
    this._keep = next;
  }

  #select(f: (typeof FIELDS)[number]) {
    const cols = this._info?.columns ?? [];
    return html`<label
      >${f.label}
      <select
        data-field=${f.key}
        @change=${(e: Event) => {
          this._map = { ...this._map, [f.key]: (e.target as HTMLSelectElement).value };
          this.#reset();
        }}
      >
        <option value="" ?selected=${!this._map[f.key]}>—</option>
        ${cols.map((c) => html`<option value=${c} ?selected=${this._map[f.key] === c}>${c}</option>`)}
      </select>
    </label>`;
  }

  #previewTable(p: Preview) {
    const shown = p.rows.slice(0, PREVIEW_ROWS);
    return html`<p data-testid="import-summary">
        ${p.total} rows: <strong>${p.new} new</strong>${p.duplicates > 0
          ? html`, ${p.duplicates} duplicate${p.duplicates === 1 ? '' : 's'} (${p.storedDuplicates} already stored, ${p.fileDuplicates} repeated in the file), skipped unless you keep them`
          : nothing}.
      </p>
      <div class="table-wrap">
        <table data-testid="import-preview">
          <thead>
            <tr>
              <th>Line</th>
              <th>Date</th>
              <th>Description</th>
              <th>Category</th>
              <th class="num">Amount</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            ${shown.map(
              (r) => html`<tr class="${r.duplicate ? 'dup' : ''} ${this._keep.has(r.line) ? 'kept' : ''}" data-line=${r.line}>
                <td>${r.line}</td>
                <td>${shortDate(r.date)}</td>
                <td>${r.payee}${r.note ? html`<div class="small muted">${r.note}</div>` : nothing}</td>
                <td>${r.category ?? ''}</td>
                <td class="num ${r.amount < 0 ? 'neg' : ''}">${money(r.amount, r.currency)}</td>
                <td>
                  ${r.duplicate
                    ? html`<label class="inline"
                        ><input type="checkbox" .checked=${this._keep.has(r.line)} @change=${(e: Event) => this.#toggleKeep(r.line, (e.target as HTMLInputElement).checked)} />
                        Keep (${r.duplicateOf === 'stored' ? 'already stored' : 'repeated in the file'})</label
                      >`
                    : html`<span class="badge ok">New</span>`}
                </td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${p.rows.length > shown.length ? html`<p class="small muted">And ${p.rows.length - shown.length} more rows.</p>` : nothing}
      <div class="row">
        <button class="primary" ?disabled=${this._busy || p.new + this._keep.size === 0} @click=${() => void this.#send(false)}>Import ${p.new + this._keep.size} rows</button>
      </div>`;
  }

  protected override updated(): void {
    // Selects keep what the user picked over re-rendered `selected` attributes; the state wins.
    const set = (sel: string, v: string) => {
      const el = this.renderRoot.querySelector<HTMLSelectElement>(sel);
      if (el) el.value = v;
    };
    set('[data-testid="import-locale"]', this._fileLocale);
    set('[data-testid="import-date-format"]', this._dateFormat);
    for (const f of FIELDS) set(`select[data-field="${f.key}"]`, this._map[f.key] ?? '');
  }

  override render() {
    const info = this._info;
    const locales = [...new Set([...COMMON_LOCALES, this.#locale.locale, this._fileLocale].filter(Boolean))];
    return html`<div class="stack">
      <label>CSV file <input type="file" accept=".csv,.txt,text/csv" @change=${(e: Event) => void this.#choose(e)} ?disabled=${this._busy} /></label>
      ${info
        ? html`<p class="small muted">${this._fileName}: ${info.rowCount} rows, columns separated by ${info.delimiter === '\t' ? 'tabs' : `"${info.delimiter}"`}. The first rows:</p>
            <div class="table-wrap">
              <table data-testid="import-raw">
                <thead>
                  <tr>
                    ${info.columns.map((c) => html`<th>${c}</th>`)}
                  </tr>
                </thead>
                <tbody>
                  ${info.rows.map((r) => html`<tr>${info.columns.map((_, i) => html`<td>${r[i] ?? ''}</td>`)}</tr>`)}
                </tbody>
              </table>
            </div>
            <fieldset class="row">
              <legend class="visually-hidden">Amounts</legend>
              <label class="inline"><input type="radio" name="amount-mode" .checked=${!this._split} @change=${() => ((this._split = false), this.#reset())} />One amount column (negative = money out)</label>
              <label class="inline"><input type="radio" name="amount-mode" .checked=${this._split} @change=${() => ((this._split = true), this.#reset())} />Debit and credit columns</label>
            </fieldset>
            <div class="mapping">
              ${FIELDS.filter((f) => !(f.split && !this._split) && !(f.one && this._split)).map((f) => this.#select(f))}
              <label
                >Numbers in the file
                <select
                  data-testid="import-locale"
                  @change=${(e: Event) => {
                    this._fileLocale = (e.target as HTMLSelectElement).value;
                    this.#reset();
                  }}
                >
                  ${locales.map((l) => html`<option value=${l} ?selected=${l === this._fileLocale}>${localeLabel(l)}</option>`)}
                </select>
              </label>
              <label
                >Dates in the file
                <select
                  data-testid="import-date-format"
                  @change=${(e: Event) => {
                    this._dateFormat = (e.target as HTMLSelectElement).value;
                    this.#reset();
                  }}
                >
                  <option value="" ?selected=${this._dateFormat === ''}>${datePattern(this._fileLocale || this.#locale.locale).pattern} or YYYY-MM-DD</option>
                  ${DATE_FORMATS.map((f) => html`<option value=${f} ?selected=${f === this._dateFormat}>${f}</option>`)}
                </select>
              </label>
              <label
                >Into account
                <select @change=${(e: Event) => ((this._accountId = Number((e.target as HTMLSelectElement).value)), this.#reset())}>
                  ${this.accounts.map((a) => html`<option value=${a.id} ?selected=${a.id === this._accountId}>${a.name} (${a.currency})</option>`)}
                </select>
              </label>
              <button ?disabled=${this._busy} @click=${() => void this.#send(true)}>Check rows</button>
            </div>`
        : nothing}
      ${this._error ? html`<div class="error-box" role="alert" data-testid="import-error">${this._error}</div>` : nothing}
      ${this._preview ? this.#previewTable(this._preview) : nothing}
      ${this._result
        ? html`<div class="result" role="status" data-testid="import-result">
            Imported ${this._result.imported} of ${this._result.total} rows${this._result.kept ? html` (${this._result.kept} duplicate${this._result.kept === 1 ? '' : 's'} kept)` : nothing}; skipped
            ${this._result.duplicates} duplicate${this._result.duplicates === 1 ? '' : 's'}.${this._result.createdCategories.length
              ? html` New categories: ${this._result.createdCategories.join(', ')}.`
              : nothing}
          </div>`
        : nothing}
    </div>`;
  }
}

customElements.define('wf-csv-import', CsvImport);
