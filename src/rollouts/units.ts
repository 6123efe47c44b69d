/**
 * How every number about a rollout is written with its unit, wherever it is shown: the dashboard,
 * rolloutctl, the go-live report and notifications. Pure and dependency-free, so the browser
 * bundle uses the very same functions.
 */

/** The unit a check's value is measured in. */
export type MetricUnit = 'fraction' | 'ms' | 'evaluations' | 'share' | 'value';

export function unitOf(metric: string): MetricUnit {
  if (metric === 'error_rate') return 'fraction';
  if (/^latency_(p\d+|mean)_ms$/.test(metric)) return 'ms';
  if (metric === 'exposures') return 'evaluations';
  if (metric === 'sample_ratio' || metric === 'sample_ratio_users') return 'share';
  // A PromQL check's value is whatever its query returns: shown as the number it is.
  return 'value';
}

/** 0.002128 → "0.21%", 0.0000123 → "0.0012%": enough digits to tell small rates apart. */
export function percentOf(fraction: number): string {
  const pct = fraction * 100;
  if (pct === 0) return '0%';
  const digits = Math.abs(pct) >= 10 ? 1 : Math.abs(pct) >= 0.1 ? 2 : Math.max(2, 1 - Math.floor(Math.log10(Math.abs(pct))) + 1);
  return `${trimZeros(pct.toFixed(Math.min(digits, 6)))}%`;
}

/** 1234567 → "1,234,567" (grouping fixed, so reports read the same on every machine). */
export function count(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A count with its unit, singular or plural: "1 request", "2,000 requests". */
export function counted(n: number, unit: string): string {
  return `${count(n)} ${Math.round(n) === 1 ? unit : `${unit}s`}`;
}

/** A check's value (or threshold) with its unit: "0.21%", "480 ms", "1,669,360 evaluations". */
export function metricText(metric: string, value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return 'no data';
  switch (unitOf(metric)) {
    case 'fraction':
    case 'share':
      return percentOf(value);
    case 'ms':
      return `${trimZeros(value.toFixed(value < 10 ? 1 : 0))} ms`;
    case 'evaluations':
      return counted(value, 'evaluation');
    case 'value':
      return trimZeros(value.toFixed(Math.abs(value) < 10 ? 4 : 2));
  }
}

/** What a check's samples count: requests for outcome checks, evaluations for traffic checks, users for the sample ratio on users. */
export function samplesText(metric: string, samples: number): string {
  if (metric === 'sample_ratio_users') return counted(samples, 'user');
  const unit = unitOf(metric);
  return counted(samples, unit === 'evaluations' || unit === 'share' ? 'evaluation' : 'request');
}

/**
 * What a check judged, in words: users when the application reported outcomes per hashed user
 * bucket (the SDK helper does), requests when it did not (a stock SDK), so a person can tell a
 * verdict on users from one that treats every request as independent.
 */
export function judgedOnText(check: { test?: { method: string } }): string {
  switch (check.test?.method) {
    case 'always-valid-users':
      return 'users (per-user counts)';
    case 'always-valid':
      return 'requests (no per-user counts)';
    case 'share-of-users':
      return 'users (distinct users seen)';
    case 'share-of-evaluations':
    case 'chi-squared':
      return 'evaluations';
    default:
      return 'the measured value';
  }
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** A check's verdict as people are shown it: `not-judged` for a check shown for information only (see CheckResult.informational). */
export type ShownVerdict = 'pass' | 'fail' | 'inconclusive' | 'not-judged';

export function shownVerdict(c: { verdict: 'pass' | 'fail' | 'inconclusive'; informational?: boolean }): ShownVerdict {
  return c.informational ? 'not-judged' : c.verdict;
}

/** The verdict in words: "pass", "not judged". */
export function verdictText(c: { verdict: 'pass' | 'fail' | 'inconclusive'; informational?: boolean }): string {
  return shownVerdict(c).replace('-', ' ');
}

const COUNTED = /^(-?[\d,]+(?:\.\d+)?) (request|treatment request|evaluation|distinct user|user|flag|event)s?$/;

/**
 * A count written by `counted` ("2,000 requests", "1 user") or "no data", with its unit words
 * looked up through `translate` under "{n} requests", "{n} users", … ; English stays as it is when
 * the lookup has no entry. Dashboard and report share this, so a unit reads the same in both.
 */
export function countedInWords(english: string, translate: (text: string, vars?: Record<string, string>) => string): string {
  if (english === 'no data') return translate('no data');
  const found = COUNTED.exec(english);
  if (!found) return english;
  const key = `{n} ${found[2]}s`;
  const translated = translate(key, { n: found[1]! });
  return translated === key.replace('{n}', found[1]!) ? english : translated;
}
