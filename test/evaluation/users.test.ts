import { createRequire } from 'node:module';
import type * as SdkUtil from 'unleash-client/lib/strategy/util.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { USER_SAMPLE_BUCKET_MS, USER_SAMPLE_SIZE, userSampleBucket, userSampleKey } from '../../src/metrics/user-sample.js';
import { userSampleHash } from '../../src/rollouts/unit-bucket.js';
import { startTestController, type TestController } from '../support/controller.js';
import { quickPolicy } from '../support/fast-rollout.js';

const require = createRequire(import.meta.url);
const { normalizedStrategyValue } = require('unleash-client/lib/strategy/util.js') as typeof SdkUtil;

/**
 * Server-side evaluation counts users, not only evaluations: the frontend API and OFREP see each
 * context, so every user they evaluate a flag under a rollout for lands, by sample hash of the
 * flag's stickiness value, in the sample of the cohort they were served, with no help from the
 * application. Flags no rollout is moving have no sample (nothing reads one), split or not.
 */
describe('users of the frontend API and OFREP', () => {
  let t: TestController;
  let frontend: string;
  let client: string;
  let rolloutId: string;

  beforeAll(async () => {
    t = await startTestController({ env: { EXPOSURE_FLUSH_MS: '100', ROLLOUT_TICK_MS: '50' } });
    frontend = await t.token({ kind: 'frontend', environment: 'production' });
    client = await t.token({ kind: 'client', environment: 'production' });
    const rollout = { name: 'flexibleRollout', parameters: { rollout: '50', stickiness: 'default', groupId: 'half' }, constraints: [] };
    expect((await t.api('PUT', '/api/admin/flags/half-flag', { environments: { production: { enabled: true, strategies: [rollout] } } })).status).toBe(201);
    // A rollout holds half-flag at 50 % for the test's length.
    expect(
      (
        await t.api('PUT', '/api/admin/policies/half', {
          ...quickPolicy('half', [50, 100]),
          stepDefaults: { minDuration: '1h', minSamples: 0, approval: { required: 0 } },
        })
      ).status,
    ).toBe(201);
    const started = await t.api('POST', '/api/admin/rollouts', { flag: 'half-flag', environment: 'production', policy: 'half' });
    expect(started.status).toBe(201);
    rolloutId = started.body.id;
    // The same split with no rollout moving it.
    expect(
      (
        await t.api('PUT', '/api/admin/flags/unwatched-flag', {
          environments: { production: { enabled: true, strategies: [{ ...rollout, parameters: { ...rollout.parameters, groupId: 'unwatched' } }] } },
        })
      ).status,
    ).toBe(201);
    // A plain on/off flag is not split by users: none are counted for it.
    expect(
      (await t.api('PUT', '/api/admin/flags/plain-flag', { environments: { production: { enabled: true, strategies: [{ name: 'default' }] } } })).status,
    ).toBe(201);
  });
  afterAll(async () => {
    await t?.stop();
  });

  const samples = async (flag: string, cohort: 'treatment' | 'control') => {
    const now = Date.now();
    const keys = Array.from({ length: 7 }, (_, i) => userSampleKey('production', flag, cohort, userSampleBucket(now - i * USER_SAMPLE_BUCKET_MS)));
    return (await t.controller.store.readSamples([keys], USER_SAMPLE_SIZE))[0]!;
  };

  it('counts each user once, in the cohort they were served, however often and through whichever route', async () => {
    await expect.poll(async () => (await t.api('GET', `/api/admin/rollouts/${rolloutId}`)).body.percentage, { timeout: 5_000 }).toBe(50);
    const users = Array.from({ length: 30 }, (_, i) => `visitor-${i}`);
    for (const userId of users) {
      for (let n = 0; n < 3; n++) {
        const res = await fetch(`${t.url}/api/frontend?userId=${userId}`, { headers: { Authorization: frontend } });
        expect(res.status).toBe(200);
      }
      const ofrep = await fetch(`${t.url}/ofrep/v1/evaluate/flags/half-flag`, {
        method: 'POST',
        headers: { Authorization: client, 'Content-Type': 'application/json' },
        body: JSON.stringify({ context: { targetingKey: userId } }),
      });
      expect(ofrep.status).toBe(200);
    }
    // Anonymous visitors have no stickiness value: nobody to count.
    expect((await fetch(`${t.url}/api/frontend`, { headers: { Authorization: frontend } })).status).toBe(200);
    const treated = users.filter((u) => normalizedStrategyValue(u, 'half') <= 50);
    const hashes = (list: string[]) => list.map(userSampleHash).sort();
    // Written every 100 ms here: wait for the last of it.
    await expect
      .poll(async () => [await samples('half-flag', 'treatment'), await samples('half-flag', 'control')], { timeout: 5_000 })
      .toEqual([hashes(treated), hashes(users.filter((u) => !treated.includes(u)))]);
    expect(await samples('plain-flag', 'treatment')).toEqual([]);
    expect([await samples('unwatched-flag', 'treatment'), await samples('unwatched-flag', 'control')]).toEqual([[], []]);
  });
});
