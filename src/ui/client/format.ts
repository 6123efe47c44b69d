import { countedInWords, metricText, samplesText as samplesInEnglish } from '../../rollouts/units.js';
import { ruleText } from '../../notifications/units.js';
import { isRolloutState, stateWords } from '../../rollouts/state-words.js';
import { formatDateTime, locale, t } from './i18n.js';

/**
 * How numbers, times and durations read on the dashboard, in the current language. The values and
 * their units come from rollouts/units.ts (the one source shared with reports and rolloutctl); only
 * the unit words are put into the language here, so "1,234 requests" reads "1,234 次请求".
 */

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return t('{s}s', { s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('{m}m {s}s', { m, s: String(s % 60).padStart(2, '0') });
  const h = Math.floor(m / 60);
  if (h < 48) return t('{h}h {m}m', { h, m: String(m % 60).padStart(2, '0') });
  return t('{d}d {h}h', { d: Math.floor(h / 24), h: h % 24 });
}

/** A count with its unit word, from English ("2 requests") into the current language. */
export function unitText(english: string): string {
  return locale() === 'en' ? english : countedInWords(english, t);
}

/** Every value with its unit: error rates and shares as percentages, latencies in ms, evaluations counted. */
export function metricValue(metric: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  return unitText(metricText(metric, value));
}

export function samplesText(metric: string, samples: number): string {
  return unitText(samplesInEnglish(metric, samples));
}

/** `n` of `unit` ("request", "evaluation", "user", "flag", "event"): "1 request", "2,000 requests", "2,000 次请求". */
export function countedText(n: number, unit: 'request' | 'evaluation' | 'user' | 'flag' | 'event'): string {
  const rounded = Math.round(n);
  return unitText(`${rounded.toLocaleString('en-US')} ${rounded === 1 ? unit : `${unit}s`}`);
}

const METRIC_NAMES: Record<string, string> = {
  error_rate: 'error rate',
  exposures: 'exposures',
  sample_ratio: 'sample ratio',
  sample_ratio_users: 'sample ratio of users',
};

/** A known metric's name in the current language; a PromQL check's own name stays as it is. */
export function metricLabel(metric: string): string {
  const latency = /^latency_(p\d+|mean)_ms$/.exec(metric);
  if (latency) return t('latency {which}', { which: latency[1]! });
  const known = METRIC_NAMES[metric];
  return known ? t(known) : metric.replace(/_/g, ' ');
}

export function dateTime(iso: string | number): string {
  return formatDateTime(iso, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function clockTime(ms: number): string {
  return formatDateTime(ms, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** A rollout's state in words; a state this page does not know is shown as the controller names it. */
export function stateLabel(state: string): string {
  return isRolloutState(state) ? t(stateWords(state)) : state.replace(/_/g, ' ');
}

const VERDICTS: Record<string, string> = { pass: 'pass', fail: 'fail', inconclusive: 'inconclusive', 'not-judged': 'not judged' };

/** A check's verdict in words ("pass", "not judged"). */
export function verdictLabel(shown: string): string {
  return t(VERDICTS[shown] ?? shown);
}

/**
 * A check's rule with its limits in units (as notifications write it: "error_rate(treatment) <= 5%"),
 * its cohorts and words in the current language; metric names stay as the policy names them.
 */
export function ruleLabel(check: { rule: string; metric: string }): string {
  const text = ruleText(check);
  if (locale() === 'en') return text;
  return text
    .replace(/\((treatment|control)\)/g, (_m, cohort: string) => `（${t(cohort)}）`)
    .replace(/\bcontrol x /g, `${t('control')} × `)
    .replace(/ at ([\d.]+%) confidence/g, (_m, pct: string) => t(' at {pct} confidence', { pct }))
    .replace(/ for (\S+)$/, (_m, period: string) => t(' for {period}', { period }));
}
