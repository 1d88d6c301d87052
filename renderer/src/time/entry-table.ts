// <wf-entry-table>: recent time entries; each can be edited in place (<wf-entry-editor>) or deleted.
// Properties: `entries`, `projects`, `editing` (the id being edited, or null). Events: `entry-edit`
// ({ id | null }), `entry-save` (from the editor), `entry-delete` ({ entry }): the view deletes with undo.
import { LitElement, css, html, nothing, type PropertyDeclarations } from 'lit';
import { formatClock, formatDateTime } from '../shared/format.js';
import { baseStyles } from '../shared/styles.js';
import './entry-editor.js';
import type { Project, TimeEntry } from '../../../src/tools/time/types.js';

export class EntryTable extends LitElement {
  static override properties: PropertyDeclarations = {
    entries: { attribute: false },
    projects: { attribute: false },
    editing: { attribute: false },
  };

  entries: TimeEntry[] = [];
  projects: Project[] = [];
  editing: number | null = null;

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      .table-wrap {
        overflow-x: auto;
      }
      td.actions {
        white-space: nowrap;
        text-align: right;
      }
    `,
  ];

  #emit(name: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  override render() {
    if (this.entries.length === 0) return html`<p class="muted">No time tracked yet.</p>`;
    return html`<div class="table-wrap">
      <table data-testid="time-entries">
        <thead>
          <tr>
            <th>Project</th>
            <th>Description</th>
            <th>Started</th>
            <th class="num">Duration</th>
            <th><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          ${this.entries.map((e) =>
            e.id === this.editing
              ? html`<tr data-entry=${e.id}>
                  <td colspan="5">
                    <wf-entry-editor
                      .entry=${e}
                      .projects=${this.projects}
                      @entry-save=${(ev: CustomEvent) => this.#emit('entry-save', ev.detail)}
                      @entry-cancel=${() => this.#emit('entry-edit', { id: null })}
                    ></wf-entry-editor>
                  </td>
                </tr>`
              : html`<tr data-entry=${e.id}>
                  <td>${e.project}</td>
                  <td>${e.description || html`<span class="muted">—</span>`} ${e.source === 'timer' ? html`<span class="badge">timer</span>` : nothing}</td>
                  <td>${formatDateTime(e.startAt)}</td>
                  <td class="num">${formatClock(e.durationMs)}</td>
                  <td class="actions">
                    <button class="ghost small" aria-label="Edit entry ${e.description || e.project}" @click=${() => this.#emit('entry-edit', { id: e.id })}>Edit</button>
                    <button class="ghost small" aria-label="Delete entry ${e.description || e.project}" @click=${() => this.#emit('entry-delete', { entry: e })}>✕</button>
                  </td>
                </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }
}

customElements.define('wf-entry-table', EntryTable);

declare global {
  interface HTMLElementTagNameMap {
    'wf-entry-table': EntryTable;
  }
}
