import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';

describe('filtered client features (SDKs with projectName or namePrefix)', () => {
  let t: TestController;
  let client: string;
  const names = async (query: string) => (await t.api('GET', `/api/client/features${query}`, undefined, client)).body.features.map((f: any) => f.name);
  const on = { production: { enabled: true, strategies: [{ name: 'default' }] } };

  beforeAll(async () => {
    t = await startTestController();
    client = await t.token({ kind: 'client', environment: 'production' });
    await t.api('PUT', '/api/admin/flags/pay.apple', { project: 'payments', environments: on });
    await t.api('PUT', '/api/admin/flags/pay.google', { project: 'payments', environments: on });
    await t.api('PUT', '/api/admin/flags/search.v2', { project: 'search', environments: on });
  });
  afterAll(() => t.stop());

  it('serves only the matching flags, and the current ones after a change', async () => {
    expect(await names('?namePrefix=pay.')).toEqual(['pay.apple', 'pay.google']);
    expect(await names('?project=search')).toEqual(['search.v2']);
    expect(await names('?project=search&project=payments')).toEqual(['pay.apple', 'pay.google', 'search.v2']);
    // Asked twice, so a cached rendering exists; a change must replace it.
    expect(await names('?namePrefix=pay.')).toEqual(['pay.apple', 'pay.google']);
    await t.api('PUT', '/api/admin/flags/pay.card', { project: 'payments', environments: on });
    expect(await names('?namePrefix=pay.')).toEqual(['pay.apple', 'pay.card', 'pay.google']);
    const res = await fetch(`${t.url}/api/client/features?namePrefix=pay.`, { headers: { Authorization: client } });
    const again = await fetch(`${t.url}/api/client/features?namePrefix=pay.`, {
      headers: { Authorization: client, 'If-None-Match': res.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
  });
});
