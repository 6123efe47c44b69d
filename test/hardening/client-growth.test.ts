import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExposures } from '../../src/metrics/exposures.js';
import { StoreOutcomeSource } from '../../src/metrics/outcomes.js';
import { startTestController, type TestController } from '../support/controller.js';

/**
 * Issue 13, defect 3: a client token could grow the store without bound: application names of
 * any length kept for a week, metrics for any number of made-up flags kept for two days. Now every
 * field an SDK sends is bounded, only flags that exist are counted, distinct application names per
 * environment and day are capped, and so are streams per token and per replica.
 */
describe('a client token cannot grow the store or a replica without bound (issue 13: client growth)', () => {
  let t: TestController;
  let client: string;
  const day = () => new Date().toISOString().slice(0, 10);
  const registrations = () => t.controller.store.readCounters(`registrations:production:${day()}`);

  beforeAll(async () => {
    t = await startTestController({ env: { CLIENT_APPS_PER_ENVIRONMENT: '3', STREAMS_PER_TOKEN: '2', STREAMS_PER_REPLICA: '3' } });
    client = await t.token({ kind: 'client', environment: 'production' });
    expect((await t.api('PUT', '/api/admin/flags/known', { environments: { production: { enabled: true } } })).status).toBe(201);
  });
  afterAll(() => t.stop());

  it('bounds the fields of a registration, naming the field', async () => {
    const long = await t.api('POST', '/api/client/register', { appName: 'a'.repeat(201) }, client);
    expect(long.status).toBe(400);
    expect(long.body.details.issues[0].path).toBe('appName');
    for (const field of ['instanceId', 'sdkVersion', 'started'] as const) {
      const res = await t.api('POST', '/api/client/register', { appName: 'shop', [field]: 'x'.repeat(1_000) }, client);
      expect(res.status, field).toBe(400);
      expect(res.body.details.issues[0].path, field).toBe(field);
    }
    const strategy = await t.api('POST', '/api/client/register', { appName: 'shop', strategies: ['s'.repeat(101)] }, client);
    expect(strategy.body.details.issues[0].path).toBe('strategies[0]');
    // A 5 MB name does not even get read: it is over the client API's body limit.
    expect((await t.api('POST', '/api/client/register', { appName: 'a'.repeat(5_000_000) }, client)).status).toBe(413);
    expect(Object.keys(await registrations())).toEqual([]);
  });

  it('records at most CLIENT_APPS_PER_ENVIRONMENT application names a day, then 429 with Retry-After until midnight UTC', async () => {
    for (const app of ['one', 'two', 'three']) expect((await t.api('POST', '/api/client/register', { appName: app }, client)).status).toBe(202);
    const fourth = await t.api('POST', '/api/client/register', { appName: 'four' }, client);
    expect(fourth.status).toBe(429);
    expect(fourth.body.error).toBe('too_many_applications');
    const retryAfter = Number(fourth.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(24 * 3600);
    // Names already seen today are still counted.
    expect((await t.api('POST', '/api/client/register', { appName: 'one' }, client)).status).toBe(202);
    expect(await registrations()).toEqual({ one: 2, two: 1, three: 1 });
  });

  it('counts metrics only for flags that exist, and bounds names and counts', async () => {
    const toggles = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`made-up-${i}`, { yes: 1, no: 1 }]));
    const res = await t.api('POST', '/api/client/metrics', { appName: 'shop', bucket: { toggles: { ...toggles, known: { yes: 3, no: 1 } } } }, client);
    expect(res.status).toBe(202);
    const now = Date.now();
    expect((await readExposures(t.controller.store, 'production', 'known', now - 120_000, now + 1)).yes).toBe(3);
    expect(await readExposures(t.controller.store, 'production', 'made-up-0', now - 120_000, now + 1)).toEqual({ yes: 0, no: 0, variants: {} });

    const tooMany = Object.fromEntries(Array.from({ length: 5_001 }, (_, i) => [`f${i}`, { yes: 1 }]));
    const many = await t.api('POST', '/api/client/metrics', { appName: 'shop', bucket: { toggles: tooMany } }, client);
    expect(many.status).toBe(400);
    expect(many.body.message).toBe('invalid body: bucket.toggles: at most 5000 flags');

    // A flag name as long as a held one may be (an import keeps Unleash's names) is reported; a longer one is refused.
    const heldName = await t.api('POST', '/api/client/metrics', { appName: 'shop', bucket: { toggles: { ['f'.repeat(1020)]: { yes: 1 } } } }, client);
    expect(heldName.status).toBe(202);
    const longName = await t.api('POST', '/api/client/metrics', { appName: 'shop', bucket: { toggles: { ['f'.repeat(1021)]: { yes: 1 } } } }, client);
    expect(longName.status).toBe(400);
    const variants = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`v${i}`, 1]));
    const manyVariants = await t.api('POST', '/api/client/metrics', { appName: 'shop', bucket: { toggles: { known: { yes: 1, variants } } } }, client);
    expect(manyVariants.body.message).toBe('invalid body: bucket.toggles.known.variants: at most 100 variants');
    expect((await t.api('POST', '/api/client/metrics', { appName: 'a'.repeat(201), bucket: { toggles: {} } }, client)).status).toBe(400);
  });

  it('keeps outcome reports only for flags that exist', async () => {
    const records = [
      { flag: 'known', cohort: 'treatment', requests: 7, errors: 1 },
      { flag: 'made-up', cohort: 'treatment', requests: 5, errors: 0 },
    ];
    expect((await t.api('POST', '/api/metrics/outcomes', { appName: 'shop', records }, client)).status).toBe(202);
    const outcomes = new StoreOutcomeSource(t.controller.store);
    const now = Date.now();
    expect((await outcomes.sum('production', 'known', now - 60_000, now + 60_000)).treatment.requests).toBe(7);
    expect((await outcomes.sum('production', 'made-up', now - 60_000, now + 60_000)).treatment.requests).toBe(0);
  });

  it('opens at most STREAMS_PER_TOKEN streams per token and STREAMS_PER_REPLICA in all, then 429 with Retry-After', async () => {
    const open = (secret: string) => fetch(`${t.url}/api/client/streaming`, { headers: { Authorization: secret } });
    const first = [await open(client), await open(client)];
    expect(first.map((r) => r.status)).toEqual([200, 200]);
    const third = await open(client);
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('30');
    expect((await third.json()).message).toContain('STREAMS_PER_TOKEN');

    const other = await t.token({ kind: 'client', environment: 'production' });
    const otherFirst = await open(other);
    expect(otherFirst.status).toBe(200);
    const overReplica = await open(other);
    expect(overReplica.status).toBe(429);
    expect((await overReplica.json()).message).toContain('STREAMS_PER_REPLICA');

    // A closed stream frees its place.
    await first[0]!.body!.cancel();
    const deadline = Date.now() + 2_000;
    let again = await open(client);
    while (again.status !== 200 && Date.now() < deadline) {
      await again.body?.cancel();
      await new Promise((r) => setTimeout(r, 50));
      again = await open(client);
    }
    expect(again.status).toBe(200);
    for (const res of [first[1]!, otherFirst, again]) await res.body!.cancel();
  });
});
