import type { CheckResult } from '../rollouts/rollout-model.js';

/**
 * Numbers in notifications carry their units. Checks store plain numbers (an error rate of 0.08, a
 * latency of 212, a share of 0.5); a person reading a chat message should see 8%, 212 ms, 50%.
 */

const trim = (n: number) => String(Number(n.toPrecision(3)));
const grouped = (n: number) => n.toLocaleString('en-US');

/** How a metric's values read: rates and shares as percentages, latencies in ms, counts as counts. */
export function withUnit(metric: string, value: number | null): string {
  if (value === null || Number.isNaN(value)) return 'no value';
  if (metric === 'error_rate' || metric === 'sample_ratio') return `${trim(value * 100)}%`;
  if (metric.endsWith('_ms')) return `${trim(value)} ms`;
  if (metric === 'exposures') return `${grouped(value)} evaluations`;
  return trim(value);
}

/** What a check's samples count: evaluations for the traffic checks, requests for the rest. */
export function samplesText(c: Pick<CheckResult, 'metric' | 'samples'>): string {
  const unit = c.metric === 'exposures' || c.metric === 'sample_ratio' ? 'evaluations' : 'requests';
  return `${grouped(c.samples)} ${unit}`;
}

/**
 * The rule as the policy states it, with its limits in units: "error_rate(treatment) > 0.05 for 5m"
 * reads "error_rate(treatment) > 5% for 5m", and a confidence of 0.95 reads 95%.
 */
export function ruleText(c: Pick<CheckResult, 'rule' | 'metric'>): string {
  const percent = c.metric === 'error_rate';
  const ms = c.metric.endsWith('_ms');
  let text = c.rule.replace(/at (0?\.\d+) confidence/g, (_m, n: string) => `at ${trim(Number(n) * 100)}% confidence`);
  if (percent || ms) {
    text = text.replace(/(<=|>=|<|>)\s*(\d+(?:\.\d+)?)(?![\d.%])/g, (_m, op: string, n: string) => `${op} ${percent ? `${trim(Number(n) * 100)}%` : `${n} ms`}`);
  }
  return text;
}

/** "✗ error_rate(treatment) > 5% for 5m: 8% (limit 5%) over 2,000 requests". */
export function describeCheck(c: CheckResult): string {
  const mark = c.verdict === 'fail' ? '✗' : c.verdict === 'pass' ? '✓' : '?';
  const line = c.metric === 'sample_ratio' ? 'expected' : c.metric === 'exposures' ? 'needed' : 'limit';
  return `${mark} ${ruleText(c)}: ${withUnit(c.metric, c.value)} (${line} ${withUnit(c.metric, c.threshold)}) over ${samplesText(c)}`;
}
