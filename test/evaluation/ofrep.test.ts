import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenFeature, type Client, type EvaluationContext, type EvaluationDetails, type JsonValue } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import type { Context } from 'unleash-client';
import { readExposures } from '../../src/metrics/exposures.js';
import { generateContexts } from '../sdk/fixtures.js';
import { APP_NAME, destroyAllSdks, startReferenceSdk, type TrackedSdk } from '../sdk/sdk-helpers.js';
import { asReferenceSees, expectedOfrep, post, startWithFixture, type EvaluationController } from './support.js';

/**
 * OFREP against a controller on real Redis, through the stock OpenFeature server SDK with its OFREP
 * provider, and through raw HTTP for what the provider does not show (bulk, ETag, statuses).
 */

let c: EvaluationController;
let reference: TrackedSdk;
let openFeature: Client;
const contexts = generateContexts(20).map(asReferenceSees);

beforeAll(async () => {
  c = await startWithFixture();
  reference = await startReferenceSdk(c.fixture);
  await OpenFeature.setProviderAndWait('ofrep-test', new OFREPProvider({ baseUrl: c.t.url, headers: [['Authorization', c.clientSecret]] }));
  openFeature = OpenFeature.getClient('ofrep-test');
});
afterAll(async () => {
  destroyAllSdks();
  await OpenFeature.close();
  await c?.t.stop();
});

/** An Unleash context as an OpenFeature app would write it: userId is the targeting key, properties are attributes. */
function toOpenFeature(context: Context): EvaluationContext {
  const { userId, properties, ...rest } = context;
  return { ...(userId ? { targetingKey: userId } : {}), ...(rest as EvaluationContext), ...(properties as EvaluationContext) };
}

/** Calls the typed getter that fits the expected value, as an application that knows its flag would. */
function details(flag: string, value: JsonValue, context: EvaluationContext): Promise<EvaluationDetails<JsonValue>> {
  switch (typeof value) {
    case 'boolean':
      return openFeature.getBooleanDetails(flag, !value, context);
    case 'string':
      return openFeature.getStringDetails(flag, '(code default)', context);
    case 'number':
      return openFeature.getNumberDetails(flag, -1, context);
    default:
      return openFeature.getObjectDetails(flag, {}, context);
  }
}

describe('through the OpenFeature server SDK and its OFREP provider', () => {
  it('every flag for every context: the stock SDK’s answer, variant and cohort, with an OpenFeature reason', async () => {
    const mismatches: string[] = [];
    const reasons = new Set<string>();
    const types = new Set<string>();
    for (const [i, context] of contexts.entries()) {
      for (const flag of c.fixture.features.map((f) => f.name)) {
        const expected = expectedOfrep(reference.sdk, flag, context);
        const got = await details(flag, expected.value, toOpenFeature(context));
        types.add(typeof got.value);
        reasons.add(String(got.reason));
        const actual = { value: got.value, variant: got.variant, cohort: got.flagMetadata.cohort };
        if (got.errorCode || JSON.stringify(actual) !== JSON.stringify(expected))
          mismatches.push(`${flag} ctx#${i}: ${JSON.stringify({ ...actual, error: got.errorCode })} ≠ ${JSON.stringify(expected)}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    expect([...types].sort()).toEqual(['boolean', 'number', 'object', 'string']);
    expect([...reasons].sort()).toEqual(['DEFAULT', 'DISABLED', 'SPLIT', 'STATIC', 'TARGETING_MATCH']);
  });

  it('FLAG_NOT_FOUND, TARGETING_KEY_MISSING and INVALID_CONTEXT reach the application as OpenFeature errors, with the code default', async () => {
    const missing = await openFeature.getBooleanDetails('no-such-flag', true, { targetingKey: 'u1' });
    expect(missing).toMatchObject({ value: true, errorCode: 'FLAG_NOT_FOUND', reason: 'ERROR' });
    // A percentage split needs something to stick to; a flag that is on for everyone does not.
    const noKey = await openFeature.getBooleanDetails('st-flex-default', true, {});
    expect(noKey).toMatchObject({ value: true, errorCode: 'TARGETING_KEY_MISSING', reason: 'ERROR' });
    expect(await openFeature.getBooleanDetails('st-default', false, {})).toMatchObject({ value: true, reason: 'STATIC' });
    const withSession = await openFeature.getBooleanDetails('st-flex-default', false, { sessionId: 'only-a-session' });
    expect(withSession.errorCode).toBeUndefined();
    expect(withSession.reason).toBe(withSession.value ? 'SPLIT' : 'DEFAULT');
    const nested = await openFeature.getBooleanDetails('st-default', false, { targetingKey: 'u1', plan: { tier: 'pro' } });
    expect(nested).toMatchObject({ value: false, errorCode: 'INVALID_CONTEXT' });
    expect(nested.errorMessage).toContain('context.plan');
  });

  it('the cohort in the metadata is what outcomes are reported under', async () => {
    const result = await openFeature.getBooleanDetails('st-flex-userid', false, { targetingKey: 'u7' });
    const cohort = result.flagMetadata.cohort;
    expect(cohort).toBe(result.value ? 'treatment' : 'control');
    const reported = await post(
      c.t,
      '/api/metrics/outcomes',
      { appName: APP_NAME, records: [{ flag: 'st-flex-userid', cohort, requests: 1, errors: 0 }] },
      c.clientSecret,
    );
    expect(reported.status).toBe(202);
  });
});

describe('raw protocol', () => {
  const bulk = (context: unknown, secret = c.clientSecret, headers: Record<string, string> = {}) =>
    post(c.t, '/ofrep/v1/evaluate/flags', { context }, secret, headers);
  const fullContext = { targetingKey: 'u1', sessionId: 's1', tenant: 't1', appName: APP_NAME };

  it('bulk: one entry per flag, each equal to the single-flag answer', async () => {
    const res = await bulk(fullContext);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body.flags.map((f: { key: string }) => f.key)).toEqual(c.fixture.features.map((f) => f.name).sort());
    for (const entry of res.body.flags.slice(0, 30)) {
      const single = await post(c.t, `/ofrep/v1/evaluate/flags/${entry.key}`, { context: fullContext }, c.frontendSecret);
      expect(single.status).toBe(200);
      expect(single.body, entry.key).toEqual(entry);
    }
  });

  it('bulk without a targeting key: splitting flags are TARGETING_KEY_MISSING entries, the rest are answered', async () => {
    const res = await bulk({ plan: 'pro' });
    const byKey = new Map(res.body.flags.map((f: { key: string }) => [f.key, f]));
    expect(byKey.get('st-flex-default')).toMatchObject({ errorCode: 'TARGETING_KEY_MISSING' });
    expect(byKey.get('seg-paying')).toMatchObject({ value: true, reason: 'TARGETING_MATCH', metadata: { cohort: 'treatment' } });
  });

  it('bulk: ETag and 304, a new ETag when a flag changes', async () => {
    const first = await bulk(fullContext);
    const etag = first.headers.get('etag')!;
    expect(etag).toBeTruthy();
    const same = await bulk(fullContext, c.clientSecret, { 'If-None-Match': etag });
    expect(same.status).toBe(304);
    expect((await bulk({ ...fullContext, targetingKey: 'u2' }, c.clientSecret, { 'If-None-Match': etag })).status).toBe(200);
    await c.t.api('POST', '/api/admin/flags/st-default/environments/production/kill', { reason: 'ofrep test' });
    const changed = await bulk(fullContext, c.clientSecret, { 'If-None-Match': etag });
    expect(changed.status).toBe(200);
    expect(changed.body.flags.find((f: { key: string }) => f.key === 'st-default')).toMatchObject({
      value: false,
      reason: 'DISABLED',
      metadata: { cohort: 'control' },
    });
    await c.t.api('POST', '/api/admin/flags/st-default/environments/production/restore', { reason: 'ofrep test' });
  });

  it('statuses: 404 FLAG_NOT_FOUND, 400 INVALID_CONTEXT naming the field, 401 without a token, 403 for admin tokens, 413 for big bodies', async () => {
    expect(await post(c.t, '/ofrep/v1/evaluate/flags/nope', { context: {} }, c.clientSecret)).toMatchObject({
      status: 404,
      body: { key: 'nope', errorCode: 'FLAG_NOT_FOUND' },
    });
    const invalid = await post(c.t, '/ofrep/v1/evaluate/flags/st-default', { context: { targetingKey: 7 } }, c.clientSecret);
    expect(invalid).toMatchObject({ status: 400, body: { key: 'st-default', errorCode: 'INVALID_CONTEXT' } });
    expect(invalid.body.errorDetails).toContain('context.targetingKey');
    const badTime = await bulk({ targetingKey: 'u', currentTime: 'soon' });
    expect(badTime).toMatchObject({ status: 400, body: { errorCode: 'INVALID_CONTEXT' } });
    expect(badTime.body.errorDetails).toContain('context.currentTime');
    expect((await bulk({}, '')).status).toBe(401);
    expect((await bulk({}, c.t.adminToken)).status).toBe(403);
    expect((await bulk({}, c.frontendSecret)).status).toBe(200);
    const byApiKey = await fetch(`${c.t.url}/ofrep/v1/evaluate/flags/st-default`, {
      method: 'POST',
      headers: { 'X-API-Key': c.clientSecret, 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(byApiKey.status).toBe(200);
    const adminByApiKey = await fetch(`${c.t.url}/api/admin/flags`, { headers: { 'X-API-Key': c.t.adminToken } });
    expect(adminByApiKey.status).toBe(401);
    expect((await bulk({ targetingKey: 'x'.repeat(70_000) })).status).toBe(413);
  });

  it('single evaluations count as exposures', async () => {
    await new Promise((resolve) => setTimeout(resolve, 400));
    const read = () => readExposures(c.t.controller.store, 'production', 'st-user-with-id', Date.now() - 120_000, Date.now() + 60_000);
    const before = await read();
    for (const user of ['u1', 'u2', 'u3']) await post(c.t, '/ofrep/v1/evaluate/flags/st-user-with-id', { context: { targetingKey: user } }, c.clientSecret);
    await expect.poll(async () => (await read()).yes + (await read()).no, { timeout: 5_000 }).toBe(before.yes + before.no + 3);
    expect((await read()).yes).toBe(before.yes + 2);
  });
});

describe('rate limits', () => {
  let limited: EvaluationController;
  beforeAll(async () => {
    limited = await startWithFixture({ EVALUATION_RATE_LIMIT: '1' });
  });
  afterAll(async () => {
    await limited?.t.stop();
  });

  it('per token: past the burst, 429 with Retry-After on OFREP and the frontend API; other tokens unaffected', async () => {
    const call = (secret: string) => post(limited.t, '/ofrep/v1/evaluate/flags/st-default', { context: {} }, secret);
    expect((await call(limited.clientSecret)).status).toBe(200);
    expect((await call(limited.clientSecret)).status).toBe(200);
    const refused = await call(limited.clientSecret);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await call(limited.frontendSecret)).status).toBe(200);
    await post(limited.t, '/api/frontend', {}, limited.frontendSecret);
    const frontend = await post(limited.t, '/api/frontend', {}, limited.frontendSecret);
    expect(frontend.status).toBe(429);
    expect(frontend.headers.get('retry-after')).toBe('1');

    // The OFREP provider turns a 429 into an error for the application and the code default.
    await OpenFeature.setProviderAndWait('ofrep-limited', new OFREPProvider({ baseUrl: limited.t.url, headers: [['Authorization', limited.clientSecret]] }));
    const result = await OpenFeature.getClient('ofrep-limited').getBooleanDetails('st-default', false, {});
    expect(result).toMatchObject({ value: false, reason: 'ERROR', errorCode: 'GENERAL' });
  });
});
