import { metricText } from '../../rollouts/units.js';

/** How numbers, times and durations read on the dashboard. */

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Every value with its unit: error rates and shares as percentages, latencies in ms, evaluations counted. */
export function metricValue(metric: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return metricText(metric, value);
}

export { samplesText } from '../../rollouts/units.js';

export function metricLabel(metric: string): string {
  const latency = /^latency_(p\d+|mean)_ms$/.exec(metric);
  if (latency) return `latency ${latency[1]}`;
  return metric.replace(/_/g, ' ');
}

export function dateTime(iso: string | number): string {
  const d = new Date(iso);
  return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function clockTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function stateLabel(state: string): string {
  return state.replace(/_/g, ' ');
}
