import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { latencyPercentile } from '../../src/metrics/outcome-math.js';
import { startTestController, type TestController } from '../support/controller.js';
import { closeAllClients, ENV, outcomeTotals, putFlag, testClient, waitFor } from './helpers.js';

/**
 * The helper with the stock unleash-client underneath, against a real controller on real Redis:
 * what an application records arrives in the controller's outcome counters, under the cohort the
 * flag was served in at the time.
 */
describe('SDK helper against a live controller', () => {
  let t: TestController;
  let token: string;

  beforeAll(async () => {
    t = await startTestController();
    token = await t.token({ kind: 'client', environment: ENV });
  });
  afterEach(closeAllClients);
  afterAll(() => t?.stop());

  it('records under control while the flag is off and under treatment once it is served on', async () => {
    await putFlag(t, 'cohort-flip', false);
    const { guard, errors } = testClient({ url: t.url, token });
    expect(await guard.ready(5_000)).toBe('controller');

    const old = () => 'old path';
    const neu = () => 'new path';
    for (let i = 0; i < 10; i++) expect(guard.run('cohort-flip', { userId: `u${i}` }, neu, old)).toBe('old path');
    await guard.flush();
    let totals = await outcomeTotals(t, 'cohort-flip');
    expect(totals.control).toMatchObject({ requests: 10, errors: 0 });
    expect(totals.treatment.requests).toBe(0);

    await putFlag(t, 'cohort-flip', true);
    await waitFor(() => guard.isEnabled('cohort-flip'), 'the flag served on');
    for (let i = 0; i < 7; i++) expect(guard.run('cohort-flip', { userId: `u${i}` }, neu, old)).toBe('new path');
    await guard.flush();
    totals = await outcomeTotals(t, 'cohort-flip');
    expect(totals.control.requests).toBe(10);
    expect(totals.treatment).toMatchObject({ requests: 7, errors: 0 });
    expect(guard.stats()).toMatchObject({ sentRequests: 17, droppedRequests: 0, pendingBatches: 0 });
    expect(errors).toEqual([]);
  });

  it('lands the latency histogram, per bucket, with its sum', async () => {
    await putFlag(t, 'latency-flag', true);
    let clock = 0;
    const { guard } = testClient({ url: t.url, token, now: () => clock, latencyBucketsMs: [10, 50, 100] });
    await guard.ready(5_000);
    // The work "takes" 60 + i ms on the injected clock.
    for (let i = 0; i < 10; i++) {
      await guard.track('latency-flag', undefined, async () => {
        clock += 60 + i;
      });
    }
    guard.record('latency-flag', 'control', { ok: true, latencyMs: 5 });
    await guard.flush();
    const totals = await outcomeTotals(t, 'latency-flag');
    expect(totals.treatment).toMatchObject({ requests: 10, errors: 0, latencySumMs: 60 * 10 + 45 });
    expect(totals.treatment.latencyBuckets['+100']).toBe(10);
    expect(totals.control).toMatchObject({ requests: 1, latencySumMs: 5 });
    expect(totals.control.latencyBuckets['+10']).toBe(1);
    // Every observation lies in (50, 100]: so must the median the gates will read.
    const p50 = latencyPercentile(totals.treatment, 0.5)!;
    expect(p50).toBeGreaterThan(0);
    expect(p50).toBeLessThanOrEqual(100);
  });

  it('counts exceptions as errors and hands them back to the caller unchanged', async () => {
    await putFlag(t, 'error-flag', true);
    const { guard, errors } = testClient({ url: t.url, token });
    await guard.ready(5_000);
    const boom = new RangeError('card declined');

    let thrown: unknown;
    try {
      guard.run(
        'error-flag',
        undefined,
        () => {
          throw boom;
        },
        () => 'fine',
      ); // prettier-ignore
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBe(boom);
    await expect(guard.track('error-flag', undefined, async () => Promise.reject(boom))).rejects.toBe(boom);
    const rejectedNonError = guard.track('error-flag', undefined, () => Promise.reject('plain string'));
    await expect(rejectedNonError).rejects.toBe('plain string');
    expect(await guard.track('error-flag', undefined, async (enabled) => (enabled ? 'treated' : 'not'))).toBe('treated');
    const call = guard.begin('error-flag');
    expect(call).toMatchObject({ enabled: true, cohort: 'treatment' });
    call.end({ ok: false });
    call.end({ ok: true }); // a call is recorded once

    await guard.flush();
    expect((await outcomeTotals(t, 'error-flag')).treatment).toMatchObject({ requests: 5, errors: 4 });
    expect(errors).toEqual([]);
  });

  it('drops what the controller refuses for good, and says so, without throwing', async () => {
    const { guard, errors } = testClient({ url: t.url, token: 'not-a-token' });
    guard.record('some-flag', 'treatment', { ok: true });
    guard.record('not a flag name', 'treatment', { ok: true });
    await guard.flush();
    expect(guard.stats()).toMatchObject({ droppedRequests: 1, refusedObservations: 1, pendingBatches: 0 });
    expect(errors.map((e) => e.message).join('\n')).toContain('answered 401');
    // The stock client rejects its start on a refused token; the helper reports it instead of
    // leaving an unhandled rejection, which would end the application's process.
    await waitFor(() => errors.some((e) => e.message.includes('responded 401')), 'the refused flag fetch reported');
  });
});
