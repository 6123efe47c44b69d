import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { c, s, type FixtureStrategy, type FixtureVariant } from './fixtures.js';
import { SDK_MODES, clientGet, destroyAllSdks, startLiveSdk, unchangedPolls, until, waitForEvent, type TrackedSdk } from './sdk-helpers.js';

/**
 * Live: a stock SDK in each fetch mode sees every kind of admin change (PUT, kill/restore, import,
 * segment change, delete), and the HTTP caching contracts the SDKs rely on (ETag/304, delta) hold.
 */

const SPEC = { 'Unleash-Client-Spec': '5.2.0' };
const PRO = { userId: 'u1', sessionId: 's1', properties: { plan: 'pro' } };
const FREE = { userId: 'u2', sessionId: 's2', properties: { plan: 'free' } };

function definition(enabled: boolean, strategies: FixtureStrategy[], variants: FixtureVariant[] = []) {
  return { environments: { production: { enabled, strategies, variants } } };
}

async function admin(t: TestController, method: string, route: string, body?: unknown) {
  const res = await t.api(method, route, body);
  expect(res.status, `${method} ${route}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res;
}

function importPayload(features: unknown[], segments: unknown[]) {
  return { version: 2, features, segments };
}

function liveFeature(name: string, strategies: FixtureStrategy[]) {
  return { name, type: 'release', project: 'default', enabled: true, stale: false, impressionData: false, strategies, variants: [] };
}

describe.each(SDK_MODES)('a stock SDK in %s mode', (mode) => {
  let t: TestController;
  let live: TrackedSdk;
  // Streaming must not need polling: a one-minute poll interval cannot explain a sub-second update.
  const refreshInterval = mode === 'streaming' ? 60_000 : 150;
  const timeout = mode === 'streaming' ? 2_000 : 5_000;
  const sees = (predicate: () => boolean, label: string) => until(live.sdk, predicate, `${mode}: ${label}`, timeout);

  beforeAll(async () => {
    t = await startTestController({ env: { STREAM_HEARTBEAT_MS: '200' } });
    const secret = await t.token({ kind: 'client', environment: 'production' });
    await admin(t, 'PUT', '/api/admin/flags/live-base', definition(true, [s('default')]));
    live = await startLiveSdk(t, secret, mode, { refreshInterval, disableMetrics: false });
  });

  afterAll(async () => {
    destroyAllSdks();
    await t?.stop();
  });

  it('starts with the server’s flags, and nothing changes while nothing changes', async () => {
    expect(live.sdk.isEnabled('live-base', PRO)).toBe(true);
    let changes = 0;
    const count = () => changes++;
    live.sdk.on('changed', count);
    if (mode === 'streaming')
      await new Promise((r) => setTimeout(r, 700)); // a few heartbeats go by
    else await unchangedPolls(live.sdk, 3); // three polls answered 304
    live.sdk.off('changed', count);
    expect(changes).toBe(0);
  });

  it('sees a new flag, then a new definition of it (PUT)', async () => {
    const created = sees(() => live.sdk.isEnabled('live-a', PRO), 'live-a created');
    await admin(t, 'PUT', '/api/admin/flags/live-a', definition(true, [s('default')]));
    await created;
    const payload = { type: 'json' as const, value: '{"v":2}' };
    const redefined = sees(() => live.sdk.getVariant('live-a', PRO).name === 'v2', 'live-a variants');
    await admin(t, 'PUT', '/api/admin/flags/live-a', definition(true, [s('default')], [{ name: 'v2', weight: 1000, stickiness: 'default', payload }]));
    await redefined;
    expect(live.sdk.getVariant('live-a', FREE)).toEqual({ name: 'v2', enabled: true, payload, feature_enabled: true, featureEnabled: true });
  });

  it('sees a kill quickly, then the restore', async () => {
    const killed = sees(() => !live.sdk.isEnabled('live-a', PRO), 'live-a killed');
    const sent = performance.now();
    await admin(t, 'POST', '/api/admin/flags/live-a/environments/production/kill', { reason: 'incident' });
    const latency = (await killed) - sent;
    expect(latency).toBeLessThan(mode === 'streaming' ? 1_000 : 5_000);
    expect(live.sdk.getVariant('live-a', PRO)).toMatchObject({ name: 'disabled', enabled: false, feature_enabled: false });
    expect(live.sdk.isEnabled('live-base', PRO)).toBe(true);

    const restored = sees(() => live.sdk.isEnabled('live-a', PRO), 'live-a restored');
    await admin(t, 'POST', '/api/admin/flags/live-a/environments/production/restore', { reason: 'fixed' });
    await restored;
    expect(live.sdk.getVariant('live-a', PRO).name).toBe('v2');
  });

  it('sees an import that adds a segment and a flag using it', async () => {
    const imported = sees(() => live.sdk.isEnabled('live-seg', PRO), 'live-seg imported');
    await admin(
      t,
      'POST',
      '/api/admin/environments/production/import',
      importPayload([liveFeature('live-seg', [s('default', {}, { segments: [7] })])], [{ id: 7, name: 'paying', constraints: [c('plan', 'IN', ['pro'])] }]),
    );
    await imported;
    expect(live.sdk.isEnabled('live-seg', FREE)).toBe(false);
  });

  it('sees a segment change alone (no flag changed)', async () => {
    const changed = sees(() => live.sdk.isEnabled('live-seg', FREE) && !live.sdk.isEnabled('live-seg', PRO), 'segment 7 changed');
    await admin(
      t,
      'POST',
      '/api/admin/environments/production/import',
      importPayload([], [{ id: 7, name: 'paying', constraints: [c('plan', 'IN', ['free'])] }]),
    );
    await changed;
  });

  it('sees an import that updates an existing flag', async () => {
    const updated = sees(() => !live.sdk.isEnabled('live-base', PRO) && live.sdk.isEnabled('live-base', FREE), 'live-base updated');
    await admin(t, 'POST', '/api/admin/environments/production/import', importPayload([liveFeature('live-base', [s('userWithId', { userIds: 'u2' })])], []));
    await updated;
  });

  it('sees a delete', async () => {
    const deleted = sees(() => live.sdk.getFeatureToggleDefinition('live-a') === undefined, 'live-a deleted');
    await admin(t, 'DELETE', '/api/admin/flags/live-a');
    await deleted;
    expect(live.sdk.isEnabled('live-a', PRO)).toBe(false);
    expect(live.sdk.isEnabled('live-a', PRO, true)).toBe(true); // unknown flag: the fallback decides
  });

  it('ends holding exactly what the server serves, with no errors or warnings', async () => {
    const secret = await t.token({ kind: 'client', environment: 'production' });
    const server = await clientGet(t, secret, '/api/client/features', SPEC);
    const segments = new Map(server.body.segments.map((seg: { id: number }) => [seg.id, seg]));
    const held = live.sdk.getFeatureToggleDefinitions(true).sort((a, b) => a.name.localeCompare(b.name));
    const expected = server.body.features.map((f: { strategies: Array<{ segments?: number[] }> }) => ({
      ...f,
      strategies: f.strategies.map((st) => ({ ...st, segments: st.segments?.map((id) => segments.get(id)) })),
    }));
    expect(held).toEqual(expected);
    expect(held.map((f) => f.name)).toEqual(['live-base', 'live-seg']);
    // Metrics are on: the SDK registered and its exposure report is accepted.
    const sent = waitForEvent(live, 'sent', 5_000);
    await live.sdk.flushMetrics();
    await sent;
    expect(live.errors).toEqual([]);
    expect(live.warnings).toEqual([]);
  });
});

describe('HTTP caching contracts of the client API', () => {
  let t: TestController;
  let secret: string;
  beforeAll(async () => {
    t = await startTestController();
    secret = await t.token({ kind: 'client', environment: 'production' });
    await admin(t, 'PUT', '/api/admin/flags/h-one', definition(true, [s('default')]));
    await admin(t, 'POST', '/api/admin/environments/production/import', importPayload([], [{ id: 3, constraints: [c('plan', 'IN', ['pro'])] }]));
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('GET /api/client/features: a stable strong ETag, 304 on If-None-Match, a new ETag after a change', async () => {
    const first = await clientGet(t, secret, '/api/client/features', SPEC);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await clientGet(t, secret, '/api/client/features', SPEC);
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.text).toBe(first.text);

    for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`]) {
      const cached = await clientGet(t, secret, '/api/client/features', { ...SPEC, 'If-None-Match': inm });
      expect(cached.status, inm).toBe(304);
      expect(cached.text).toBe('');
      expect(cached.headers.get('etag')).toBe(etag);
    }
    // Each encoding has its own ETag, and either one is recognised.
    const identity = await clientGet(t, secret, '/api/client/features', { ...SPEC, 'Accept-Encoding': 'identity' });
    expect(identity.headers.get('content-encoding')).toBeNull();
    expect(identity.text).toBe(first.text);
    const identityEtag = identity.headers.get('etag')!;
    expect((await clientGet(t, secret, '/api/client/features', { ...SPEC, 'If-None-Match': identityEtag })).status).toBe(304);

    // Something that is not a flag or segment (a new token) does not invalidate SDK caches.
    await t.token({ kind: 'client', environment: 'production' });
    expect((await clientGet(t, secret, '/api/client/features', { ...SPEC, 'If-None-Match': etag })).status).toBe(304);

    await admin(t, 'POST', '/api/admin/flags/h-one/environments/production/kill', { reason: 'etag test' });
    const changed = await clientGet(t, secret, '/api/client/features', { ...SPEC, 'If-None-Match': etag });
    expect(changed.status).toBe(200);
    const newEtag = changed.headers.get('etag')!;
    expect(newEtag).not.toBe(etag);
    expect(changed.body.features.find((f: { name: string }) => f.name === 'h-one').enabled).toBe(false);
    expect((await clientGet(t, secret, '/api/client/features', { ...SPEC, 'If-None-Match': newEtag })).status).toBe(304);
    await admin(t, 'POST', '/api/admin/flags/h-one/environments/production/restore', { reason: 'etag test' });
  });

  it('GET /api/client/delta: hydration, 304 until a change, then only what changed', async () => {
    const hydration = await clientGet(t, secret, '/api/client/delta');
    expect(hydration.status).toBe(200);
    const etag = hydration.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);
    expect(hydration.body.events).toHaveLength(1);
    const [event] = hydration.body.events;
    expect(event).toMatchObject({ type: 'hydration', eventId: Number(etag.slice(1, -1)) });
    expect(event.features.map((f: { name: string }) => f.name)).toEqual(['h-one']);
    expect(event.segments).toEqual([{ id: 3, constraints: [c('plan', 'IN', ['pro'])] }]);

    for (let i = 0; i < 2; i++) {
      const unchanged = await clientGet(t, secret, '/api/client/delta', { 'If-None-Match': etag });
      expect(unchanged.status).toBe(304);
      expect(unchanged.text).toBe('');
    }
    await t.token({ kind: 'client', environment: 'production' }); // not a flag change
    expect((await clientGet(t, secret, '/api/client/delta', { 'If-None-Match': etag })).status).toBe(304);

    await admin(t, 'PUT', '/api/admin/flags/h-two', definition(true, [s('default', {}, { segments: [3] })]));
    const one = await clientGet(t, secret, '/api/client/delta', { 'If-None-Match': etag });
    expect(one.status).toBe(200);
    const etag2 = one.headers.get('etag')!;
    expect(Number(etag2.slice(1, -1))).toBeGreaterThan(Number(etag.slice(1, -1)));
    const single = await clientGet(t, secret, '/api/client/features/h-two', SPEC);
    expect(one.body.events).toEqual([{ type: 'feature-updated', eventId: Number(etag2.slice(1, -1)), feature: single.body }]);
    expect(single.body.strategies[0].segments).toEqual([3]);
    expect((await clientGet(t, secret, '/api/client/delta', { 'If-None-Match': etag2 })).status).toBe(304);

    await admin(t, 'DELETE', '/api/admin/flags/h-two');
    await admin(t, 'POST', '/api/admin/environments/production/import', importPayload([], [{ id: 3, constraints: [c('plan', 'IN', ['free'])] }]));
    const two = await clientGet(t, secret, '/api/client/delta', { 'If-None-Match': etag2 });
    expect(two.status).toBe(200);
    expect(two.body.events.map((e: { type: string }) => e.type)).toEqual(['segment-updated', 'feature-removed']);
    expect(two.body.events[0].segment).toEqual({ id: 3, constraints: [c('plan', 'IN', ['free'])] });
    expect(two.body.events[1]).toMatchObject({ featureName: 'h-two', project: 'default' });

    // From the first ETag: the net change only (h-two was created and deleted since).
    const net = await clientGet(t, secret, '/api/client/delta', { 'If-None-Match': etag });
    expect(net.body.events.map((e: { type: string; featureName?: string }) => `${e.type}:${e.featureName ?? ''}`)).toEqual([
      'segment-updated:',
      'feature-removed:h-two',
    ]);
    // An ETag this server cannot answer from (garbage, or from the future) gets a hydration.
    for (const inm of ['"garbage"', '"99999999"']) {
      const res = await clientGet(t, secret, '/api/client/delta', { 'If-None-Match': inm });
      expect(res.status, inm).toBe(200);
      expect(
        res.body.events.map((e: { type: string }) => e.type),
        inm,
      ).toEqual(['hydration']);
    }
  });
});
