// A small SVG writer (elements as plain objects, rendered with escaping) and the sweep chart: two bar
// panels sharing one x axis, generation tokens/s above and prompt tokens/s below, one bar per
// configuration with min-max whiskers over the repetitions, the recommended and default configurations marked.
import type { ConfigResult, SweepReport } from './types.js';

export type SvgAttrs = Record<string, string | number | undefined | null>;
export interface SvgElement {
  tag: string;
  attrs: SvgAttrs;
  children: (SvgElement | string)[];
}

export function h(tag: string, attrs: SvgAttrs = {}, ...children: (SvgElement | string | null | undefined | false)[]): SvgElement {
  return { tag, attrs, children: children.filter((c): c is SvgElement | string => typeof c === 'string' || (typeof c === 'object' && c !== null)) };
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function fmtAttr(v: string | number): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
  return escapeXml(v);
}

export function renderSvg(el: SvgElement, indent = 0): string {
  const pad = '  '.repeat(indent);
  const attrs = Object.entries(el.attrs)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => ` ${k}="${fmtAttr(v as string | number)}"`)
    .join('');
  if (el.children.length === 0) return `${pad}<${el.tag}${attrs}/>`;
  if (el.children.every((c) => typeof c === 'string')) return `${pad}<${el.tag}${attrs}>${el.children.map((c) => escapeXml(c as string)).join('')}</${el.tag}>`;
  const inner = el.children.map((c) => (typeof c === 'string' ? `${'  '.repeat(indent + 1)}${escapeXml(c)}` : renderSvg(c, indent + 1))).join('\n');
  return `${pad}<${el.tag}${attrs}>\n${inner}\n${pad}</${el.tag}>`;
}

export function svgDocument(root: SvgElement): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${renderSvg(root)}\n`;
}

/** A "nice" axis maximum and step (1, 2, 2.5 or 5 × 10^k) for values up to `max`. */
export function niceScale(max: number, ticks = 5): { max: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { max: 1, step: 0.2 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { max: Math.ceil(max / step - 1e-9) * step, step };
}

function fmtTick(v: number): string {
  return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(v % 1000 === 0 ? 0 : 1)}k` : String(Number(v.toFixed(2)));
}

export interface ChartOptions {
  title?: string;
  subtitle?: string;
  recommendedId?: string | null;
}

const COLORS = { tg: '#2b6cb0', pp: '#dd6b20', axis: '#333333', grid: '#e2e2e2', text: '#222222', muted: '#666666', best: '#2f855a', fail: '#c53030' };

export function sweepChartSvg(report: Pick<SweepReport, 'results' | 'model' | 'machine' | 'settings'>, opts: ChartOptions = {}): string {
  const results = report.results;
  const n = Math.max(1, results.length);
  const slot = 46;
  const left = 78;
  const right = 24;
  const plotW = Math.max(slot * n, 780);
  const width = left + plotW + right;
  const top = 74;
  const panelH = 190;
  const gap = 46;
  const labelH = 150;
  const legendH = 34;
  const height = top + panelH * 2 + gap + labelH + legendH;
  const slotW = plotW / n;
  const barW = Math.min(28, slotW * 0.6);
  const font = { 'font-family': 'Helvetica, Arial, sans-serif' };

  const panel = (y0: number, metric: 'tg' | 'pp', title: string): SvgElement => {
    const value = (r: ConfigResult) => (metric === 'tg' ? r.tgTokensPerSecond : r.ppTokensPerSecond);
    const summary = (r: ConfigResult) => (metric === 'tg' ? r.tg : r.pp);
    const maxV = Math.max(1e-9, ...results.map((r) => (r.ok ? Math.max(value(r), summary(r).max || 0) : 0)));
    const scale = niceScale(maxV);
    const y = (v: number) => y0 + panelH - (v / scale.max) * panelH;
    const g = h('g', { class: `panel panel-${metric}` });
    for (let v = 0; v <= scale.max + 1e-9; v += scale.step) {
      g.children.push(
        h('line', { x1: left, x2: left + plotW, y1: y(v), y2: y(v), stroke: v === 0 ? COLORS.axis : COLORS.grid, 'stroke-width': 1 }),
        h('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: COLORS.muted, ...font }, fmtTick(v)),
      );
    }
    g.children.push(
      h('line', { x1: left, x2: left, y1: y0, y2: y0 + panelH, stroke: COLORS.axis, 'stroke-width': 1 }),
      h(
        'text',
        { x: 18, y: y0 + panelH / 2, transform: `rotate(-90 18 ${y0 + panelH / 2})`, 'text-anchor': 'middle', 'font-size': 12, fill: COLORS.text, ...font },
        'tokens/s',
      ),
      h('text', { x: left + 4, y: y0 - 8, 'font-size': 13, 'font-weight': 'bold', fill: COLORS[metric], ...font }, title),
    );
    results.forEach((r, i) => {
      const cx = left + slotW * (i + 0.5);
      const isBest = r.id === opts.recommendedId;
      if (!r.ok) {
        g.children.push(h('text', { x: cx, y: y0 + panelH - 6, 'text-anchor': 'middle', 'font-size': 14, 'font-weight': 'bold', fill: COLORS.fail, ...font }, '×'));
        return;
      }
      const v = value(r);
      const s = summary(r);
      g.children.push(
        h(
          'rect',
          {
            class: `bar bar-${metric}`,
            x: cx - barW / 2,
            y: y(v),
            width: barW,
            height: Math.max(0, y0 + panelH - y(v)),
            fill: COLORS[metric],
            'fill-opacity': r.isDefault ? 0.45 : 0.9,
            stroke: isBest ? COLORS.best : r.isDefault ? COLORS.axis : 'none',
            'stroke-width': isBest ? 3 : 1,
            'stroke-dasharray': r.isDefault && !isBest ? '3 2' : undefined,
          },
          h('title', {}, `${r.label}: ${v.toFixed(1)} tokens/s (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)}, n=${s.n})`),
        ),
      );
      if (s.n > 1 && Number.isFinite(s.min) && Number.isFinite(s.max)) {
        g.children.push(
          h('line', { class: 'whisker', x1: cx, x2: cx, y1: y(s.min), y2: y(s.max), stroke: COLORS.axis, 'stroke-width': 1 }),
          h('line', { x1: cx - 4, x2: cx + 4, y1: y(s.min), y2: y(s.min), stroke: COLORS.axis, 'stroke-width': 1 }),
          h('line', { x1: cx - 4, x2: cx + 4, y1: y(s.max), y2: y(s.max), stroke: COLORS.axis, 'stroke-width': 1 }),
        );
      }
      g.children.push(
        h('text', { x: cx, y: Math.min(y(v), y(s.max || v)) - 4, 'text-anchor': 'middle', 'font-size': 9, fill: COLORS.text, ...font }, v >= 100 ? v.toFixed(0) : v.toFixed(1)),
      );
    });
    return g;
  };

  const y1 = top;
  const y2 = top + panelH + gap;
  const xAxisY = y2 + panelH;
  const labels = h('g', { class: 'x-labels' });
  results.forEach((r, i) => {
    const cx = left + slotW * (i + 0.5);
    const isBest = r.id === opts.recommendedId;
    const color = isBest ? COLORS.best : r.ok ? COLORS.text : COLORS.fail;
    const text = `${isBest ? '★ ' : ''}${r.label}${r.ok ? '' : ' (failed)'}`;
    labels.children.push(
      h('line', { x1: cx, x2: cx, y1: xAxisY, y2: xAxisY + 4, stroke: COLORS.axis }),
      h(
        'text',
        { x: cx, y: xAxisY + 12, transform: `rotate(-40 ${cx} ${xAxisY + 12})`, 'text-anchor': 'end', 'font-size': 10, fill: color, 'font-weight': isBest ? 'bold' : undefined, ...font },
        text,
      ),
    );
  });
  labels.children.push(
    h(
      'text',
      { x: left + plotW / 2, y: xAxisY + labelH - 8, 'text-anchor': 'middle', 'font-size': 12, fill: COLORS.text, ...font },
      'configuration (threads, batch/micro-batch, flash attention)',
    ),
  );

  const ly = height - legendH + 14;
  const legend = h(
    'g',
    { class: 'legend', 'font-size': 11, ...font },
    h('rect', { x: left, y: ly - 9, width: 12, height: 10, fill: COLORS.tg }),
    h('text', { x: left + 16, y: ly, fill: COLORS.text }, 'generation (tg)'),
    h('rect', { x: left + 120, y: ly - 9, width: 12, height: 10, fill: COLORS.pp }),
    h('text', { x: left + 136, y: ly, fill: COLORS.text }, 'prompt processing (pp)'),
    h('rect', { x: left + 290, y: ly - 9, width: 12, height: 10, fill: 'none', stroke: COLORS.best, 'stroke-width': 3 }),
    h('text', { x: left + 306, y: ly, fill: COLORS.text }, '★ recommended'),
    h('rect', { x: left + 410, y: ly - 9, width: 12, height: 10, fill: COLORS.tg, 'fill-opacity': 0.45, stroke: COLORS.axis, 'stroke-dasharray': '3 2' }),
    h('text', { x: left + 426, y: ly, fill: COLORS.text }, `engine defaults; whiskers: min–max of ${report.settings.repetitions} rounds`),
  );

  const title = opts.title ?? `Tuning sweep: ${report.model.name ?? report.model.key}`;
  const subtitle =
    opts.subtitle ??
    `${report.machine.cpu} (${report.machine.logicalCores} logical cores), ${report.machine.backend}; ` +
      `pp${report.settings.promptTokens}, tg${report.settings.genTokens} with sampling; medians of ${report.settings.repetitions}`;
  const root = h(
    'svg',
    { xmlns: 'http://www.w3.org/2000/svg', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title },
    h('title', {}, title),
    h('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    h('text', { x: left, y: 24, 'font-size': 16, 'font-weight': 'bold', fill: COLORS.text, ...font }, title),
    h('text', { x: left, y: 42, 'font-size': 11, fill: COLORS.muted, ...font }, subtitle),
    panel(y1, 'tg', 'Generation speed (tokens/s, higher is better)'),
    panel(y2, 'pp', 'Prompt processing speed (tokens/s, higher is better)'),
    labels,
    legend,
  );
  return svgDocument(root);
}
