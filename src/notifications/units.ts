import type { CheckResult } from '../rollouts/rollout-model.js';
import { metricText, samplesText } from '../rollouts/units.js';

/**
 * Numbers in notifications carry their units. Checks store plain numbers (an error rate of 0.08, a
 * latency of 212, a share of 0.5); a person reading a chat message should see 8%, 212 ms, 50%.
 */

const trim = (n: number) => String(Number(n.toPrecision(3)));

/** Values and samples read as everywhere else: src/rollouts/units.ts. */
const withUnit = (metric: string, value: number | null) => metricText(metric, value);
const samplesOf = (c: Pick<CheckResult, 'metric' | 'samples'>) => samplesText(c.metric, c.samples);

/**
 * The rule as the policy states it, with its limits in units: "error_rate(treatment) > 0.05 for 5m"
 * reads "error_rate(treatment) > 5% for 5m", and a confidence of 0.95 reads 95%.
 */
export function ruleText(c: Pick<CheckResult, 'rule' | 'metric'>): string {
  const percent = c.metric === 'error_rate';
  const ms = c.metric.endsWith('_ms');
  let text = c.rule.replace(/at (0?\.\d+) confidence/g, (_m, n: string) => `at ${trim(Number(n) * 100)}% confidence`);
  if (percent || ms) {
    text = text.replace(
      /(<=|>=|<|>)\s*(\d+(?:\.\d+)?)(?![\d.%])/g,
      (_m, op: string, n: string) => `${op} ${percent ? `${trim(Number(n) * 100)}%` : `${n} ms`}`,
    );
  }
  return text;
}

/** "✗ error_rate(treatment) > 5% for 5m: 8% (limit 5%) over 2,000 requests". */
export function describeCheck(c: CheckResult): string {
  // A check shown for information (it did not judge) is marked as such, neither passed nor failed.
  const mark = c.informational ? 'i' : c.verdict === 'fail' ? '✗' : c.verdict === 'pass' ? '✓' : '?';
  const line = c.metric.startsWith('sample_ratio') ? 'expected' : c.metric === 'exposures' ? 'needed' : 'limit';
  return `${mark} ${ruleText(c)}: ${withUnit(c.metric, c.value)} (${line} ${withUnit(c.metric, c.threshold)}) over ${samplesOf(c)}`;
}
