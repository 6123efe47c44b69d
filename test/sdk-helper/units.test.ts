import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { USER_SAMPLE_BUCKET_MS, USER_SAMPLE_SIZE, userSampleBucket, userSampleKey } from '../../src/metrics/user-sample.js';
import { bucketOf, userSampleHash } from '../../src/rollouts/unit-bucket.js';
import { closeAllClients, ENV, outcomeTotals, testClient, waitFor } from './helpers.js';

/**
 * The SDK helper counts every guarded call per hashed user bucket of the flag's stickiness value,
 * and reports each cohort's users by sample hash, with no change to the application's code: the
 * controller can then judge users, not requests, and count them for the sample-ratio check.
 */

describe('SDK helper: outcomes per hashed user', () => {
  let t: TestController;
  beforeAll(async () => {
    t = await startTestController();
    const flag = {
      environments: {
        [ENV]: {
          enabled: true,
          strategies: [{ name: 'flexibleRollout', parameters: { rollout: '100', stickiness: 'default', groupId: 'checkout-group' }, constraints: [] }],
        },
      },
    };
    expect((await t.api('PUT', '/api/admin/flags/unit-flag', flag)).status).toBe(201);
  });
  afterAll(async () => {
    await closeAllClients();
    await t.stop();
  });

  it('reports each call in the bucket of its user (the same hash the flag assigns users with); calls without a user only in the totals', async () => {
    const token = await t.token({ kind: 'client', environment: ENV });
    const { guard, errors } = testClient({ url: t.url, token });
    expect(await guard.ready(5_000)).toBe('controller');
    const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
    for (const [i, userId] of users.entries()) {
      // Each user makes i + 1 calls; bob's fail (the helper records the error and rethrows it).
      for (let n = 0; n <= i; n++) {
        try {
          guard.track('unit-flag', { userId }, () => {
            if (userId === 'bob') throw new Error('bob fails');
          });
        } catch {}
      }
    }
    guard.track('unit-flag', undefined, () => 'no user');
    await guard.flush();
    await waitFor(() => errors.length === 0, 'no reporting errors');
    const totals = await outcomeTotals(t, 'unit-flag');
    // 15 calls with a user and one without; bob's two calls failed.
    expect(totals.treatment).toMatchObject({ requests: 16, errors: 2 });
    const expected = new Array<number>(64).fill(0);
    users.forEach((u, i) => (expected[bucketOf(u, 'checkout-group')]! += i + 1));
    expect(totals.treatment.units!.requests).toEqual(expected);
    expect(totals.treatment.units!.errors[bucketOf('bob', 'checkout-group')]).toBe(2);
    // And each user once, by sample hash, in the treatment cohort's sample of users: what the sample-ratio check counts.
    const now = Date.now();
    const buckets = Array.from({ length: 13 }, (_, i) => userSampleKey(ENV, 'unit-flag', 'treatment', userSampleBucket(now - i * USER_SAMPLE_BUCKET_MS)));
    const [sample] = await t.controller.store.readSamples([buckets], USER_SAMPLE_SIZE);
    expect(sample).toEqual(users.map(userSampleHash).sort());
  });
});
