import { chart, type ChartLine } from '../chart.js';
import { countedText, duration, metricLabel, metricValue, ruleLabel } from '../format.js';
import { t } from '../i18n.js';
import type { RolloutSeries } from '../types.js';

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
    { label: t('control'), values: control, cls: 'control' },
    { label: t('treatment'), values: treatment, cls: 'treatment' },
  ];
  let threshold: Array<number | null> = [];
  if (gate?.max !== undefined) {
    threshold = series.times.map(() => gate.max!);
    lines.push({ label: t('threshold {value}', { value: format(gate.max) }), values: threshold, cls: 'threshold' });
  } else if (gate?.maxRelativeIncrease !== undefined) {
    // Judged against control: the threshold moves with control, point by point.
    const factor = 1 + gate.maxRelativeIncrease;
    threshold = control.map((c) => (c === null ? null : c * factor));
    lines.push({ label: t('threshold: control × {factor}', { factor }), values: threshold, cls: 'threshold' });
  }
  for (const r of series.rollback.filter((r) => r.metric === metric)) {
    lines.push({
      label: t('rollback above {value} ({cohort})', { value: format(r.above), cohort: t(r.cohort) }),
      values: series.times.map(() => r.above),
      cls: 'rollback',
    });
  }
  const latest = t('treatment {treatment}, control {control}', { treatment: format0(format, last(treatment)), control: format0(format, last(control)) });
  return chart({
    title,
    times: series.times,
    xFrom: series.from,
    xTo: series.to,
    lines,
    format,
    summary: gate
      ? t('{title} over time. Latest: {latest}, threshold {threshold}.', { title, latest, threshold: format0(format, last(threshold)) })
      : t('{title} over time. Latest: {latest}.', { title, latest }),
  });
}

function format0(format: (v: number) => string, v: number | null): string {
  return v === null ? t('no data') : format(v);
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
    title: t('Served percentage'),
    times: steps.map((p) => p.at),
    xFrom: series.from,
    xTo: series.to,
    lines: [{ label: t('percentage of users'), values: steps.map((p) => p.percentage), cls: 'percentage', step: true }],
    format: (v) => `${v}%`,
    yMax: 100,
    summary: t('Served percentage over time: {steps}; now {pct}%.', { steps: steps.map((p) => `${p.percentage}%`).join(' → '), pct: current }),
  });
}

function trafficChart(series: Series): HTMLElement {
  const tr = settledOnly(series, series.cohorts.treatment.requests);
  const c = settledOnly(series, series.cohorts.control.requests);
  const sum = (xs: Array<number | null>) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
  return chart({
    title: t('Requests per {period}', { period: series.pointMs >= 1000 ? duration(series.pointMs) : `${series.pointMs} ms` }),
    times: series.times,
    xFrom: series.from,
    xTo: series.to,
    lines: [
      { label: t('control'), values: c, cls: 'control' },
      { label: t('treatment'), values: tr, cls: 'treatment' },
    ],
    // The title names the unit (requests per point): the axis keeps to short numbers.
    format: (v) => (v >= 1000 ? `${(v / 1000).toFixed(v >= 10_000 ? 0 : 1)}k` : String(Math.round(v))),
    summary: t('Requests reported since the rollout started: treatment {treatment}, control {control}{partial}.', {
      treatment: countedText(sum(tr), 'request'),
      control: countedText(sum(c), 'request'),
      partial: series.partialFrom !== undefined ? t(' (the point still filling is not drawn)') : '',
    }),
  });
}

/** Gate charts first (they decide), then the percentage and the traffic behind them. */
export function rolloutCharts(series: Series, servedNow: number): HTMLElement[] {
  const gates = series.gates.length
    ? series.gates.map((g) => metricChart(series, g.metric, t('Gate {rule}', { rule: ruleLabel(g) }), g))
    : (['error_rate', 'latency_p99_ms'] as Metric[]).map((metric) => metricChart(series, metric, metricLabel(metric)));
  return [...gates, percentageChart(series, servedNow), trafficChart(series)];
}
