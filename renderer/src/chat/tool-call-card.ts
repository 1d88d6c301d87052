// <wf-tool-call-card>: a function call of the model, in plain words. Properties: `call` ({ id, name,
// arguments, status, result?, error?, mutates?, and for a confirmation: sentence, template, schema,
// choices, requiredAny }). A call awaiting the user (status 'pending') shows its sentence ("Start a timer
// on project Garden?", following the edits) and its arguments as a form generated from the tool's JSON
// schema; Allow sends what the form holds. Events: `confirm-tool` ({ id, arguments? }: arguments only
// when the user changed them) and `deny-tool` ({ id }). A failed call shows a readable reason; the raw
// call and result stay under Details.
import { LitElement, css, html, nothing, type PropertyDeclarations, type PropertyValues } from 'lit';
import { icons } from '../shared/icons.js';
import { baseStyles } from '../shared/styles.js';
import { toolInfo } from './tool-form-catalog.js';
import { displayValue, formFields, formState, initialValues, readableToolError, humanize, type FormField, type FormState, type FormValues, type JsonSchema, type ToolChoices } from './tool-form-model.js';
import { fillSentence, genericSentence } from './tool-form-sentence.js';
import './tool-form.js';

export type ToolCallStatus = 'pending' | 'approved' | 'denied' | 'running' | 'done' | 'error';

export interface ToolCallView {
  id: string;
  name: string;
  arguments: unknown;
  status: ToolCallStatus;
  mutates?: boolean;
  result?: unknown;
  error?: string;
  /** For people: "Start a timer". */
  title?: string;
  /** The confirmation sentence as the backend filled it. */
  sentence?: string;
  /** The sentence's template (re-filled as the user edits); null: the generic sentence. */
  template?: string | null;
  source?: string;
  /** The arguments' JSON schema (the form). */
  schema?: JsonSchema;
  choices?: ToolChoices;
  requiredAny?: string[][];
}

const STATUS_TEXT: Record<ToolCallStatus, string> = {
  pending: 'Needs your confirmation',
  approved: 'Approved',
  denied: 'Denied',
  running: 'Running…',
  done: 'Done',
  error: 'Failed',
};

function pretty(v: unknown): string {
  if (v === undefined) return '';
  if (typeof v === 'string') {
    try {
      return JSON.stringify(JSON.parse(v), null, 2);
    } catch {
      return v;
    }
  }
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

/** The error a result carries ({ error: { code, message } }, as an object or as saved JSON text). */
function errorOf(result: unknown): { code?: string; message?: string; details?: never } | null {
  let r = result;
  if (typeof r === 'string') {
    try {
      r = JSON.parse(r);
    } catch {
      return null;
    }
  }
  const e = (r as { error?: unknown } | null)?.error;
  return e && typeof e === 'object' ? (e as { code?: string; message?: string; details?: never }) : null;
}

export class ToolCallCard extends LitElement {
  static override properties: PropertyDeclarations = {
    call: { attribute: false },
    _values: { state: true },
  };

  call: ToolCallView | null = null;
  _values: FormValues = {};
  /** The call whose arguments the form holds, and whether the user changed them. */
  #formFor: string | null = null;
  #edited = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        margin: 0.25rem 0 0.25rem 2.6rem;
        max-width: min(760px, 85%);
      }
      .card {
        padding: 0.6rem 0.8rem;
        border-left: 4px solid var(--wf-accent);
      }
      .card.pending {
        border-left-color: var(--wf-warning);
      }
      .card.error,
      .card.denied {
        border-left-color: var(--wf-danger);
      }
      .card.done {
        border-left-color: var(--wf-success);
      }
      header {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .title {
        font-weight: 600;
      }
      .sentence {
        margin: 0.35rem 0 0;
        font-size: 1rem;
      }
      dl {
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr);
        gap: 0.1rem 0.75rem;
        margin: 0.35rem 0 0;
        font-size: 0.85rem;
      }
      dt {
        color: var(--wf-muted);
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      code.name {
        font-family: var(--wf-mono);
      }
      pre {
        font-family: var(--wf-mono);
        font-size: 0.8rem;
        background: var(--wf-code-bg);
        border-radius: 6px;
        padding: 0.5rem;
        overflow: auto;
        max-height: 14rem;
        margin: 0.4rem 0 0;
      }
      details summary {
        cursor: pointer;
        font-size: 0.8rem;
        color: var(--wf-muted);
        margin-top: 0.4rem;
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        margin-top: 0.5rem;
      }
    `,
  ];

  #fields(): FormField[] {
    const c = this.call!;
    const info = toolInfo(c.name);
    return formFields(c.schema ?? info?.parameters, { ...(c.choices ? { choices: c.choices } : {}), requiredAny: c.requiredAny ?? info?.requiredAny ?? [] });
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const c = this.call;
    if (changed.has('call') && c && c.status === 'pending' && this.#formFor !== c.id) {
      this.#formFor = c.id;
      this.#edited = false;
      this._values = initialValues(this.#fields(), c.arguments);
    }
  }

  #onField(e: CustomEvent<{ name: string; value: string | boolean }>): void {
    this.#edited = true;
    this._values = { ...this._values, [e.detail.name]: e.detail.value };
  }

  #allow(state: FormState): void {
    if (Object.keys(state.problems).length > 0) return;
    const detail = { id: this.call?.id, ...(this.#edited ? { arguments: state.args } : {}) };
    this.dispatchEvent(new CustomEvent('confirm-tool', { detail, bubbles: true, composed: true }));
  }

  #deny(): void {
    this.dispatchEvent(new CustomEvent('deny-tool', { detail: { id: this.call?.id }, bubbles: true, composed: true }));
  }

  /** The arguments as label: value lines (a call that is no longer waiting). */
  #summary(fields: FormField[], args: unknown) {
    if (!args || typeof args !== 'object' || Array.isArray(args)) return nothing;
    const entries = Object.entries(args as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== null && v !== '');
    if (entries.length === 0) return nothing;
    return html`<dl data-testid="tool-arguments">
      ${entries.map(([k, v]) => {
        const f = fields.find((x) => x.name === k);
        return html`<dt>${f?.label ?? humanize(k)}</dt><dd>${f ? displayValue(f, v) : pretty(v)}</dd>`;
      })}
    </dl>`;
  }

  override render() {
    const c = this.call;
    if (!c) return nothing;
    const info = toolInfo(c.name);
    const title = c.title ?? info?.title ?? humanize(c.name);
    const pending = c.status === 'pending';
    const fields = this.#fields();
    const state = pending ? formState(fields, this._values) : null;
    const template = c.template !== undefined ? c.template : (info?.confirm ?? null);
    const args = state ? state.args : c.arguments;
    const sentence = template ? fillSentence(template, args, c.choices ?? {}).text : pending ? (c.sentence ?? genericSentence(title, c.source ?? info?.source ?? 'Westfall')) : null;
    const failure = errorOf(c.result);
    const reason = c.status === 'error' ? (failure ? readableToolError(failure, fields) : c.error) : c.error;
    const problems = state ? Object.keys(state.problems).length : 0;
    const badge = c.status === 'done' ? 'ok' : pending ? 'warn' : c.status === 'error' || c.status === 'denied' ? 'err' : '';
    return html`<section class="card ${c.status}" role="group" aria-label="${title}: ${STATUS_TEXT[c.status]}" data-testid="tool-call">
      <header>
        ${icons.tool}
        <span class="title" data-testid="tool-title">${title}</span>
        ${c.mutates ? html`<span class="badge warn" title="Changes your data">changes data</span>` : nothing}
        <span class="badge ${badge}" data-testid="tool-status">${STATUS_TEXT[c.status]}</span>
      </header>
      ${sentence ? html`<p class="sentence" data-testid="tool-sentence">${sentence}</p>` : nothing}
      ${pending
        ? html`<wf-tool-form .fields=${fields} .values=${this._values} .state=${state!} @field-input=${this.#onField}></wf-tool-form>
            <div class="actions">
              <button class="primary" @click=${() => this.#allow(state!)} ?disabled=${problems > 0} data-testid="tool-confirm"
                title=${problems > 0 ? 'Fill in the marked fields first' : 'Run it'}>Allow</button>
              <button class="danger" @click=${() => this.#deny()} data-testid="tool-deny">Deny</button>
            </div>`
        : this.#summary(fields, c.arguments)}
      ${reason ? html`<p class="error-text small" role="alert" data-testid="tool-error">${reason}</p>` : nothing}
      <details>
        <summary>Details</summary>
        <code class="name">${c.name}</code>
        <pre aria-label="Arguments">${pretty(c.arguments) || '{}'}</pre>
        ${c.result !== undefined ? html`<pre aria-label="Result">${pretty(c.result)}</pre>` : nothing}
      </details>
    </section>`;
  }
}

customElements.define('wf-tool-call-card', ToolCallCard);
