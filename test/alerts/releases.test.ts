import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { IncomingAlert } from '../../src/alerts/alert-model.js';
import { type Alerts, createAlerts } from '../../src/alerts/alerts.js';
import { EnvironmentService } from '../../src/environments/environment-service.js';
import { FlagService } from '../../src/flags/flag-service.js';
import { createLogger } from '../../src/logger.js';
import { RolloutService } from '../../src/rollouts/rollout-service.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/port.js';
import { startTestController, type TestController } from '../support/controller.js';
import { declarePolicies, ok, rolling, rolloutOf } from './alert-world.js';

/**
 * Issue 16: alerts naming a release find its active rollout through the lookup wired at start-up
 * (the lead's releases). Here a lookup of the test's own, on the same Redis as a running controller.
 */
describe('alerts naming a release, through an injected release lookup', () => {
  let t: TestController;
  let store: Store;
  let alerts: Alerts;
  const releases = new Map<string, string>();
  const caller = { actor: { type: 'token' as const, id: 'tok', name: 'apm' }, by: { id: 'tok', name: 'apm' } };
  const alert = (fingerprint: string, release: string): IncomingAlert => ({
    source: 'generic',
    fingerprint,
    identified: true,
    status: 'firing',
    labels: { release, environment: 'production' },
    annotations: { summary: 'P0: supplier sync broken' },
  });
  const on = (release: string, action: 'pause' | 'kill') => ({
    target: { kind: 'release' as const, name: release },
    environment: 'production',
    action,
    via: 'request',
  });

  beforeAll(async () => {
    t = await startTestController();
    await declarePolicies(t);
    store = await openStore({ redisUrl: inject('redisUrl'), prefix: t.prefix, dataDir: '' });
    const now = () => new Date();
    alerts = createAlerts({
      store,
      rollouts: new RolloutService(store, now, new EnvironmentService(store, now)),
      flags: new FlagService(store, now),
      now,
      awaitApplied: async () => {},
      logger: createLogger('silent'),
      releases: { findActiveRelease: async (name, environment) => (environment === 'production' ? releases.get(name) : undefined) },
    });
  });
  afterAll(async () => {
    await store?.close();
    await t?.stop();
  });

  it('pauses the release’s rollout once, and kills its flag', async () => {
    const id = await rolling(t, 'supplier-sync');
    releases.set('supplier-module', id);
    expect(await alerts.service.act(alert('rel-1', 'supplier-module'), on('supplier-module', 'pause'), caller)).toMatchObject({
      outcome: 'acted',
      rolloutId: id,
      target: { kind: 'release', name: 'supplier-module' },
    });
    expect((await rolloutOf(t, id)).state).toBe('paused');
    expect((await alerts.service.act(alert('rel-1', 'supplier-module'), on('supplier-module', 'pause'), caller)).outcome).toBe('duplicate');
    const killed = await alerts.service.act(alert('rel-2', 'supplier-module'), on('supplier-module', 'kill'), caller);
    expect(killed).toMatchObject({ outcome: 'acted', detail: expect.stringMatching(/the 1 flags of release "supplier-module" killed/) });
    expect((await ok(t, 'GET', '/api/admin/flags/supplier-sync')).killSwitches.production).toBeDefined();
  });

  it('answers unknown_target for a release the lookup does not know, or names a rollout that does not exist', async () => {
    expect((await alerts.service.act(alert('rel-3', 'nobody'), on('nobody', 'pause'), caller)).outcome).toBe('unknown_target');
    releases.set('ghost', 'no-such-rollout');
    const ghost = await alerts.service.act(alert('rel-4', 'ghost'), on('ghost', 'pause'), caller);
    expect(ghost).toMatchObject({ outcome: 'unknown_target', detail: expect.stringContaining('no-such-rollout') });
  });
});
