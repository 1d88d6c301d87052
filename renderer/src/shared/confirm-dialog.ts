// askConfirm({ title, message, confirmLabel, danger }): a modal <dialog> (focus trapped by the browser,
// Escape cancels) that resolves true when the user confirms. One at a time.
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { baseStyles } from './styles.js';

export interface ConfirmOptions {
  title: string;
  message: string;
  confirmLabel?: string;
  cancelLabel?: string;
  danger?: boolean;
}

export class ConfirmDialog extends LitElement {
  static override properties: PropertyDeclarations = { options: { attribute: false } };
  options: ConfirmOptions = { title: '', message: '' };
  #resolve: ((ok: boolean) => void) | null = null;

  static override styles = [
    baseStyles,
    css`
      dialog {
        border: 1px solid var(--wf-border);
        border-radius: 12px;
        background: var(--wf-surface);
        color: var(--wf-text);
        padding: 1.25rem;
        max-width: min(440px, calc(100vw - 2rem));
        box-shadow: 0 10px 40px rgb(0 0 0 / 0.25);
      }
      dialog::backdrop {
        background: rgb(0 0 0 / 0.35);
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        justify-content: flex-end;
        margin-top: 1rem;
      }
    `,
  ];

  open(options: ConfirmOptions): Promise<boolean> {
    this.options = options;
    return new Promise((resolve) => {
      this.#resolve = resolve;
      void this.updateComplete.then(() => {
        const d = this.renderRoot.querySelector('dialog')!;
        d.showModal();
        this.renderRoot.querySelector<HTMLButtonElement>('button.confirm')?.focus();
      });
    });
  }

  #close(ok: boolean): void {
    this.renderRoot.querySelector('dialog')?.close();
    this.#resolve?.(ok);
    this.#resolve = null;
    this.remove();
  }

  override render() {
    const o = this.options;
    return html`<dialog aria-labelledby="t" aria-describedby="m" @cancel=${(e: Event) => (e.preventDefault(), this.#close(false))}>
      <h2 id="t">${o.title}</h2>
      <p id="m">${o.message}</p>
      <div class="actions">
        <button @click=${() => this.#close(false)}>${o.cancelLabel ?? 'Cancel'}</button>
        <button class="confirm ${o.danger ? 'danger' : 'primary'}" @click=${() => this.#close(true)}>${o.confirmLabel ?? 'OK'}</button>
      </div>
    </dialog>`;
  }
}

customElements.define('wf-confirm-dialog', ConfirmDialog);

export function askConfirm(options: ConfirmOptions): Promise<boolean> {
  let previous = document.activeElement as HTMLElement | null;
  while (previous?.shadowRoot?.activeElement) previous = previous.shadowRoot.activeElement as HTMLElement;
  const el = document.createElement('wf-confirm-dialog');
  document.body.append(el);
  return el.open(options).finally(() => previous?.focus?.());
}

declare global {
  interface HTMLElementTagNameMap {
    'wf-confirm-dialog': ConfirmDialog;
  }
}
