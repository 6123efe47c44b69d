import { chart, type ChartLine } from '../chart.js';
import { duration, metricLabel, metricValue } from '../format.js';
import type { RolloutSeries } from '../types.js';
import { counted } from '../../../rollouts/units.js';

/** The rollout page's charts: each gate's metric per cohort against its threshold, the percentage, the traffic. */

type Series = RolloutSeries;
type Metric = Series['gates'][number]['metric'];

const last = (values: Array<number | null>) => [...values].reverse().find((v) => v !== null) ?? null;

/** A metric per cohort over time, with the gate's threshold when there is one and any rollback level. */
function metricChart(series: Series, metric: Metric, title: string, gate?: Series['gates'][number]): HTMLElement {
  const treatment = series.cohorts.treatment.metrics[metric] ?? [];
  const control = series.cohorts.control.metrics[metric] ?? [];
  const format = (v: number) => metricValue(metric, v);
  // Control first, so treatment (what the gates judge) is drawn on top where the two coincide.
  const lines: ChartLine[] = [
    { label: 'control', values: control, cls: 'control' },
    { label: 'treatment', values: treatment, cls: 'treatment' },
  ];
  let threshold: Array<number | null> = [];
  if (gate?.max !== undefined) {
    threshold = series.times.map(() => gate.max!);
    lines.push({ label: `threshold ${format(gate.max)}`, values: threshold, cls: 'threshold' });
  } else if (gate?.maxRelativeIncrease !== undefined) {
    // Judged against control: the threshold moves with control, point by point.
    const factor = 1 + gate.maxRelativeIncrease;
    threshold = control.map((c) => (c === null ? null : c * factor));
    lines.push({ label: `threshold: control × ${factor}`, values: threshold, cls: 'threshold' });
  }
  for (const r of series.rollback.filter((r) => r.metric === metric)) {
    lines.push({ label: `rollback above ${format(r.above)} (${r.cohort})`, values: series.times.map(() => r.above), cls: 'rollback' });
  }
  const latest = `treatment ${format0(format, last(treatment))}, control ${format0(format, last(control))}`;
  return chart({
    title,
    times: series.times,
    xFrom: series.from,
    xTo: series.to,
    lines,
    format,
    summary: `${title} over time. Latest: ${latest}${gate ? `, threshold ${format0(format, last(threshold))}` : ''}.`,
  });
}

function format0(format: (v: number) => string, v: number | null): string {
  return v === null ? 'no data' : format(v);
}

/** The last point, when it is still filling, is left out of counts: it would read as a drop in traffic. */
function settledOnly(series: Series, values: number[]): Array<number | null> {
  return series.partialFrom === undefined ? values : values.map((v, i) => (series.times[i]! >= series.partialFrom! ? null : v));
}

/** The served percentage as recorded by the rollout, ending at what the flag serves now (a kill serves 0 %). */
function percentageChart(series: Series, servedNow: number): HTMLElement {
  const recorded = series.percentage;
  const steps =
    recorded.at(-1)?.percentage === servedNow
      ? recorded
      : [...recorded, { at: Math.max(recorded.at(-1)?.at ?? series.from, series.to - series.pointMs), percentage: servedNow, state: 'now' }];
  const current = servedNow;
  return chart({
    title: 'Served percentage',
    times: steps.map((p) => p.at),
    xFrom: series.from,
    xTo: series.to,
    lines: [{ label: 'percentage of users', values: steps.map((p) => p.percentage), cls: 'percentage', step: true }],
    format: (v) => `${v}%`,
    yMax: 100,
    summary: `Served percentage over time: ${steps.map((p) => `${p.percentage}%`).join(' → ')}; now ${current}%.`,
  });
}

function trafficChart(series: Series): HTMLElement {
  const t = settledOnly(series, series.cohorts.treatment.requests);
  const c = settledOnly(series, series.cohorts.control.requests);
  const sum = (xs: Array<number | null>) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
  return chart({
    title: `Requests per ${series.pointMs >= 1000 ? duration(series.pointMs) : `${series.pointMs} ms`}`,
    times: series.times,
    xFrom: series.from,
    xTo: series.to,
    lines: [
      { label: 'control', values: c, cls: 'control' },
      { label: 'treatment', values: t, cls: 'treatment' },
    ],
    // The title names the unit (requests per point): the axis keeps to short numbers.
    format: (v) => (v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)}k` : String(Math.round(v))),
    summary:
      `Requests reported since the rollout started: treatment ${counted(sum(t), 'request')}, control ${counted(sum(c), 'request')}` +
      `${series.partialFrom !== undefined ? ' (the point still filling is not drawn)' : ''}.`,
  });
}

/** Gate charts first (they decide), then the percentage and the traffic behind them. */
export function rolloutCharts(series: Series, servedNow: number): HTMLElement[] {
  const gates = series.gates.length
    ? series.gates.map((g) => metricChart(series, g.metric, `Gate ${g.rule}`, g))
    : (['error_rate', 'latency_p99_ms'] as Metric[]).map((metric) => metricChart(series, metric, metricLabel(metric)));
  return [...gates, percentageChart(series, servedNow), trafficChart(series)];
}
