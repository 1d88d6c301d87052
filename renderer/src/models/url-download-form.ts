// <wf-url-download-form>: download a GGUF file from any web address. Property: `busy`. Event:
// `download-url` ({ url, fileName?, sha256? }); the form clears itself once sent. The SHA-256 is optional:
// empty means the hash the hub publishes, and a file nobody publishes one for is downloaded unverified.
import { LitElement, css, html, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';

export interface DownloadUrlDetail {
  url: string;
  fileName?: string;
  sha256?: string;
}

export class UrlDownloadForm extends LitElement {
  static override properties: PropertyDeclarations = {
    busy: { type: Boolean },
  };

  busy = false;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      form {
        display: grid;
        gap: 0.5rem;
        grid-template-columns: 2fr 1fr 1.5fr auto;
        align-items: end;
      }
      @media (max-width: 900px) {
        form {
          grid-template-columns: 1fr;
        }
      }
    `,
  ];

  #submit(e: Event): void {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const data = new FormData(form);
    const url = String(data.get('url') ?? '').trim();
    const fileName = String(data.get('fileName') ?? '').trim();
    const sha256 = String(data.get('sha256') ?? '').trim();
    if (!url) return;
    const detail: DownloadUrlDetail = { url, ...(fileName ? { fileName } : {}), ...(sha256 ? { sha256 } : {}) };
    this.dispatchEvent(new CustomEvent('download-url', { detail }));
    form.reset();
  }

  override render() {
    return html`<p class="small muted">
        Any GGUF file on the web. The fingerprint (SHA-256) is optional: left empty, the one the model hub publishes is checked; a file
        without a published fingerprint is downloaded without that check.
      </p>
      <form class="url" @submit=${this.#submit}>
        <label>Web address (URL) <input name="url" type="url" required placeholder="https://…/model.gguf" /></label>
        <label>Save as (optional) <input name="fileName" placeholder="model.gguf" pattern="[A-Za-z0-9._\\-]+\\.gguf" /></label>
        <label>SHA-256 (optional) <input name="sha256" placeholder="64 hex digits" pattern="[0-9a-fA-F]{64}" /></label>
        <button class="primary" type="submit" ?disabled=${this.busy}>Download</button>
      </form>`;
  }
}

customElements.define('wf-url-download-form', UrlDownloadForm);
