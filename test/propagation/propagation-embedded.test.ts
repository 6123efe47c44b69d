import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { eventually } from './drill-sdks.js';

/**
 * Propagation on the embedded store, from requests as the stock SDKs make them: a full-payload
 * poller (ETag, 304) and a delta poller, each naming itself in its headers; and a registration.
 */

const base = '/api/admin/flags/pay/environments/staging';

describe('propagation on the embedded store, from raw SDK requests', () => {
  let t: TestController;
  let secret: string;
  const etags = new Map<string, string>();

  /** One poll, as the SDK makes it: its names in the headers, the last ETag in If-None-Match. */
  const poll = async (instanceId: string, route: '/api/client/features' | '/api/client/delta') => {
    const headers: Record<string, string> = {
      Authorization: secret,
      'unleash-appname': 'payments',
      'unleash-instanceid': instanceId,
      'unleash-connection-id': `conn-${instanceId}`,
    };
    const etag = etags.get(instanceId);
    if (etag) headers['If-None-Match'] = etag;
    const res = await fetch(`${t.url}${route}`, { headers });
    await res.arrayBuffer();
    etags.set(instanceId, res.headers.get('etag') ?? etag ?? '');
    return res.status;
  };
  const propagation = async () => (await t.api('GET', `${base}/propagation`)).body;

  beforeAll(async () => {
    t = await startTestController({ embedded: true });
    secret = await t.token({ kind: 'client', environment: 'staging' });
    expect((await t.api('PUT', '/api/admin/flags/pay', { environments: { staging: { enabled: true, strategies: [{ name: 'default' }] } } })).status).toBe(201);
  });
  afterAll(() => t?.stop());

  it('counts pollers, delta pollers and registered SDKs, and follows a kill poll by poll', async () => {
    expect(await poll('full-1', '/api/client/features')).toBe(200);
    expect(await poll('delta-1', '/api/client/delta')).toBe(200);
    const registered = await fetch(`${t.url}/api/client/register`, {
      method: 'POST',
      // As the stock SDK registers: its names in the headers too, with the connection id its fetches send.
      headers: {
        Authorization: secret,
        'Content-Type': 'application/json',
        'unleash-appname': 'payments',
        'unleash-instanceid': 'starting-1',
        'unleash-connection-id': 'conn-starting-1',
      },
      body: JSON.stringify({
        appName: 'payments',
        instanceId: 'starting-1',
        sdkVersion: 'unleash-node-sdk:6.12.1',
        strategies: [],
        started: new Date().toISOString(),
        interval: 15000,
      }),
    });
    expect(registered.status).toBe(202);
    // A registered instance that never fetched holds nothing yet: pending.
    const first = await eventually(propagation, (p) => p.instances === 3, 'three instances seen');
    expect(first.confirmed).toBe(2);
    expect(first.pending.map((p: { instanceId: string }) => p.instanceId)).toEqual(['starting-1']);

    expect((await t.api('POST', `${base}/kill`, { reason: 'incident 12' })).status).toBe(200);
    // A 304 still says the SDK has the current payload; after a change, the poll gets the new one.
    expect(await poll('full-1', '/api/client/features')).toBe(200);
    const one = await eventually(propagation, (p) => p.confirmed === 1, 'the full poller to confirm the kill');
    expect(one.pending.map((p: { instanceId: string }) => p.instanceId).sort()).toEqual(['delta-1', 'starting-1']);
    expect(await poll('delta-1', '/api/client/delta')).toBe(200);
    expect(await poll('starting-1', '/api/client/features')).toBe(200);
    const all = await eventually(propagation, (p) => p.confirmed === 3, 'every instance to hold the kill');
    expect(all).toMatchObject({ killed: true, instances: 3, pending: [] });
    expect(await poll('full-1', '/api/client/features')).toBe(304);
    expect((await propagation()).confirmed).toBe(3);
  });
});
