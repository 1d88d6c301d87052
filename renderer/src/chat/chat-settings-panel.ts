// <wf-chat-settings-panel>: this chat's system prompt and sampling: a preset (Precise, Balanced,
// Creative; changing any value makes it Custom) and every value (temperature, top-p, top-k, min-p, repeat
// penalty, max tokens, seed, context window). Properties: `settings` (the chat's effective settings),
// `own` (the chat has settings of its own), `defaultPrompt` (the app's, shown as the placeholder).
// Events: `settings-change` ({ settings }), `settings-reset` (back to the app's defaults).
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { PRESETS, SAMPLING_LIMITS, applyPreset, withSampling, type ChatSampling, type ChatSettings } from './chat-settings.js';

type NumberField = Exclude<keyof ChatSampling, 'seed' | 'contextTokens'>;

const FIELDS: { key: NumberField; label: string; hint: string }[] = [
  { key: 'temperature', label: 'Temperature', hint: 'Higher is more varied, lower more predictable' },
  { key: 'topP', label: 'Top-p', hint: 'Sample from the most likely tokens that together reach this probability' },
  { key: 'topK', label: 'Top-k', hint: 'Sample from this many most likely tokens (0: all)' },
  { key: 'minP', label: 'Min-p', hint: 'Leave out tokens less likely than this share of the most likely one' },
  { key: 'repeatPenalty', label: 'Repeat penalty', hint: 'Above 1 discourages repeating recent tokens' },
  { key: 'maxTokens', label: 'Max tokens', hint: 'The longest reply, in tokens' },
];

export class ChatSettingsPanel extends LitElement {
  static override properties: PropertyDeclarations = {
    settings: { attribute: false },
    own: { type: Boolean },
    defaultPrompt: { type: String, attribute: 'default-prompt' },
  };

  settings: ChatSettings | null = null;
  own = false;
  defaultPrompt = '';

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
        padding: 0.75rem 1.25rem;
        border-bottom: 1px solid var(--wf-border);
        background: var(--wf-surface);
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
        gap: 0.5rem 0.75rem;
        margin-top: 0.5rem;
      }
      label {
        display: flex;
        flex-direction: column;
        gap: 0.2rem;
        font-size: 0.8rem;
      }
      textarea {
        width: 100%;
        min-height: 3.5rem;
        font: inherit;
      }
      .row {
        display: flex;
        gap: 0.75rem;
        align-items: end;
        flex-wrap: wrap;
      }
      .presets {
        display: flex;
        gap: 0.3rem;
        flex-wrap: wrap;
      }
      .presets button[aria-pressed='true'] {
        background: var(--wf-accent-soft);
        border-color: var(--wf-accent);
      }
    `,
  ];

  #change(settings: ChatSettings): void {
    this.dispatchEvent(new CustomEvent('settings-change', { detail: { settings } }));
  }

  /** A number typed in: in bounds, else the field shows the value it had. */
  #number(input: HTMLInputElement, key: keyof ChatSampling, nullable: boolean): void {
    const s = this.settings!;
    const raw = input.value.trim();
    if (raw === '' && nullable) return this.#change(withSampling(s, { [key]: null }));
    const n = Number(raw);
    const l = SAMPLING_LIMITS[key];
    const integer = Number.isInteger(l.step);
    if (raw === '' || !Number.isFinite(n) || n < l.min || n > l.max || (integer && !Number.isInteger(n))) {
      const was = s.sampling[key];
      input.value = was === null ? '' : String(was);
      input.setCustomValidity(`Between ${l.min} and ${l.max}${integer ? ', a whole number' : ''}`);
      input.reportValidity();
      return;
    }
    input.setCustomValidity('');
    this.#change(withSampling(s, { [key]: n }));
  }

  override render() {
    const s = this.settings;
    if (!s) return nothing;
    return html`<div class="row">
        <div class="presets" role="group" aria-label="Preset">
          ${(Object.keys(PRESETS) as (keyof typeof PRESETS)[]).map(
            (name) => html`<button aria-pressed=${s.preset === name ? 'true' : 'false'} @click=${() => this.#change(applyPreset(s, name))}>${PRESETS[name].label}</button>`,
          )}
          <button aria-pressed=${s.preset === 'custom' ? 'true' : 'false'} disabled title="Change any value to make your own">Custom</button>
        </div>
        <span class="grow"></span>
        ${this.own ? html`<button class="ghost" @click=${() => this.dispatchEvent(new CustomEvent('settings-reset'))}>Use the app's defaults</button>` : nothing}
      </div>
      <label
        >System prompt (this chat)
        <textarea
          placeholder=${this.defaultPrompt || 'The app default'}
          .value=${s.systemPrompt ?? ''}
          @change=${(e: Event) => {
            const v = (e.target as HTMLTextAreaElement).value;
            this.#change({ ...s, systemPrompt: v.trim() ? v : null });
          }}
        ></textarea>
      </label>
      <div class="grid">
        ${FIELDS.map(
          (f) => html`<label title=${f.hint}
            >${f.label}
            <input
              type="number"
              min=${SAMPLING_LIMITS[f.key].min}
              max=${SAMPLING_LIMITS[f.key].max}
              step=${SAMPLING_LIMITS[f.key].step}
              .value=${String(s.sampling[f.key])}
              @change=${(e: Event) => this.#number(e.target as HTMLInputElement, f.key, false)}
          /></label>`,
        )}
        <label title="The same seed and settings give the same reply (empty: random each time)"
          >Seed
          <input
            type="number"
            min="0"
            max=${SAMPLING_LIMITS.seed.max}
            step="1"
            placeholder="random"
            .value=${s.sampling.seed === null ? '' : String(s.sampling.seed)}
            @change=${(e: Event) => this.#number(e.target as HTMLInputElement, 'seed', true)}
        /></label>
        <label title="The most tokens of this conversation the model reads (empty: the model's whole window); beyond it the oldest messages are left out"
          >Context (tokens)
          <input
            type="number"
            min=${SAMPLING_LIMITS.contextTokens.min}
            max=${SAMPLING_LIMITS.contextTokens.max}
            step="64"
            placeholder="model's window"
            .value=${s.sampling.contextTokens === null ? '' : String(s.sampling.contextTokens)}
            @change=${(e: Event) => this.#number(e.target as HTMLInputElement, 'contextTokens', true)}
        /></label>
      </div>`;
  }
}

customElements.define('wf-chat-settings-panel', ChatSettingsPanel);
