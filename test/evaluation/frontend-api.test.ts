import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Context } from 'unleash-client';
import { InMemoryStorageProvider, UnleashClient as ProxyClient, type IMutableContext } from 'unleash-proxy-client';
import { readExposures } from '../../src/metrics/exposures.js';
import { generateContexts } from '../sdk/fixtures.js';
import { APP_NAME, destroyAllSdks, startReferenceSdk, type TrackedSdk } from '../sdk/sdk-helpers.js';
import {
  asReferenceSees,
  expectedEvaluation,
  expectedToggles,
  post,
  servedToggles,
  startWithFixture,
  wireContext,
  type EvaluationController,
} from './support.js';

/**
 * The frontend API against a controller on real Redis, through raw HTTP and through the stock
 * browser SDK (unleash-proxy-client, running in Node with fetch and an in-memory storage provider).
 */

let c: EvaluationController;
let reference: TrackedSdk;
const contexts = generateContexts(40).map(asReferenceSees);
/** The request's own address: what the server puts in the context when the context has none. */
const LOCAL = '127.0.0.1';

beforeAll(async () => {
  c = await startWithFixture();
  reference = await startReferenceSdk(c.fixture);
});
afterAll(async () => {
  destroyAllSdks();
  await c?.t.stop();
});

/** The request's address stands in for a context without one. */
const withLocal = (context: Context) => ({ ...context, remoteAddress: context.remoteAddress ?? LOCAL });
const flagNames = () => c.fixture.features.map((f) => f.name);

function queryOf(context: Context): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(wireContext(context))) {
    if (key === 'properties') for (const [p, v] of Object.entries(value as Record<string, string>)) params.append(`properties[${p}]`, v);
    else params.append(key, String(value));
  }
  return params.toString();
}

const getRaw = async (query: string, secret = c.frontendSecret, headers: Record<string, string> = {}) => {
  const res = await fetch(`${c.t.url}/api/frontend?${query}`, { headers: { Authorization: secret, ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
};
const get = (query: string, secret = c.frontendSecret) => getRaw(query, secret);

describe('answers', () => {
  it('GET (query string) and POST (body) return exactly the flags the stock SDK has on, with its variants', async () => {
    const mismatches: string[] = [];
    let toggles = 0;
    for (const [i, context] of contexts.entries()) {
      const expected = expectedToggles(reference.sdk, flagNames(), withLocal(context));
      toggles += expected.length;
      const viaGet = await get(queryOf(context));
      const viaPost = await post(c.t, '/api/frontend', { context: wireContext(context) }, c.frontendSecret);
      for (const [how, res] of [
        ['GET', viaGet],
        ['POST', viaPost],
      ] as const) {
        expect(res.status, how).toBe(200);
        if (!isDeepStrictEqual(servedToggles(res.body.toggles), expected))
          mismatches.push(`ctx#${i} ${how}: ${JSON.stringify(servedToggles(res.body.toggles)).slice(0, 300)}`);
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(toggles).toBeGreaterThan(contexts.length * 10);
  });

  it('returns only enabled flags, each with impressionData and cohort treatment', async () => {
    const res = await post(c.t, '/api/frontend', { context: { userId: 'u1', sessionId: 's', appName: APP_NAME } }, c.frontendSecret);
    const names = res.body.toggles.map((t: { name: string }) => t.name);
    expect(names).toContain('st-default');
    expect(names).not.toContain('st-disabled');
    expect(names).not.toContain('dep-parent-off');
    expect(res.body.toggles.find((t: { name: string }) => t.name === 'st-default')).toMatchObject({ enabled: true, impressionData: true, cohort: 'treatment' });
    expect(new Set(res.body.toggles.map((t: { cohort: string }) => t.cohort))).toEqual(new Set(['treatment']));
  });

  it('takes remoteAddress from the request unless the context names one; unknown top-level fields are properties', async () => {
    const local = await c.t.api('PUT', '/api/admin/flags/local-callers', {
      name: 'local-callers',
      environments: { production: { enabled: true, strategies: [{ name: 'remoteAddress', parameters: { IPs: LOCAL } }] } },
    });
    expect(local.status, JSON.stringify(local.body)).toBeLessThan(300);
    const has = (res: { body: { toggles: Array<{ name: string }> } }, name: string) => res.body.toggles.some((t) => t.name === name);
    expect(has(await get('sessionId=a'), 'local-callers')).toBe(true);
    expect(has(await get('sessionId=a&remoteAddress=10.9.9.9'), 'local-callers')).toBe(false);
    expect(has(await get('sessionId=a&plan=pro'), 'seg-paying')).toBe(true);
    expect(has(await get('sessionId=a&properties[plan]=pro'), 'seg-paying')).toBe(true);
    expect(has(await get('sessionId=a&plan=free'), 'seg-paying')).toBe(false);
  });
});

describe('ETag', () => {
  it('is the hash of the answer: 304 for the same answer, 200 when the context or the flags change it', async () => {
    // Every stickiness the fixture uses is present (a missing "tenant" would make var-sticky-tenant random, as in the SDK).
    const get = (query: string, secret: string, headers: Record<string, string> = {}) => getRaw(`${query}&properties[tenant]=t1`, secret, headers);
    const first = await get('userId=u1&sessionId=s1', c.frontendSecret);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await get('userId=u1&sessionId=s1', c.frontendSecret, { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBeUndefined();
    const other = await get('userId=u42&sessionId=s1', c.frontendSecret, { 'If-None-Match': etag });
    expect(other.status).toBe(200);
    expect(other.headers.get('etag')).not.toBe(etag);

    const kill = await c.t.api('POST', '/api/admin/flags/st-default/environments/production/kill', { reason: 'test' });
    expect(kill.status).toBe(200);
    const afterKill = await get('userId=u1&sessionId=s1', c.frontendSecret, { 'If-None-Match': etag });
    expect(afterKill.status).toBe(200);
    expect(afterKill.body.toggles.map((t: { name: string }) => t.name)).not.toContain('st-default');
    await c.t.api('POST', '/api/admin/flags/st-default/environments/production/restore', { reason: 'test' });
    expect((await get('userId=u1&sessionId=s1', c.frontendSecret, { 'If-None-Match': etag })).status).toBe(304);
  });
});

describe('refusals', () => {
  it('needs a frontend token: none 401, client or admin 403', async () => {
    expect((await get('', '')).status).toBe(401);
    expect((await get('', c.clientSecret)).status).toBe(403);
    expect((await get('', c.t.adminToken)).status).toBe(403);
    expect((await post(c.t, '/api/frontend', {}, c.clientSecret)).status).toBe(403);
  });

  it('a malformed context is a 400 that names the field', async () => {
    const cases: Array<[Promise<{ status: number; body: { message: string } }>, string]> = [
      [get('userId[]=a&userId[]=b'), 'userId'],
      [get('currentTime=yesterday'), 'currentTime'],
      [post(c.t, '/api/frontend', { context: { properties: { plan: { nested: true } } } }, c.frontendSecret), 'context.properties.plan'],
      [post(c.t, '/api/frontend', { context: { sessionId: 's', tier: ['a'] } }, c.frontendSecret), 'context.tier'],
      [post(c.t, '/api/frontend', { context: 'userId=u1' }, c.frontendSecret), 'context'],
    ];
    for (const [request, field] of cases) {
      const res = await request;
      expect(res.status, field).toBe(400);
      expect(res.body.message, field).toContain(field);
    }
  });

  it('bounds the body: more than 64 kB is 413', async () => {
    const res = await post(c.t, '/api/frontend', { context: { properties: { blob: 'x'.repeat(70_000) } } }, c.frontendSecret);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('body_too_large');
  });
});

describe('exposures', () => {
  it('every flag evaluated counts, in the same counters SDK metrics feed (yes, no and variants)', async () => {
    // Let what earlier tests counted reach the store first (the batcher flushes every 100 ms here).
    await new Promise((resolve) => setTimeout(resolve, 400));
    const from = Date.now() - 60_000;
    const before = await readExposures(c.t.controller.store, 'production', 'var-overrides', from, Date.now() + 60_000);
    const beforeOff = await readExposures(c.t.controller.store, 'production', 'st-disabled', from, Date.now() + 60_000);
    for (let i = 0; i < 5; i++) await post(c.t, '/api/frontend', { context: { userId: 'u1', sessionId: `s${i}` } }, c.frontendSecret);
    await expect
      .poll(async () => (await readExposures(c.t.controller.store, 'production', 'var-overrides', from, Date.now() + 60_000)).yes, { timeout: 5_000 })
      .toBe(before.yes + 5);
    const after = await readExposures(c.t.controller.store, 'production', 'var-overrides', from, Date.now() + 60_000);
    expect(after.variants.blue).toBe((before.variants.blue ?? 0) + 5);
    const off = await readExposures(c.t.controller.store, 'production', 'st-disabled', from, Date.now() + 60_000);
    expect(off.no).toBe(beforeOff.no + 5);
    expect(off.yes).toBe(0);
  });
});

describe('the stock browser SDK (unleash-proxy-client)', () => {
  const proxyContexts = contexts.slice(0, 12);
  const toMutable = (context: Context): IMutableContext => {
    const { appName: _a, environment: _e, ...rest } = wireContext(context);
    return rest as IMutableContext;
  };

  it.each([
    ['GET', false],
    ['POST', true],
  ] as const)('with %s requests: same isEnabled and getVariant as the stock server SDK', async (_how, usePOSTrequests) => {
    const client = new ProxyClient({
      url: `${c.t.url}/api/frontend`,
      clientKey: c.frontendSecret,
      appName: APP_NAME,
      // The browser SDK sends "default" unless told; the reference server SDK evaluates as production.
      environment: 'production',
      storageProvider: new InMemoryStorageProvider(),
      refreshInterval: 0,
      disableRefresh: true,
      metricsInterval: 1,
      usePOSTrequests,
      context: toMutable(proxyContexts[0]!),
    });
    const errors: unknown[] = [];
    client.on('error', (e: unknown) => errors.push(e));
    const ready = new Promise((resolve) => client.once('ready', resolve));
    await client.start();
    await ready;
    try {
      const mismatches: string[] = [];
      for (const [i, context] of proxyContexts.entries()) {
        await client.updateContext(toMutable(context));
        // The browser SDK's own appName and environment replace the context's.
        const seen = { ...context, appName: APP_NAME, environment: 'production', remoteAddress: context.remoteAddress ?? LOCAL };
        for (const flag of c.fixture.features.map((f) => f.name)) {
          const expected = expectedEvaluation(reference.sdk, flag, seen);
          const variant = client.getVariant(flag);
          if (client.isEnabled(flag) !== expected.enabled) mismatches.push(`${flag} ctx#${i}: isEnabled ${!expected.enabled}`);
          if (
            variant.name !== expected.variant.name ||
            variant.enabled !== expected.variant.enabled ||
            !isDeepStrictEqual(variant.payload, expected.variant.payload)
          ) {
            mismatches.push(`${flag} ctx#${i}: variant ${JSON.stringify(variant)} ≠ ${JSON.stringify(expected.variant)}`);
          }
        }
      }
      expect(mismatches.slice(0, 10)).toEqual([]);
      // Its metrics report is accepted (and not counted again: the server counted what it served).
      const metrics = await post(
        c.t,
        '/api/frontend/client/metrics',
        { appName: APP_NAME, bucket: { start: new Date().toISOString(), stop: new Date().toISOString(), toggles: {} } },
        c.frontendSecret,
      );
      expect(metrics.status).toBe(202);
      expect(errors).toEqual([]);
    } finally {
      client.stop();
    }
  });
});

describe('browsers on other origins', () => {
  it('preflights are answered, and answers (errors included) carry the CORS headers the SDK needs', async () => {
    for (const path of ['/api/frontend', '/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/st-default']) {
      const preflight = await fetch(`${c.t.url}${path}`, {
        method: 'OPTIONS',
        headers: {
          Origin: 'https://shop.example',
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization, content-type, if-none-match',
        },
      });
      expect(preflight.status, path).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/If-None-Match/);
    }
    const ok = await get('sessionId=a');
    expect(ok.headers.get('access-control-allow-origin')).toBe('*');
    expect(ok.headers.get('access-control-expose-headers')).toMatch(/ETag/);
    const refused = await get('sessionId=a', '');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    // Admin routes stay same-origin.
    const admin = await fetch(`${c.t.url}/api/admin/flags`, { headers: { Authorization: c.t.adminToken } });
    expect(admin.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('the API document', () => {
  it('describes the frontend API (context fields as query parameters) and OFREP (client or frontend token)', async () => {
    const doc = (await c.t.api('GET', '/api/openapi.json')).body;
    const get = doc.paths['/api/frontend'].get;
    expect(get.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['userId', 'sessionId', 'remoteAddress', 'properties']));
    expect(get.security).toEqual([{ frontendToken: [] }]);
    for (const path of ['/ofrep/v1/evaluate/flags', '/ofrep/v1/evaluate/flags/{key}']) {
      expect(doc.paths[path].post.security, path).toEqual([{ clientToken: [] }, { frontendToken: [] }]);
      expect(Object.keys(doc.paths[path].post.responses), path).toEqual(expect.arrayContaining(['200', '400', '429']));
    }
  });
});
