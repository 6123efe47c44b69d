import type { CheckResult } from '../rollouts/rollout-model.js';
import { english, type Words } from '../policies/policy-words.js';
import { countedInWords, metricText, samplesText } from '../rollouts/units.js';

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

/**
 * "✗ error_rate(treatment) > 5% for 5m: 8% (limit 5%) over 2,000 requests". The rule stays in the
 * policy's notation; the words around it and the units go through `w` (the webhook's language).
 */
export function describeCheck(c: CheckResult, w: Words = english): string {
  // A check shown for information (it did not judge) is marked as such, neither passed nor failed.
  const mark = c.informational ? 'i' : c.verdict === 'fail' ? '✗' : c.verdict === 'pass' ? '✓' : '?';
  const inWords = (text: string) => countedInWords(text, w);
  const vars = {
    mark,
    rule: ruleText(c),
    value: inWords(withUnit(c.metric, c.value)),
    threshold: inWords(withUnit(c.metric, c.threshold)),
    samples: inWords(samplesOf(c)),
  };
  if (c.metric.startsWith('sample_ratio')) return w('{mark} {rule}: {value} (expected {threshold}) over {samples}', vars);
  if (c.metric === 'exposures') return w('{mark} {rule}: {value} (needed {threshold}) over {samples}', vars);
  return w('{mark} {rule}: {value} (limit {threshold}) over {samples}', vars);
}
