import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusProvider, type QueryResult, type QueryVars } from '../../src/metrics/prometheus/index.js';
import { startPrometheus, startScrapedApp, type RunningPrometheus, type ScrapedApp } from './prometheus-server.js';

/**
 * The provider against a real Prometheus scraping a tiny application every second. The app counts
 * requests per flag, cohort and status, and on every scrape it serves a fixed batch more: treatment
 * fails 1 in 20 (5 %), control 1 in 100 (1 %). Both series of a cohort gain samples at the same
 * scrapes, so rate() extrapolates them alike and the ratio of rates is exactly the error rate.
 */

const WEIRD_FLAG = 'we"ird\\flag'; // needs escaping in a PromQL string; the query must still find it
const ERROR_RATE =
  'sum(rate(app_requests_total{flag="{{flag}}",cohort="{{cohort}}",status="500"}[{{window}}]))' +
  ' / sum(rate(app_requests_total{flag="{{flag}}",cohort="{{cohort}}"}[{{window}}]))';
const vars = (overrides: Partial<QueryVars> = {}): QueryVars => ({
  flag: 'checkout',
  environment: 'production',
  cohort: 'treatment',
  windowMs: 30_000,
  ...overrides,
});

describe('Prometheus provider against a real Prometheus', () => {
  let app: ScrapedApp;
  let prometheus: RunningPrometheus;
  let provider: PrometheusProvider;

  beforeAll(async () => {
    app = await startScrapedApp([
      ['checkout', 'treatment', 19, 1],
      ['checkout', 'control', 99, 1],
      [WEIRD_FLAG, 'treatment', 3, 1],
    ]);
    prometheus = await startPrometheus([app.target]);
    provider = new PrometheusProvider({ url: prometheus.url, timeoutMs: 5_000 });

    // Ready once both cohorts have at least two samples inside the window (rate needs two).
    const deadline = Date.now() + 30_000;
    let last: QueryResult | undefined;
    while (Date.now() < deadline) {
      last = await provider.query(ERROR_RATE, vars({ cohort: 'control' }), new Date());
      if (last.kind === 'value') return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`the test app's series never showed up in Prometheus: ${JSON.stringify(last)}`);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await app?.close();
  });

  it('scraped the test application', () => {
    expect(app.scrapes()).toBeGreaterThanOrEqual(2);
  });

  it('reads the error rate of each cohort from a templated query', async () => {
    const now = new Date();
    const treatment = await provider.query(ERROR_RATE, vars(), now);
    const control = await provider.query(ERROR_RATE, vars({ cohort: 'control' }), now);
    expect(treatment).toMatchObject({ kind: 'value', series: 1 });
    expect(control).toMatchObject({ kind: 'value', series: 1 });
    if (treatment.kind !== 'value' || control.kind !== 'value') return;
    expect(treatment.value).toBeCloseTo(0.05, 9);
    expect(control.value).toBeCloseTo(0.01, 9);
  });

  it('finds a label value that needs escaping', async () => {
    const result = await provider.query(ERROR_RATE, vars({ flag: WEIRD_FLAG }), new Date());
    expect(result).toMatchObject({ kind: 'value', series: 1 });
    if (result.kind === 'value') expect(result.value).toBeCloseTo(0.25, 9);
  });

  it('evaluates at the given time: before the app was scraped there is no data', async () => {
    const result = await provider.query(ERROR_RATE, vars(), new Date(Date.now() - 3_600_000));
    expect(result).toEqual({ kind: 'inconclusive', reason: expect.stringContaining('no data') });
  });

  it('is inconclusive for a missing series, several series and a bad query', async () => {
    expect(await provider.query(ERROR_RATE, vars({ flag: 'no-such-flag' }), new Date())).toEqual({
      kind: 'inconclusive',
      reason: expect.stringContaining('no data'),
    });
    expect(await provider.query('rate(app_requests_total{cohort="{{cohort}}"}[{{window}}])', vars(), new Date())).toEqual({
      kind: 'inconclusive',
      reason: expect.stringMatching(/returned \d+ series; aggregate/),
    });
    expect(await provider.query('sum(rate(app_requests_total[{{window}}])', vars(), new Date())).toEqual({
      kind: 'inconclusive',
      reason: expect.stringContaining('Prometheus refused the query (400 bad_data)'),
    });
    // A range vector alone is not a number.
    expect(await provider.query('app_requests_total{flag="{{flag}}",cohort="{{cohort}}",status="500"}[{{window}}]', vars(), new Date())).toMatchObject({
      kind: 'inconclusive',
      reason: expect.stringContaining('range vector'),
    });
  });

  it('is inconclusive once Prometheus has stopped', async () => {
    await prometheus.stop();
    expect(await provider.query(ERROR_RATE, vars(), new Date())).toEqual({
      kind: 'inconclusive',
      reason: expect.stringContaining('Prometheus could not be reached'),
    });
  });
});
