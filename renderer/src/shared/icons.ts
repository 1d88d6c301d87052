// Small inline SVG icons (no icon font, no emoji: both depend on fonts the system may lack).
import { html, svg, type SVGTemplateResult, type TemplateResult } from 'lit';

const icon = (body: SVGTemplateResult, filled = false): TemplateResult =>
  html`<svg class="icon" viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true" focusable="false" fill=${filled ? 'currentColor' : 'none'} stroke=${filled ? 'none' : 'currentColor'} stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${body}</svg>`;

export const icons = {
  play: icon(svg`<path d="M7 4.5v15l13-7.5z" />`, true),
  pause: icon(svg`<path d="M6 4h4v16H6zM14 4h4v16h-4z" />`, true),
  previous: icon(svg`<path d="M6 5v14M19 5v14L9 12z" />`),
  next: icon(svg`<path d="M18 5v14M5 5v14l10-7z" />`),
  lockOpen: icon(svg`<rect x="5" y="11" width="14" height="10" rx="2" /><path d="M8 11V7a4 4 0 017.7-1.5" />`),
  lock: icon(svg`<rect x="5" y="11" width="14" height="10" rx="2" /><path d="M8 11V7a4 4 0 018 0v4" />`),
  tool: icon(svg`<path d="M14.7 6.3a4 4 0 00-5.4 5.4L3 18v3h3l6.3-6.3a4 4 0 005.4-5.4l-2.5 2.5-2.5-.7-.7-2.5z" />`),
  clock: icon(svg`<circle cx="12" cy="12" r="9" /><path d="M12 7v5l3 3" />`),
};
