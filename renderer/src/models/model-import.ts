// <wf-model-import>: adds a GGUF file the user already has, dropped on the area (or anywhere on the Models
// screen, which calls import()) or picked with the file chooser. The file is sent as a stream (XMLHttpRequest, for the upload's progress) to
// POST /api/models/import, which checks it before keeping it. Property: `installed` (the installed file
// names: a name already taken is replaced only after the user agrees), `highlight`. Event: `model-imported`
// ({ fileName }). A refused file shows the backend's reason here.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { askConfirm } from '../shared/confirm-dialog.js';
import { formatBytes } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import { api } from '../store.js';

/** The models folder's rule for names: letters, digits, dot, dash, underscore, ending in .gguf, no leading dot. */
export function modelFileNameFor(name: string): string {
  const base = name.replace(/\.gguf$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 195);
  return `${base || 'model'}.gguf`;
}

interface UploadResult {
  status: number;
  body: { model?: { fileName: string }; error?: { code?: string; message?: string } } | null;
}

function send(file: File, fileName: string, overwrite: boolean, onProgress: (sent: number) => void): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', api().url('/api/models/import', { fileName, ...(overwrite ? { overwrite: 'true' } : {}) }));
    if (api().authorization) xhr.setRequestHeader('authorization', api().authorization);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      let body: UploadResult['body'] = null;
      try {
        body = JSON.parse(xhr.responseText) as UploadResult['body'];
      } catch {
        body = null;
      }
      resolve({ status: xhr.status, body });
    };
    xhr.onerror = () => reject(new Error('The assistant service cannot be reached. Is it running?'));
    xhr.send(file);
  });
}

export class ModelImport extends LitElement {
  static override properties: PropertyDeclarations = {
    installed: { attribute: false },
    highlight: { type: Boolean },
    _over: { state: true },
    _file: { state: true },
    _sent: { state: true },
    _error: { state: true },
  };

  installed: ReadonlySet<string> = new Set();
  /** A file is dragged over the screen around this area. */
  highlight = false;
  _over = false;
  _file: File | null = null;
  _sent = 0;
  _error: string | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .drop {
        border: 2px dashed var(--wf-border);
        border-radius: 10px;
        padding: 1.25rem;
        text-align: center;
        display: flex;
        flex-direction: column;
        gap: 0.5rem;
        align-items: center;
      }
      .drop.over {
        border-color: var(--wf-accent);
        background: var(--wf-surface-2);
      }
      progress {
        width: min(100%, 24rem);
      }
    `,
  ];

  #drop(e: DragEvent): void {
    e.preventDefault();
    this._over = false;
    const file = e.dataTransfer?.files[0];
    if (file) void this.import(file);
  }

  #picked(e: Event): void {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (file) void this.import(file);
  }

  async import(file: File): Promise<void> {
    if (this._file) return;
    this._error = null;
    if (!/\.gguf$/i.test(file.name)) {
      this._error = `${file.name} is not a model file: models end in .gguf.`;
      return;
    }
    const fileName = modelFileNameFor(file.name);
    let overwrite = false;
    if (this.installed.has(fileName)) {
      overwrite = await askConfirm({
        title: 'Replace model',
        message: `A model named ${fileName} is already installed. Replace it with ${file.name} (${formatBytes(file.size)})?`,
        confirmLabel: 'Replace',
        danger: true,
      });
      if (!overwrite) return;
    }
    this._file = file;
    this._sent = 0;
    try {
      const r = await send(file, fileName, overwrite, (sent) => (this._sent = sent));
      if (r.status === 201 && r.body?.model) {
        this.dispatchEvent(new CustomEvent('model-imported', { detail: { fileName: r.body.model.fileName } }));
      } else {
        this._error = r.body?.error?.message ?? `The file could not be added (HTTP ${r.status}).`;
      }
    } catch (err) {
      this._error = (err as Error).message;
    } finally {
      this._file = null;
    }
  }

  override render() {
    const f = this._file;
    return html`<div
      class="drop ${this._over || this.highlight ? 'over' : ''}"
      data-testid="model-drop"
      @dragover=${(e: DragEvent) => {
        e.preventDefault();
        this._over = true;
      }}
      @dragleave=${() => (this._over = false)}
      @drop=${this.#drop}
    >
      ${f
        ? html`<span role="status">Checking and adding ${f.name}… ${formatBytes(this._sent)} of ${formatBytes(f.size)}</span>
            <progress max=${f.size} .value=${this._sent} aria-label="Adding ${f.name}"></progress>`
        : html`<span>Drop a .gguf model file here, or</span>
            <label class="button-like">
              <input type="file" accept=".gguf" data-testid="model-file" @change=${this.#picked} aria-label="Choose a model file" />
            </label>
            <span class="small muted">The file is checked before it is kept; nothing is kept if it is not a usable model.</span>`}
      ${this._error ? html`<p class="error-text" role="alert" data-testid="import-error">${this._error}</p>` : nothing}
    </div>`;
  }
}

customElements.define('wf-model-import', ModelImport);
