// <wf-download-progress>: one model download. Property: `download` (the backend's DownloadSnapshot).
// Events: `cancel-download`, `resume-download`, `discard-download` (each { id }). Shows a progress bar with
// bytes, speed and ETA, then the verification state (checking, done, failed, paused); a cancelled or failed
// download that kept its partial file shows the bytes kept and offers Resume and Discard. Messages are in
// the user's words (downloadErrorText), not the backend's HTTP vocabulary.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import type { DownloadSnapshot } from '../api/types.js';
import { formatBytes, formatEta, formatSpeed } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';

export type DownloadPhase = 'downloading' | 'verifying' | 'verified' | 'error' | 'cancelled' | 'paused';

export function downloadPhase(d: DownloadSnapshot): DownloadPhase {
  // A stopped download whose bytes are kept is paused, not lost, whether the user or the network stopped it.
  // A file that failed its check was removed: that is a failure, which can only start again.
  if ((d.state === 'cancelled' || d.state === 'error') && d.resumable && d.error?.code !== 'checksum_mismatch') return 'paused';
  if (d.state !== 'downloading') return d.state;
  const { bytesDownloaded, totalBytes } = d.progress;
  return totalBytes !== null && totalBytes > 0 && bytesDownloaded >= totalBytes ? 'verifying' : 'downloading';
}

const PHASE_TEXT: Record<DownloadPhase, string> = {
  downloading: 'Downloading',
  verifying: 'Checking the file…',
  verified: 'Downloaded',
  error: 'Failed',
  cancelled: 'Cancelled',
  paused: 'Paused',
};

/** Why a download stopped, in the user's words (the backend's message says it in HTTP terms). */
export function downloadErrorText(d: DownloadSnapshot): string | null {
  const e = d.error;
  if (!e) return null;
  switch (e.code) {
    case 'aborted':
      return null; // the user's own cancel needs no explanation
    case 'download_interrupted':
      return 'The connection kept dropping. What arrived is kept: Resume continues from there.';
    case 'download_not_found':
      return 'The file is not at this address (the server says it does not exist).';
    case 'download_failed':
      return `The server would not send the file. ${e.message}`;
    case 'insufficient_disk_space':
      return 'There is not enough free disk space for this model. Free some space, then resume.';
    case 'checksum_mismatch':
      return 'The downloaded file is not the one published (its fingerprint differs), so it was removed.';
    case 'checksum_unavailable':
      return 'No fingerprint (SHA-256) is known for this file, so it could not be checked.';
    default:
      return e.message;
  }
}

export class DownloadProgress extends LitElement {
  static override properties: PropertyDeclarations = {
    download: { attribute: false },
  };

  download: DownloadSnapshot | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .top {
        display: flex;
        gap: 0.5rem;
        align-items: center;
        flex-wrap: wrap;
      }
      .name {
        font-weight: 600;
        font-family: var(--wf-mono);
        font-size: 0.9rem;
        overflow-wrap: anywhere;
      }
      .track {
        height: 10px;
        border-radius: 999px;
        background: var(--wf-surface-2);
        border: 1px solid var(--wf-border);
        overflow: hidden;
        margin: 0.5rem 0 0.35rem;
      }
      .fill {
        height: 100%;
        background: var(--wf-accent);
        transition: width 0.25s ease-out;
      }
      .fill.verified {
        background: var(--wf-success);
      }
      .fill.error,
      .fill.cancelled {
        background: var(--wf-danger);
      }
      .fill.paused {
        background: var(--wf-muted);
      }
      .fill.indeterminate {
        width: 30%;
        animation: slide 1.2s linear infinite;
      }
      @keyframes slide {
        from {
          transform: translateX(-100%);
        }
        to {
          transform: translateX(330%);
        }
      }
      .meta {
        display: flex;
        gap: 1rem;
        font-size: 0.8rem;
        color: var(--wf-muted);
        flex-wrap: wrap;
        font-variant-numeric: tabular-nums;
      }
      .sha {
        font-family: var(--wf-mono);
        font-size: 0.75rem;
        overflow-wrap: anywhere;
      }
    `,
  ];

  #fire(type: 'cancel-download' | 'resume-download' | 'discard-download'): void {
    if (this.download) this.dispatchEvent(new CustomEvent(type, { detail: { id: this.download.id } }));
  }

  // The width is set through the CSSOM: the CSP forbids style attributes (lit's styleMap writes one at first).
  protected override updated(): void {
    const fill = this.renderRoot.querySelector<HTMLElement>('.fill');
    if (!fill) return;
    const w = fill.dataset.width;
    fill.style.width = w ? `${w}%` : '';
  }

  override render() {
    const d = this.download;
    if (!d) return nothing;
    const phase = downloadPhase(d);
    const { bytesDownloaded, totalBytes, bytesPerSecond, etaSeconds } = d.progress;
    const known = totalBytes !== null && totalBytes > 0;
    const pct = phase === 'verified' ? 100 : known ? Math.min(100, (bytesDownloaded / totalBytes) * 100) : 0;
    const badge = phase === 'verified' ? 'ok' : phase === 'error' || phase === 'cancelled' ? 'err' : phase === 'verifying' || phase === 'paused' ? 'warn' : '';
    const unverified = phase === 'verified' && d.hashSource === 'none';
    const why = downloadErrorText(d);
    return html`
      <div class="top">
        <span class="name">${d.fileName}</span>
        <span class="badge ${badge}" data-testid="download-state" data-phase=${phase}>${PHASE_TEXT[phase]}</span>
        ${d.resumed ? html`<span class="badge">resumed</span>` : nothing}
        ${d.retries && phase === 'downloading' ? html`<span class="badge warn" title="Reconnected after the connection dropped">reconnected ×${d.retries}</span>` : nothing}
        <span class="grow"></span>
        ${d.state === 'downloading'
          ? html`<button class="small" @click=${() => this.#fire('cancel-download')} aria-label="Cancel download of ${d.fileName}">Cancel</button>`
          : nothing}
        ${phase === 'paused'
          ? html`<button class="small primary" data-testid="download-resume" @click=${() => this.#fire('resume-download')} aria-label="Resume download of ${d.fileName}">Resume</button>
              <button class="small" @click=${() => this.#fire('discard-download')} aria-label="Discard the partial download of ${d.fileName}">Discard</button>`
          : phase === 'error' && d.resumable
            ? html`<button class="small" @click=${() => this.#fire('resume-download')} aria-label="Download ${d.fileName} again">Try again</button>`
            : nothing}
      </div>
      <div
        class="track"
        role="progressbar"
        aria-label="Download of ${d.fileName}"
        aria-valuemin="0"
        aria-valuemax="100"
        aria-valuenow=${known || phase === 'verified' ? Math.round(pct) : nothing}
        aria-valuetext=${PHASE_TEXT[phase] + (known ? `, ${Math.round(pct)}%` : '')}
        data-testid="download-bar"
      >
        <div class="fill ${phase} ${!known && phase === 'downloading' ? 'indeterminate' : ''}" data-width=${known || phase === 'verified' ? pct : ''}></div>
      </div>
      <div class="meta">
        <span data-testid="download-bytes"
          >${formatBytes(bytesDownloaded)} of ${known ? formatBytes(totalBytes) : 'unknown size'}${phase === 'paused' ? ' kept' : ''}</span
        >
        ${phase === 'downloading'
          ? html`<span data-testid="download-speed">${formatSpeed(bytesPerSecond)}</span><span data-testid="download-eta">ETA ${formatEta(etaSeconds)}</span>`
          : nothing}
        ${known && phase !== 'verified' ? html`<span>${Math.round(pct)}%</span>` : nothing}
      </div>
      ${phase === 'verified' && d.sha256 && !unverified
        ? html`<div class="sha muted" title="SHA-256">Checked against its published fingerprint (SHA-256 ${d.sha256})</div>`
        : nothing}
      ${unverified
        ? html`<p class="small muted" data-testid="download-unverified">
            Not verified: no fingerprint (SHA-256) is published for this file, so it could not be checked against one.
          </p>`
        : nothing}
      ${why && phase !== 'cancelled' ? html`<p class="error-text small" role="alert">${why}</p>` : nothing}
    `;
  }
}

customElements.define('wf-download-progress', DownloadProgress);
