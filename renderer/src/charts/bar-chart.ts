// <wf-bar-chart>: a small SVG bar chart drawn by hand. Properties: `data` ([{ label, value }]), `label`
// (its accessible name and caption), `orientation` ('horizontal' bars for categories, 'vertical' columns for
// months and weeks), `format` (value → text). The numbers are also in a visually hidden table for screen
// readers. Colors come from the theme (--wf-chart-N).
import { LitElement, css, html, svg, nothing, type PropertyDeclarations } from 'lit';
import { baseStyles } from '../shared/styles.js';

export interface ChartDatum {
  label: string;
  value: number;
}

const COLORS = 6;

export class BarChart extends LitElement {
  static override properties: PropertyDeclarations = {
    data: { attribute: false },
    label: { type: String },
    orientation: { type: String },
    format: { attribute: false },
    emptyText: { type: String, attribute: 'empty-text' },
  };

  data: ChartDatum[] = [];
  label = '';
  orientation: 'horizontal' | 'vertical' = 'vertical';
  format: (n: number) => string = (n) => String(Math.round(n * 100) / 100);
  emptyText = 'No data yet';

  static override styles = [
    baseStyles,
    css`
      :host {
        display: block;
      }
      figure {
        margin: 0;
      }
      figcaption {
        font-weight: 600;
        margin-bottom: 0.4rem;
      }
      svg {
        width: 100%;
        height: auto;
        display: block;
        overflow: visible;
      }
      .axis {
        stroke: var(--wf-border);
        stroke-width: 1;
      }
      .grid {
        stroke: var(--wf-border);
        stroke-width: 1;
        stroke-dasharray: 2 3;
      }
      text {
        fill: var(--wf-muted);
        font-size: 11px;
        font-family: var(--wf-font);
      }
      text.value {
        fill: var(--wf-text);
        font-weight: 600;
      }
      rect.bar {
        transition: width 0.3s, height 0.3s, y 0.3s;
      }
      .c0 {
        fill: var(--wf-chart-1);
      }
      .c1 {
        fill: var(--wf-chart-2);
      }
      .c2 {
        fill: var(--wf-chart-3);
      }
      .c3 {
        fill: var(--wf-chart-4);
      }
      .c4 {
        fill: var(--wf-chart-5);
      }
      .c5 {
        fill: var(--wf-chart-6);
      }
      .empty {
        color: var(--wf-muted);
        font-size: 0.9rem;
        padding: 1.5rem 0;
        text-align: center;
      }
    `,
  ];

  #summary(): string {
    if (this.data.length === 0) return `${this.label}: ${this.emptyText}`;
    return `${this.label}: ${this.data.map((d) => `${d.label} ${this.format(d.value)}`).join(', ')}`;
  }

  override render() {
    const data = this.data ?? [];
    return html`<figure>
      ${this.label ? html`<figcaption>${this.label}</figcaption>` : nothing}
      ${data.length === 0
        ? html`<div class="empty" role="img" aria-label=${this.#summary()}>${this.emptyText}</div>`
        : this.orientation === 'horizontal'
          ? this.#horizontal(data)
          : this.#vertical(data)}
      <table class="visually-hidden">
        <caption>${this.label}</caption>
        <tbody>
          ${data.map((d) => html`<tr><th scope="row">${d.label}</th><td>${this.format(d.value)}</td></tr>`)}
        </tbody>
      </table>
    </figure>`;
  }

  #vertical(data: ChartDatum[]) {
    const W = 480;
    const H = 200;
    const top = 18;
    const bottom = 28;
    const left = 8;
    const plotH = H - top - bottom;
    const max = Math.max(...data.map((d) => d.value), 0) || 1;
    const slot = (W - left * 2) / data.length;
    const barW = Math.max(4, Math.min(48, slot * 0.62));
    const labelEvery = Math.ceil(data.length / 12);
    return html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${this.#summary()} part="svg">
      <line class="grid" x1=${left} x2=${W - left} y1=${top} y2=${top}></line>
      <line class="grid" x1=${left} x2=${W - left} y1=${top + plotH / 2} y2=${top + plotH / 2}></line>
      <line class="axis" x1=${left} x2=${W - left} y1=${top + plotH} y2=${top + plotH}></line>
      ${data.map((d, i) => {
        const h = Math.max(0, (Math.max(0, d.value) / max) * plotH);
        const x = left + slot * i + (slot - barW) / 2;
        const y = top + plotH - h;
        return svg`<g>
          <rect class="bar c0" x=${x} y=${y} width=${barW} height=${h} rx="3" data-label=${d.label} data-value=${d.value}>
            <title>${d.label}: ${this.format(d.value)}</title>
          </rect>
          ${d.value > 0 && data.length <= 16 ? svg`<text class="value" x=${x + barW / 2} y=${y - 4} text-anchor="middle">${this.format(d.value)}</text>` : nothing}
          ${i % labelEvery === 0 ? svg`<text x=${x + barW / 2} y=${H - 10} text-anchor="middle">${d.label}</text>` : nothing}
        </g>`;
      })}
    </svg>`;
  }

  #horizontal(data: ChartDatum[]) {
    const W = 480;
    const rowH = 26;
    const labelW = 130;
    const valueW = 90;
    const H = data.length * rowH + 4;
    const max = Math.max(...data.map((d) => d.value), 0) || 1;
    const plotW = W - labelW - valueW;
    return html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-label=${this.#summary()} part="svg">
      ${data.map((d, i) => {
        const w = Math.max(0, (Math.max(0, d.value) / max) * plotW);
        const y = i * rowH + 4;
        const name = d.label.length > 20 ? `${d.label.slice(0, 19)}…` : d.label;
        return svg`<g>
          <text x=${labelW - 8} y=${y + rowH / 2} text-anchor="end" dominant-baseline="middle">${name}</text>
          <rect class="bar c${i % COLORS}" x=${labelW} y=${y + 3} width=${w} height=${rowH - 8} rx="3" data-label=${d.label} data-value=${d.value}>
            <title>${d.label}: ${this.format(d.value)}</title>
          </rect>
          <text class="value" x=${labelW + w + 6} y=${y + rowH / 2} dominant-baseline="middle">${this.format(d.value)}</text>
        </g>`;
      })}
    </svg>`;
  }
}

customElements.define('wf-bar-chart', BarChart);

declare global {
  interface HTMLElementTagNameMap {
    'wf-bar-chart': BarChart;
  }
}
