// Styles shared by every component (the theme's custom properties come from assets/app.css and inherit
// into shadow roots): controls, cards, a visually-hidden helper and a visible focus ring.
import { css } from 'lit';

export const baseStyles = css`
  :host {
    box-sizing: border-box;
    color: var(--wf-text);
    font-family: var(--wf-font);
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  [hidden] {
    display: none !important;
  }
  svg.icon {
    width: 1.05em;
    height: 1.05em;
    vertical-align: -0.15em;
    flex: none;
  }
  h1,
  h2,
  h3 {
    margin: 0 0 0.5rem;
    line-height: 1.2;
  }
  h1 {
    font-size: 1.35rem;
  }
  h2 {
    font-size: 1.1rem;
  }
  h3 {
    font-size: 1rem;
  }
  h1:focus {
    outline: none;
  }
  p {
    margin: 0 0 0.5rem;
  }
  .muted {
    color: var(--wf-muted);
  }
  .small {
    font-size: 0.85rem;
  }
  .mono {
    font-family: var(--wf-mono);
  }
  .visually-hidden {
    position: absolute !important;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
  }
  button,
  input,
  select,
  textarea {
    font: inherit;
    color: inherit;
  }
  button {
    display: inline-flex;
    align-items: center;
    gap: 0.35rem;
    border: 1px solid var(--wf-border);
    background: var(--wf-surface);
    border-radius: var(--wf-radius);
    padding: 0.4rem 0.8rem;
    cursor: pointer;
    line-height: 1.2;
  }
  button:hover:not(:disabled) {
    background: var(--wf-surface-2);
  }
  button.primary {
    background: var(--wf-accent);
    border-color: var(--wf-accent);
    color: var(--wf-accent-text);
  }
  button.primary:hover:not(:disabled) {
    filter: brightness(1.08);
    background: var(--wf-accent);
  }
  button.danger {
    color: var(--wf-danger);
    border-color: var(--wf-danger);
  }
  button.ghost {
    border-color: transparent;
    background: transparent;
  }
  button:disabled {
    opacity: 0.55;
    cursor: default;
  }
  :focus-visible {
    outline: 2px solid var(--wf-focus);
    outline-offset: 2px;
  }
  input,
  select,
  textarea {
    border: 1px solid var(--wf-border);
    border-radius: var(--wf-radius);
    background: var(--wf-surface);
    padding: 0.4rem 0.55rem;
    min-width: 0;
  }
  input[type='checkbox'] {
    width: auto;
  }
  label {
    display: flex;
    flex-direction: column;
    gap: 0.2rem;
    font-size: 0.85rem;
    color: var(--wf-muted);
  }
  label.inline {
    flex-direction: row;
    align-items: center;
    gap: 0.4rem;
  }
  .card {
    background: var(--wf-surface);
    border: 1px solid var(--wf-border);
    border-radius: var(--wf-radius);
    box-shadow: var(--wf-shadow);
    padding: 1rem;
  }
  .row {
    display: flex;
    gap: 0.5rem;
    align-items: center;
    flex-wrap: wrap;
  }
  .grow {
    flex: 1 1 auto;
  }
  .stack {
    display: flex;
    flex-direction: column;
    gap: 0.75rem;
  }
  .view {
    padding: 1.25rem 1.5rem 2rem;
    max-width: 1100px;
  }
  .grid {
    display: grid;
    gap: 1rem;
    grid-template-columns: repeat(auto-fit, minmax(280px, 1fr));
  }
  .badge {
    display: inline-block;
    font-size: 0.75rem;
    padding: 0.1rem 0.45rem;
    border-radius: 999px;
    background: var(--wf-surface-2);
    color: var(--wf-muted);
    border: 1px solid var(--wf-border);
  }
  .badge.ok {
    color: var(--wf-success);
    border-color: currentColor;
  }
  .badge.warn {
    color: var(--wf-warning);
    border-color: currentColor;
  }
  .badge.err {
    color: var(--wf-danger);
    border-color: currentColor;
  }
  .error-text {
    color: var(--wf-danger);
  }
  table {
    border-collapse: collapse;
    width: 100%;
  }
  /* A table's scrolling box is also the containing block of what is positioned in it (visually hidden
     labels): otherwise those stay where the wide table put them and widen the page in narrow windows. */
  .table-wrap {
    position: relative;
  }
  th,
  td {
    text-align: left;
    padding: 0.35rem 0.5rem;
    border-bottom: 1px solid var(--wf-border);
    font-size: 0.9rem;
  }
  th {
    color: var(--wf-muted);
    font-weight: 600;
  }
  td.num,
  th.num {
    text-align: right;
    font-variant-numeric: tabular-nums;
  }
  .unavailable {
    padding: 2rem;
    text-align: center;
    color: var(--wf-muted);
  }
`;
