// <wf-locale-picker>: how numbers, amounts and dates are written: follow this browser, or a chosen locale
// (saved in the backend's settings, so every window and the assistant's tools read amounts the same way).
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { reportError } from '../store.js';
import { COMMON_LOCALES, LocaleController, browserLocale, chosenLocale, localeLabel, saveLocale } from './locale.js';
import { amountExample, datePattern } from '../../../src/locale/index.js';
import { baseStyles } from './styles.js';

export class LocalePicker extends LitElement {
  static override properties: PropertyDeclarations = {
    label: { type: String },
    _saving: { state: true },
  };

  label = 'Numbers and dates';
  _saving = false;
  readonly #locale = new LocaleController(this);

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .example {
        margin-top: 0.25rem;
      }
    `,
  ];

  async #change(e: Event): Promise<void> {
    const v = (e.target as HTMLSelectElement).value;
    this._saving = true;
    try {
      await saveLocale(v === '' ? null : v);
    } catch (err) {
      reportError(err, 'Could not save the locale');
    } finally {
      this._saving = false;
    }
  }

  protected override updated(): void {
    // The selectedness a user's pick left behind can differ from the attributes; the setting wins.
    const select = this.renderRoot.querySelector('select');
    if (select) select.value = chosenLocale() ?? '';
  }

  override render() {
    const chosen = chosenLocale();
    const browser = browserLocale();
    // A stable order: options re-rendered in place must keep their values, or the shown choice drifts.
    const options = [...new Set([...COMMON_LOCALES, ...(chosen ? [chosen] : [])])];
    const locale = this.#locale.locale;
    return html`<label
        >${this.label}
        <select data-testid="locale-select" ?disabled=${this._saving} @change=${(e: Event) => void this.#change(e)}>
          <option value="" ?selected=${chosen === null}>Follow this browser (${browser})</option>
          ${options.map((l) => html`<option value=${l} ?selected=${chosen === l}>${localeLabel(l)}</option>`)}
        </select>
      </label>
      <div class="example small muted" data-testid="locale-example">Amounts like ${amountExample(locale, 2)}, dates like ${datePattern(locale).pattern}</div>`;
  }
}

customElements.define('wf-locale-picker', LocalePicker);
