import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TokenIndex } from '../../src/auth/token-index.js';
import { createApp } from '../../src/http/app.js';
import { Authenticator } from '../../src/http/auth.js';
import { createLogger } from '../../src/logger.js';
import { emptyTotals, errorRate, latencyMean, latencyPercentile } from '../../src/metrics/outcome-math.js';
import { outcomeRoutes } from '../../src/metrics/outcome-routes.js';
import { outcomeBucketKey, StoreOutcomeSource } from '../../src/metrics/outcomes.js';
import { userSampleKey } from '../../src/metrics/user-sample.js';
import { startTestController, type TestController } from '../support/controller.js';

/** Aligned to the 10 s bucket, so offsets below read as "which bucket". */
const T0 = 1_700_000_000_000;

/**
 * The route is not mounted in the controller yet, so it is served by its own app built with
 * createApp, over the controller's real store and tokens (Redis under a fresh prefix).
 */
describe('outcomes from POST /api/metrics/outcomes', () => {
  let t: TestController;
  let server: http.Server;
  let base: string;
  let outcomes: StoreOutcomeSource;
  let prod: string;
  let staging: string;
  let frontend: string;
  let clock = T0;

  const post = async (body: unknown, token?: string) => {
    const res = await fetch(`${base}/api/metrics/outcomes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: token } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const report = (...records: unknown[]) => ({ appName: 'shop', records });

  beforeAll(async () => {
    t = await startTestController();
    prod = await t.token({ kind: 'client', environment: 'production' });
    staging = await t.token({ kind: 'client', environment: 'staging' });
    frontend = await t.token({ kind: 'frontend', environment: 'production' });
    // Outcomes are kept only for flags that exist (test/hardening/client-growth.test.ts).
    for (const flag of ['checkout', 'search', 'empty-buckets', 'auth-check', 'rejected', 'user-flag']) {
      expect((await t.api('PUT', `/api/admin/flags/${flag}`, { environments: { production: { enabled: true } } })).status).toBe(201);
    }
    const index = new TokenIndex();
    await index.load(t.controller.store);
    outcomes = new StoreOutcomeSource(t.controller.store, 10_000);
    const app = createApp({
      logger: createLogger('silent'),
      auth: new Authenticator(index),
      routes: outcomeRoutes({
        outcomes,
        servesFlag: (env, flag) => t.controller.state.servesFlag(env, flag),
        releaseActive: async () => false,
        now: () => clock,
      }),
      version: 'test',
      inFlight: { count: 0 },
    });
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await t?.stop();
  });

  it('counts records per flag, cohort and bucket, and sums them over windows', async () => {
    const increments = vi.spyOn(t.controller.store, 'incrementCounters');
    clock = T0 + 1_000;
    const first = report(
      { flag: 'checkout', cohort: 'treatment', requests: 100, errors: 2, latencyMs: { buckets: { '10': 50, '100': 40, '+Inf': 10 }, sum: 3000 } },
      { flag: 'checkout', cohort: 'control', requests: 80, errors: 1, latencyMs: { buckets: { '10': 60, '100': 20 }, sum: 1200 } },
      // Other spellings of the same bounds land in the same buckets.
      { flag: 'checkout', cohort: 'treatment', requests: 20, errors: 1, latencyMs: { buckets: { '10.0': 10, '1e2': 10 }, sum: 700 } },
      { flag: 'search', cohort: 'treatment', requests: 5, errors: 0 },
    );
    expect((await post(first, prod)).status).toBe(202);
    // Records of one flag are merged: one increment per flag, not per record.
    expect(increments).toHaveBeenCalledTimes(2);
    increments.mockRestore();

    clock = T0 + 9_999; // still the first bucket
    expect((await post(report({ flag: 'checkout', cohort: 'treatment', requests: 30, errors: 0 }), prod)).status).toBe(202);
    clock = T0 + 10_000; // the second bucket
    expect(
      (await post(report({ flag: 'checkout', cohort: 'control', requests: 10, errors: 5, latencyMs: { buckets: { '100': 10 }, sum: 600 } }), prod)).status,
    ).toBe(202);
    clock = T0 + 25_000; // the third bucket
    expect(
      (await post(report({ flag: 'checkout', cohort: 'treatment', requests: 50, errors: 10, latencyMs: { buckets: { '1000': 50 }, sum: 20000 } }), prod))
        .status,
    ).toBe(202);
    clock = T0 + 1_000;
    expect((await post(report({ flag: 'checkout', cohort: 'treatment', requests: 1000, errors: 1000 }), staging)).status).toBe(202);

    expect(await t.controller.store.readCounters(outcomeBucketKey('production', 'checkout', T0))).toEqual({
      'treatment\trequests': 150,
      'treatment\terrors': 3,
      'treatment\tlatsum': 3700,
      'treatment\tle\t10': 60,
      'treatment\tle\t100': 50,
      'treatment\tle\t+Inf': 10,
      'control\trequests': 80,
      'control\terrors': 1,
      'control\tlatsum': 1200,
      'control\tle\t10': 60,
      'control\tle\t100': 20,
    });

    const firstBucket = await outcomes.sum('production', 'checkout', T0, T0 + 10_000);
    expect(firstBucket.treatment).toEqual({ requests: 150, errors: 3, latencyBuckets: { '+10': 60, '+100': 50, '+Inf': 10 }, latencySumMs: 3700 });
    expect(firstBucket.control).toEqual({ requests: 80, errors: 1, latencyBuckets: { '+10': 60, '+100': 20 }, latencySumMs: 1200 });

    const all = await outcomes.sum('production', 'checkout', T0, T0 + 30_000);
    expect(all.treatment).toEqual({ requests: 200, errors: 13, latencyBuckets: { '+10': 60, '+100': 50, '+1000': 50, '+Inf': 10 }, latencySumMs: 23700 });
    expect(all.control).toEqual({ requests: 90, errors: 6, latencyBuckets: { '+10': 60, '+100': 30 }, latencySumMs: 1800 });

    // [from, to) in whole buckets: an unaligned from reads its whole bucket, to is exclusive.
    expect((await outcomes.sum('production', 'checkout', T0 + 5_000, T0 + 10_001)).control.requests).toBe(90);
    expect((await outcomes.sum('production', 'checkout', T0, T0 + 20_000)).treatment.requests).toBe(150);
    const second = await outcomes.sum('production', 'checkout', T0 + 10_000, T0 + 20_000);
    expect(second).toEqual({ ...emptyTotals(), control: { requests: 10, errors: 5, latencyBuckets: { '+100': 10 }, latencySumMs: 600 } });
    expect(await outcomes.sum('production', 'checkout', T0 + 30_000, T0 + 30_000)).toEqual(emptyTotals());

    // Figures over the whole window. Treatment: 10 ms: 60, 100 ms: 50, 1000 ms: 50, +Inf: 10 (170).
    expect(errorRate(all.treatment)).toBe(0.065); // 13 / 200
    expect(latencyMean(all.treatment)).toBeCloseTo(23700 / 170, 10);
    expect(latencyPercentile(all.treatment, 0.5)).toBeCloseTo(55, 10); // rank 85: 10 + 90 × 25/50
    expect(latencyPercentile(all.treatment, 0.9)).toBeCloseTo(874, 10); // rank 153: 100 + 900 × 43/50
    expect(latencyPercentile(all.treatment, 0.99)).toBe(1000); // rank 168.3 is in +Inf
    expect(latencyPercentile(all.control, 0.5)).toBeCloseTo(7.5, 10); // rank 45 of 90: 10 × 45/60

    // Other environments and flags are kept apart.
    expect((await outcomes.sum('staging', 'checkout', T0, T0 + 30_000)).treatment).toMatchObject({ requests: 1000, errors: 1000 });
    expect((await outcomes.sum('production', 'search', T0, T0 + 30_000)).treatment).toEqual({ requests: 5, errors: 0, latencyBuckets: {}, latencySumMs: 0 });
    expect(await outcomes.sum('production', 'unknown', T0, T0 + 30_000)).toEqual(emptyTotals());
  });

  it('keeps empty latency buckets, whose bounds are the lower bounds of the buckets after them', async () => {
    clock = T0;
    const body = report({ flag: 'empty-buckets', cohort: 'treatment', requests: 10, errors: 0, latencyMs: { buckets: { '50': 0, '100': 10 }, sum: 750 } });
    expect((await post(body, prod)).status).toBe(202);
    const sum = await outcomes.sum('production', 'empty-buckets', T0, T0 + 10_000);
    expect(sum.treatment.latencyBuckets).toEqual({ '+50': 0, '+100': 10 });
    // All ten requests took 50–100 ms: the median interpolates inside that bucket, not from 0.
    expect(latencyPercentile(sum.treatment, 0.5)).toBeCloseTo(75, 10);
  });

  it('needs a client token', async () => {
    const body = report({ flag: 'auth-check', cohort: 'treatment', requests: 1, errors: 0 });
    expect((await post(body)).status).toBe(401);
    expect((await post(body, 'not-a-token')).status).toBe(401);
    expect((await post(body, t.adminToken)).status).toBe(403);
    expect((await post(body, frontend)).status).toBe(403);
    expect(await outcomes.sum('production', 'auth-check', T0, T0 + 30_000)).toEqual(emptyTotals());
  });

  it('answers 400 naming the field, and stores nothing from a rejected report', async () => {
    clock = T0 + 1_000;
    const valid = { flag: 'rejected', cohort: 'treatment', requests: 10, errors: 1 };
    const tooManyErrors = await post(report(valid, valid, { ...valid, errors: 11 }), prod);
    expect(tooManyErrors.status).toBe(400);
    expect(tooManyErrors.body.error).toBe('validation_failed');
    expect(tooManyErrors.body.message).toContain('records[2].errors');

    const badBound = await post(report(valid, { ...valid, latencyMs: { buckets: { '10': 1, fast: 2 }, sum: 5 } }), prod);
    expect(badBound.status).toBe(400);
    expect(badBound.body.message).toContain('records[1].latencyMs.buckets.fast');
    for (const bound of ['0', '-5', '0x10', 'Infinity', ' 5']) {
      const res = await post(report({ ...valid, latencyMs: { buckets: { [bound]: 1 }, sum: 5 } }), prod);
      expect(res.status, bound).toBe(400);
    }

    expect((await post(report({ ...valid, cohort: 'canary' }), prod)).body.message).toContain('records[0].cohort');
    expect((await post(report({ ...valid, flag: 'no spaces' }), prod)).body.message).toContain('records[0].flag');
    expect((await post(report({ ...valid, requests: 1.5 }), prod)).body.message).toContain('records[0].requests');
    expect((await post({ appName: 'shop', records: Array.from({ length: 1001 }, () => valid) }, prod)).status).toBe(400);

    expect(await t.controller.store.readCounters(outcomeBucketKey('production', 'rejected', T0))).toEqual({});
    expect(await outcomes.sum('production', 'rejected', T0, T0 + 30_000)).toEqual(emptyTotals());
  });

  it('keeps the users of a record in the sample of its flag, cohort and the bucket its report began in', async () => {
    clock = T0 + 125_000;
    const hash = (n: number) => n.toString(16).padStart(12, '0');
    const base = { flag: 'user-flag', requests: 10, errors: 0 };
    expect(
      (
        await post(
          {
            appName: 'shop',
            start: T0 + 101_000,
            records: [
              { ...base, cohort: 'treatment', users: [hash(3), hash(1)] },
              { ...base, cohort: 'control', users: [hash(2)] },
              // The same flag and cohort again: one sample.
              { ...base, cohort: 'treatment', users: [hash(1), hash(9)] },
            ],
          },
          prod,
        )
      ).status,
    ).toBe(202);
    // No start: from its arrival. A start from long ago or from the future: kept within the last ten minutes.
    expect((await post({ appName: 'shop', records: [{ ...base, cohort: 'treatment', users: [hash(4)] }] }, prod)).status).toBe(202);
    expect((await post({ appName: 'shop', start: T0, records: [{ ...base, cohort: 'treatment', users: [hash(5)] }] }, prod)).status).toBe(202);
    expect((await post({ appName: 'shop', start: T0 + 999_000, records: [{ ...base, cohort: 'treatment', users: [hash(6)] }] }, prod)).status).toBe(202);
    const store = t.controller.store;
    const sample = (cohort: 'treatment' | 'control', at: number) => userSampleKey('production', 'user-flag', cohort, at);
    expect(await store.readSamples([[sample('treatment', T0 + 100_000)], [sample('control', T0 + 100_000)], [sample('treatment', T0 + 120_000)]], 10)).toEqual([
      [hash(1), hash(3), hash(9)],
      [hash(2)],
      [hash(4), hash(6)],
    ]);
    // A start within the last ten minutes keeps its own bucket; one from longer ago counts from ten minutes back.
    expect(await store.readSamples([[sample('treatment', T0)]], 10)).toEqual([[hash(5)]]);
    clock = T0 + 1_000_000;
    expect((await post({ appName: 'shop', start: T0, records: [{ ...base, cohort: 'treatment', users: [hash(7)] }] }, prod)).status).toBe(202);
    expect(await store.readSamples([[sample('treatment', T0 + 400_000)]], 10)).toEqual([[hash(7)]]);
  });

  it('refuses users that are not sample hashes, or too many of them, naming where', async () => {
    clock = T0 + 2_000;
    const valid = { flag: 'bad-users', cohort: 'treatment', requests: 1, errors: 0 };
    const hash = (n: number) => n.toString(16).padStart(12, '0');
    const raw = await post(report({ ...valid, users: [hash(1), 'alice@example.com'] }), prod);
    expect(raw.status).toBe(400);
    expect(raw.body.message).toContain('records[0].users[1]');
    expect(raw.body.message).toContain('12 lowercase hex digits');
    expect((await post(report({ ...valid, users: Array.from({ length: 1025 }, (_, i) => hash(i)) }), prod)).body.message).toContain('records[0].users');
    const many = Array.from({ length: 21 }, (_, r) => ({ ...valid, users: Array.from({ length: 1000 }, (_, i) => hash(r * 1000 + i)) }));
    const tooMany = await post(report(...many), prod);
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toContain('at most 20000 users');
    expect((await post({ appName: 'shop', start: -5, records: [] }, prod)).body.message).toContain('start');
    expect(await t.controller.store.readSamples([[userSampleKey('production', 'bad-users', 'treatment', T0)]], 10)).toEqual([[]]);
  });

  it('accepts an empty report and documents the body schema', async () => {
    expect((await post(report(), prod)).status).toBe(202);
    const doc = await (await fetch(`${base}/api/openapi.json`)).json();
    const op = doc.paths['/api/metrics/outcomes'].post;
    expect(op.security).toEqual([{ clientToken: [] }]);
    expect(op.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/OutcomeReport');
    expect(doc.components.schemas.OutcomeReport.required).toEqual(['appName', 'records']);
  });
});
