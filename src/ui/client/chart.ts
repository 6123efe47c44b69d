import { h, s } from './dom.js';
import { clockTime, dateTime } from './format.js';

/**
 * Small line charts drawn as SVG by hand (a few kilobytes instead of a charting library). Each is
 * drawn at the width its slot actually has, so text stays legible from a phone to a wide screen;
 * a chart's figure carries a text summary for screen readers.
 */

export interface ChartLine {
  label: string;
  values: Array<number | null>;
  /** CSS class: colour and dash come from the stylesheet (the CSP allows no inline styles). */
  cls: string;
  /** Hold each value until the next (a percentage that changes in steps). */
  step?: boolean;
}

export interface ChartSpec {
  title: string;
  times: number[];
  xFrom: number;
  xTo: number;
  lines: ChartLine[];
  format(value: number): string;
  /** The picture's accessible name: what a screen reader says instead of drawing it. */
  summary: string;
  yMax?: number;
}

const HEIGHT = 190;
const M = { top: 12, right: 14, bottom: 26, left: 62 };
const specs = new WeakMap<Element, ChartSpec>();

/** A placeholder figure; drawCharts fills it once it is in the page and has a width. */
export function chart(spec: ChartSpec): HTMLElement {
  const slot = h('div', { class: 'chart-canvas' });
  specs.set(slot, spec);
  return h(
    'figure',
    { class: 'chart' },
    h('figcaption', {}, spec.title),
    slot,
    h(
      'ul',
      { class: 'legend' },
      spec.lines.map((l) => h('li', {}, h('span', { class: `swatch ${l.cls}`, 'aria-hidden': 'true' }), l.label)),
    ),
  );
}

/** A step near max/4 that reads well: 1, 2 or 5 times a power of ten. */
function niceStep(max: number): number {
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power;
}

function pathOf(line: ChartLine, x: (i: number) => number, y: (v: number) => number, xEnd: number): string {
  let d = '';
  let drawing = false;
  line.values.forEach((v, i) => {
    if (v === null) {
      drawing = false;
      return;
    }
    const px = x(i).toFixed(1);
    const py = y(v).toFixed(1);
    if (!drawing) d += `M${px},${py}`;
    else d += line.step ? `H${px}V${py}` : `L${px},${py}`;
    drawing = true;
  });
  const last = line.values.at(-1);
  if (line.step && last !== null && last !== undefined) d += `H${xEnd.toFixed(1)}`;
  return d;
}

function draw(spec: ChartSpec, width: number): SVGSVGElement {
  const w = Math.max(240, Math.round(width));
  const plotW = w - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const values = spec.lines.flatMap((l) => l.values).filter((v): v is number => v !== null && Number.isFinite(v));
  const top = spec.yMax ?? Math.max(...values, 0) * 1.15;
  const step = niceStep(top > 0 ? top : 1);
  const yMax = Math.max(step, Math.ceil((top > 0 ? top : 1) / step) * step);
  const span = Math.max(1, spec.xTo - spec.xFrom);
  const xAt = (t: number) => M.left + ((t - spec.xFrom) / span) * plotW;
  const y = (v: number) => M.top + plotH - (Math.min(v, yMax) / yMax) * plotH;
  const xLabel = span > 36 * 3600_000 ? (t: number) => dateTime(t) : clockTime;

  const grid = [];
  for (let v = 0; v <= yMax + step / 2; v += step) {
    grid.push(s('line', { class: 'grid', x1: M.left, x2: w - M.right, y1: y(v), y2: y(v) }));
    grid.push(s('text', { class: 'tick', x: M.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, spec.format(v)));
  }
  // As many time labels as fit: two on a phone, four on a wide screen.
  const labels = w < 420 ? 2 : w < 640 ? 3 : 4;
  const xTicks = Array.from({ length: labels }, (_, i) => spec.xFrom + (i / (labels - 1)) * span);
  xTicks.forEach((t, i) => {
    const anchor = i === 0 ? 'start' : i === xTicks.length - 1 ? 'end' : 'middle';
    grid.push(s('text', { class: 'tick', x: xAt(t), y: HEIGHT - 6, 'text-anchor': anchor }, xLabel(t)));
  });
  return s(
    'svg',
    { viewBox: `0 0 ${w} ${HEIGHT}`, width: w, height: HEIGHT, role: 'img', 'aria-label': spec.summary, focusable: 'false' },
    grid,
    s('line', { class: 'axis', x1: M.left, x2: M.left, y1: M.top, y2: M.top + plotH }),
    s('line', { class: 'axis', x1: M.left, x2: w - M.right, y1: M.top + plotH, y2: M.top + plotH }),
    spec.lines.map((line) => s('path', { class: `line ${line.cls}`, d: pathOf(line, (i) => xAt(spec.times[i]!), y, xAt(spec.xTo)) })),
  );
}

/** Draws every chart placeholder under `root` at its current width. */
export function drawCharts(root: ParentNode): void {
  for (const slot of root.querySelectorAll<HTMLElement>('.chart-canvas')) {
    const spec = specs.get(slot);
    if (spec) slot.replaceChildren(draw(spec, slot.clientWidth));
  }
}

let listening = false;
/** Charts follow the window's width (rotating a phone, resizing a window). */
export function redrawOnResize(): void {
  if (listening) return;
  listening = true;
  let pending: number | undefined;
  window.addEventListener('resize', () => {
    window.clearTimeout(pending);
    pending = window.setTimeout(() => drawCharts(document), 150);
  });
}
