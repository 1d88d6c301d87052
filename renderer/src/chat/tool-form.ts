// <wf-tool-form>: a tool call's arguments as a form (fields from tool-form-model.ts). Properties: `fields`,
// `values`, `state` (the arguments and problems the values stand for), `disabled`. Event: `field-input`
// ({ name, value }) on every change; the card owns the values and decides what runs.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { mustFill, type FormField, type FormState, type FormValues } from './tool-form-model.js';

export class ToolForm extends LitElement {
  static override properties: PropertyDeclarations = {
    fields: { attribute: false },
    values: { attribute: false },
    state: { attribute: false },
    disabled: { type: Boolean },
  };

  fields: FormField[] = [];
  values: FormValues = {};
  state: FormState = { args: {}, problems: {} };
  disabled = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      form {
        display: grid;
        grid-template-columns: minmax(7rem, max-content) minmax(0, 1fr);
        gap: 0.4rem 0.75rem;
        align-items: start;
        margin-top: 0.5rem;
      }
      label {
        padding-top: 0.35rem;
        font-size: 0.85rem;
        font-weight: 600;
      }
      .req {
        color: var(--wf-danger);
        margin-left: 0.15rem;
      }
      .control {
        display: flex;
        flex-direction: column;
        gap: 0.15rem;
        min-width: 0;
      }
      input:not([type='checkbox']),
      select,
      textarea {
        width: 100%;
        box-sizing: border-box;
      }
      input[type='checkbox'] {
        margin-top: 0.5rem;
        align-self: flex-start;
      }
      .help {
        font-size: 0.75rem;
        color: var(--wf-muted);
      }
      .problem {
        font-size: 0.75rem;
        color: var(--wf-danger);
      }
      [aria-invalid='true'] {
        border-color: var(--wf-danger);
      }
      @media (max-width: 520px) {
        form {
          grid-template-columns: 1fr;
        }
      }
    `,
  ];

  #input(name: string, value: string | boolean): void {
    this.dispatchEvent(new CustomEvent('field-input', { detail: { name, value }, bubbles: true, composed: true }));
  }

  #control(f: FormField, id: string, described: string) {
    const value = this.values[f.name];
    const problem = this.state.problems[f.name];
    const required = mustFill(f, this.state);
    const text = typeof value === 'string' ? value : '';
    const onText = (e: Event) => this.#input(f.name, (e.target as HTMLInputElement).value);
    const common = { id, described, invalid: problem ? 'true' : 'false' };
    switch (f.kind) {
      case 'boolean':
        return html`<input type="checkbox" id=${common.id} aria-describedby=${common.described} .checked=${value === true} ?disabled=${this.disabled}
          @change=${(e: Event) => this.#input(f.name, (e.target as HTMLInputElement).checked)} />`;
      case 'select':
        return html`<select id=${common.id} aria-describedby=${common.described} aria-invalid=${common.invalid} ?required=${required} ?disabled=${this.disabled} @change=${onText}>
          <option value="" ?selected=${text === ''}>${required ? 'Choose…' : '(none)'}</option>
          ${f.options.map((o) => html`<option value=${o.value} ?selected=${o.value === text}>${o.label}</option>`)}
          ${text !== '' && !f.options.some((o) => o.value === text) ? html`<option value=${text} selected>${text}</option>` : nothing}
        </select>`;
      case 'json':
        return html`<textarea id=${common.id} rows="3" aria-describedby=${common.described} aria-invalid=${common.invalid} placeholder=${f.placeholder} ?required=${required} ?disabled=${this.disabled} .value=${text} @input=${onText}></textarea>`;
      default: {
        const type = f.kind === 'date' ? 'date' : 'text';
        const mode = f.kind === 'integer' ? 'numeric' : f.kind === 'number' ? 'decimal' : 'text';
        const list = f.suggestions.length > 0 ? `${id}-list` : undefined;
        return html`<input type=${type} inputmode=${mode} id=${common.id} list=${list ?? nothing} aria-describedby=${common.described} aria-invalid=${common.invalid}
            placeholder=${f.placeholder} ?required=${required} ?disabled=${this.disabled} .value=${text} @input=${onText} />
          ${list ? html`<datalist id=${list}>${f.suggestions.map((s) => html`<option value=${s}></option>`)}</datalist>` : nothing}`;
      }
    }
  }

  override render() {
    if (this.fields.length === 0) return html`<p class="help">This action takes no details.</p>`;
    return html`<form @submit=${(e: Event) => e.preventDefault()} aria-label="Details of the action">
      ${this.fields.map((f) => {
        const id = `f-${f.name}`;
        const problem = this.state.problems[f.name];
        const described = `${id}-help ${id}-problem`;
        return html`<label for=${id}>${f.label}${mustFill(f, this.state) ? html`<span class="req" aria-hidden="true">*</span>` : nothing}</label>
          <div class="control">
            ${this.#control(f, id, described)}
            <span class="help" id="${id}-help">${f.help}</span>
            <span class="problem" id="${id}-problem" data-testid="field-problem">${problem ?? ''}</span>
          </div>`;
      })}
    </form>`;
  }
}

customElements.define('wf-tool-form', ToolForm);
