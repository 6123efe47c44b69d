import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';

/**
 * A streaming SDK is authenticated when its stream opens. Revoking its token must end the stream
 * at once, or a revoked application would keep receiving every flag change until it reconnected.
 */
describe('revoking a token ends the streams opened with it', () => {
  let t: TestController;
  beforeAll(async () => {
    t = await startTestController({ prefix: uniquePrefix('revoke') });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('closes the revoked token’s stream, keeps the others, and refuses the reconnect', async () => {
    const created = await t.api('POST', '/api/admin/tokens', { kind: 'client', environment: 'production', name: 'to-revoke' });
    const other = await t.token({ kind: 'client', environment: 'production' });
    const open = async (secret: string) => {
      const res = await fetch(`${t.url}/api/client/streaming`, { headers: { Authorization: secret } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read(); // the hydration
      return reader;
    };
    const revoked = await open(created.body.secret);
    const kept = await open(other);

    expect((await t.api('DELETE', `/api/admin/tokens/${created.body.id}`)).status).toBe(204);
    // The revoked stream ends (done) instead of waiting for the next heartbeat or change.
    for (;;) {
      const { done } = await revoked.read();
      if (done) break;
    }
    const reconnect = await fetch(`${t.url}/api/client/streaming`, { headers: { Authorization: created.body.secret } });
    expect(reconnect.status).toBe(401);
    await reconnect.body?.cancel();

    // The other token's stream is still open and still gets changes.
    expect(
      (await t.api('PUT', '/api/admin/flags/after-revoke', { name: 'after-revoke', environments: { production: { enabled: true, strategies: [] } } })).status,
    ).toBeLessThan(300);
    const next = await kept.read();
    expect(next.done).toBe(false);
    expect(new TextDecoder().decode(next.value)).toContain('after-revoke');
    await kept.cancel();
  });
});
