// <wf-job-progress>: an index job's progress: a bar over the files, counts, the file being read, and why
// it ended when it did not finish. Properties: `job`.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';
import { isActive, type IndexJob } from './documents-api.js';

export function jobSummary(j: IndexJob): string {
  const extra = [j.filesSkipped ? `${j.filesSkipped} unchanged` : '', j.filesFailed ? `${j.filesFailed} failed` : '', j.filesRemoved ? `${j.filesRemoved} removed` : ''].filter(Boolean).join(', ');
  const files = j.phase === 'scan' ? 'Listing files…' : `${j.filesDone} of ${j.filesTotal} files`;
  return `${files}, ${j.chunksEmbedded} passages embedded${extra ? ` (${extra})` : ''}`;
}

const STATES: Record<IndexJob['state'], string> = { queued: 'Waiting', running: 'Indexing', stopped: 'Stopped', done: 'Indexed', failed: 'Failed' };

export class JobProgress extends LitElement {
  static override properties: PropertyDeclarations = { job: { attribute: false } };
  job: IndexJob | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      progress {
        width: 100%;
        height: 0.6rem;
      }
      .file {
        overflow-wrap: anywhere;
      }
    `,
  ];

  override render() {
    const j = this.job;
    if (!j) return html`<p class="muted small">Not indexed yet.</p>`;
    const active = isActive(j);
    return html`<div class="stack" data-testid="job-progress" data-state=${j.state}>
      ${active ? html`<progress aria-label="Indexing progress" max=${Math.max(1, j.filesTotal)} value=${j.filesDone}></progress>` : nothing}
      <p class="small" role="status"><strong>${STATES[j.state]}</strong>: ${jobSummary(j)}</p>
      ${active && j.currentFile ? html`<p class="muted small file">${j.currentFile}</p>` : nothing}
      ${j.error ? html`<p class="error-text small" role="alert">${j.error}</p>` : nothing}
    </div>`;
  }
}

customElements.define('wf-job-progress', JobProgress);
