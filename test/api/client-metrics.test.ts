import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExposures } from '../../src/metrics/exposures.js';
import { startTestController, type TestController } from '../support/controller.js';

describe('exposure counts from /api/client/metrics', () => {
  let t: TestController;
  beforeAll(async () => (t = await startTestController()));
  afterAll(() => t.stop());

  it('keeps yes/no/variant counts per flag, environment and minute', async () => {
    // Only flags that exist are counted (test/hardening/client-growth.test.ts covers the rest).
    expect((await t.api('PUT', '/api/admin/flags/checkout', { environments: { production: { enabled: true } } })).status).toBe(201);
    const prod = await t.token({ kind: 'client', environment: 'production' });
    const staging = await t.token({ kind: 'client', environment: 'staging' });
    const report = (yes: number, no: number) => ({
      appName: 'shop',
      instanceId: 'i-1',
      bucket: { start: new Date().toISOString(), stop: new Date().toISOString(), toggles: { checkout: { yes, no, variants: { blue: yes } } } },
    });
    expect((await t.api('POST', '/api/client/metrics', report(30, 70), prod)).status).toBe(202);
    expect((await t.api('POST', '/api/client/metrics', report(5, 5), prod)).status).toBe(202);
    expect((await t.api('POST', '/api/client/metrics', report(1, 1), staging)).status).toBe(202);
    const now = Date.now();
    expect(await readExposures(t.controller.store, 'production', 'checkout', now - 120_000, now + 1)).toEqual({ yes: 35, no: 75, variants: { blue: 35 } });
    expect((await readExposures(t.controller.store, 'staging', 'checkout', now - 120_000, now + 1)).yes).toBe(1);
    expect((await readExposures(t.controller.store, 'production', 'other', now - 120_000, now + 1)).yes).toBe(0);

    const bad = await t.api('POST', '/api/client/metrics', { appName: 'shop', bucket: { toggles: { checkout: { yes: -1 } } } }, prod);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('bucket.toggles.checkout.yes');
    expect((await t.api('POST', '/api/client/register', { appName: 'shop', instanceId: 'i-1', strategies: ['default'] }, prod)).status).toBe(202);
  });
});
