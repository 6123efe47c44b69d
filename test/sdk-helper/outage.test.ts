import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { freePort } from '../prometheus/prometheus-server.js';
import { closeAllClients, ENV, flagBody, outcomeTotals, putFlag, testClient, waitFor } from './helpers.js';

/**
 * When the controller cannot be reached the application must go on: the last flags it fetched keep
 * being served, recording never throws, and outcomes wait in a bounded buffer. An application that
 * never reached the controller starts from its bootstrap, and every other flag is OFF.
 */

const BOOTSTRAP = { version: 2, features: [{ name: 'boot-on', ...flagBody(true).environments[ENV], variants: [] }] };

describe('SDK helper when the controller is down', () => {
  const controllers: TestController[] = [];
  afterEach(async () => {
    await closeAllClients();
    await Promise.all(controllers.splice(0).map((c) => c.stop()));
  });

  it('keeps serving the last known flags, buffers outcomes, and delivers them once the controller is back', async () => {
    const prefix = uniquePrefix('sdk-outage');
    const first = await startTestController({ prefix });
    const token = await first.token({ kind: 'client', environment: ENV });
    await putFlag(first, 'outage-flag', true);
    const backupPath = mkdtempSync(path.join(os.tmpdir(), 'rc-sdk-backup-'));
    const { guard, errors } = testClient({ url: first.url, token, backupPath });
    expect(await guard.ready(5_000)).toBe('controller');

    const port = first.controller.port;
    await first.stop();
    await waitFor(() => errors.length > 0, 'a failed poll of the stopped controller');
    expect(guard.isEnabled('outage-flag', { userId: 'u1' })).toBe(true);
    for (let i = 0; i < 5; i++)
      expect(
        guard.run(
          'outage-flag',
          { userId: `u${i}` },
          () => 'new',
          () => 'old',
        ),
      ).toBe('new');
    await expect(guard.flush()).resolves.toBeUndefined();
    expect(guard.stats()).toMatchObject({ pendingBatches: 1, sentRequests: 0, lastError: expect.stringContaining('not delivered') });

    // Another instance of the app, started while the controller is down, gets the saved flags,
    // which win over a bootstrap that says otherwise (they are newer).
    const offBootstrap = { features: [{ ...BOOTSTRAP.features[0]!, name: 'outage-flag', enabled: false }] };
    const restarted = testClient({ url: `http://127.0.0.1:${port}`, token, backupPath, bootstrap: offBootstrap });
    expect(await restarted.guard.ready(300)).toBe('fallback');
    expect(restarted.guard.isEnabled('outage-flag')).toBe(true);
    expect(restarted.guard.isEnabled('never-heard-of')).toBe(false);

    const second = await startTestController({ prefix, env: { PORT: String(port) } });
    controllers.push(second);
    await guard.flush();
    expect(guard.stats()).toMatchObject({ pendingBatches: 0, sentRequests: 5, droppedRequests: 0 });
    expect((await outcomeTotals(second, 'outage-flag')).treatment).toMatchObject({ requests: 5, errors: 0 });
  });

  describe('never reached', () => {
    const deadUrl = async () => `http://127.0.0.1:${await freePort()}`;
    const bootstrapFile = () => {
      const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rc-sdk-boot-')), 'flags.json');
      writeFileSync(file, JSON.stringify(BOOTSTRAP));
      return file;
    };

    it.each([
      ['the bootstrap option', () => ({ bootstrap: BOOTSTRAP })],
      ['ROLLOUT_BOOTSTRAP as JSON', () => ({ env: { ROLLOUT_BOOTSTRAP: JSON.stringify(BOOTSTRAP) } })],
      ['ROLLOUT_BOOTSTRAP as a file', () => ({ env: { ROLLOUT_BOOTSTRAP: bootstrapFile() } })],
      ['a bootstrap file given as the option', () => ({ bootstrap: bootstrapFile() })],
    ])('starts from %s; flags it does not name are OFF', async (_, source) => {
      const { guard, errors } = testClient({ url: await deadUrl(), token: 'any', ...source() });
      expect(await guard.ready(300)).toBe('fallback');
      expect(guard.isEnabled('boot-on')).toBe(true);
      expect(guard.isEnabled('unknown-flag')).toBe(false);
      expect(
        guard.run(
          'boot-on',
          undefined,
          () => 'treated',
          () => 'control',
        ),
      ).toBe('treated');
      await guard.flush();
      expect(guard.stats()).toMatchObject({ pendingBatches: 1 });
      expect(errors.length).toBeGreaterThan(0); // the unreachable controller was reported, not thrown
    });

    it.each([
      ['no bootstrap', {}],
      ['a bootstrap that is not a features payload', { env: { ROLLOUT_BOOTSTRAP: '{"features": 3}' } }],
      ['a bootstrap file that does not exist', { env: { ROLLOUT_BOOTSTRAP: '/nonexistent/flags.json' } }],
    ])('with %s, serves every flag OFF', async (_, source) => {
      const { guard } = testClient({ url: await deadUrl(), token: 'any', ...source });
      expect(await guard.ready(300)).toBe('none');
      expect(guard.isEnabled('boot-on')).toBe(false);
      expect(
        guard.run(
          'boot-on',
          undefined,
          () => 'treated',
          () => 'control',
        ),
      ).toBe('control');
    });

    it('reports a bootstrap it could not use', async () => {
      const { errors } = testClient({ url: await deadUrl(), token: 'any', env: { ROLLOUT_BOOTSTRAP: '{"features": 3}' } });
      expect(errors[0]?.message).toBe('ROLLOUT_BOOTSTRAP is not a client features payload ({features: [{name, enabled, strategies}]}), so flags start OFF');
    });
  });
});
