import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { startController } from '../../src/controller.js';
import { createLogger } from '../../src/logger.js';
import { emptyDir, startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { quickPolicy, runToCompletion } from '../support/fast-rollout.js';
import { auditEvents, FAST_ENV } from '../rollouts/scenario-helpers.js';

/**
 * A rollout owns the percentage it set, also after it completed: a PUT (or a flag file at start-up)
 * that would set it back is refused unless forced, on a real controller on real Redis.
 */

const ENV = 'production';
const rollout = (pct: string) => ({ name: 'flexibleRollout', parameters: { rollout: pct, stickiness: 'default', groupId: 'g' }, constraints: [] });
/** The definition as it was before any rollout: off, at 0%. */
const original = { description: 'before the rollout', environments: { [ENV]: { enabled: false, strategies: [rollout('0')] } } };
const strategyOf = (flag: any) => flag.environments[ENV].strategies[0];

describe('a rollout owns the percentage it set', () => {
  let t: TestController;

  beforeAll(async () => {
    t = await startTestController({ env: { ...FAST_ENV, POLICIES_DIR: emptyDir() } });
    expect((await t.api('PUT', '/api/admin/policies/quick', quickPolicy('quick'))).status).toBe(201);
  });
  afterAll(() => t?.stop());

  it('a PUT that would undo a completed rollout is 409; the same PUT with ?force=true is 200, and the audit says it was forced', async () => {
    expect((await t.api('PUT', '/api/admin/flags/owned', original)).status).toBe(201);
    const done = await runToCompletion(t, 'owned', ENV, 'quick');
    expect(strategyOf((await t.api('GET', '/api/admin/flags/owned')).body)).toMatchObject({ id: `rollout:${done.id}`, parameters: { rollout: '100' } });

    const refused = await t.api('PUT', '/api/admin/flags/owned', original);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('rollout_owns_percentage');
    expect(refused.body.message).toContain(`flag owned in ${ENV}: the change disables the environment (serves 0%), rollout ${done.id} (completed) set 100%`);
    expect(refused.body.details.conflicts).toEqual([
      { flag: 'owned', environment: ENV, rolloutId: done.id, rolloutState: 'completed', rolloutPercentage: 100, newPercentage: 0, change: 'disabled' },
    ]);
    const enabledAt0 = await t.api('PUT', '/api/admin/flags/owned', { environments: { [ENV]: { enabled: true, strategies: [rollout('0')] } } });
    expect(enabledAt0.status).toBe(409);
    expect(enabledAt0.body.message).toContain('the change serves 0%, rollout');
    const dropped = await t.api('PUT', '/api/admin/flags/owned', { environments: { [ENV]: { enabled: true, strategies: [{ name: 'default' }] } } });
    expect(dropped.body.details.conflicts[0]).toMatchObject({ change: 'dropped', newPercentage: null });
    // Nothing changed.
    expect(strategyOf((await t.api('GET', '/api/admin/flags/owned')).body)).toMatchObject({ id: `rollout:${done.id}`, parameters: { rollout: '100' } });

    // The same percentage with other edits is fine, and the rollout keeps owning its strategy.
    const same = await t.api('PUT', '/api/admin/flags/owned', {
      description: 'at 100%',
      environments: { [ENV]: { enabled: true, strategies: [rollout('100')] } },
    });
    expect(same.status).toBe(200);
    expect(strategyOf(same.body)).toMatchObject({ id: `rollout:${done.id}`, parameters: { rollout: '100' } });

    const forced = await t.api('PUT', '/api/admin/flags/owned?force=true', { ...original, reason: 'feature withdrawn' });
    expect(forced.status).toBe(200);
    // Forced past a finished rollout: the percentage is the writer's again.
    expect(strategyOf(forced.body).id).toBeUndefined();
    expect(strategyOf(forced.body).parameters.rollout).toBe('0');
    const event = (await auditEvents(t)).filter((e) => e.action === 'flag.put' && e.target.id === 'owned').at(-1);
    expect(event.reason).toBe(`feature withdrawn (forced over rollout ${done.id} at 100% in ${ENV})`);
    expect((await t.api('PUT', '/api/admin/flags/owned', { environments: { [ENV]: { enabled: true, strategies: [rollout('30')] } } })).status).toBe(200);
  });

  it('a running rollout is guarded too, and keeps its strategy when forced', async () => {
    await t.api('PUT', '/api/admin/policies/slow', {
      ...quickPolicy('slow', [20, 100]),
      stepDefaults: { minDuration: '1h', minSamples: 0, maxDuration: '2h', approval: { required: 0 } },
    });
    expect((await t.api('PUT', '/api/admin/flags/ramping', original)).status).toBe(201);
    const started = await t.api('POST', '/api/admin/rollouts', { flag: 'ramping', environment: ENV, policy: 'slow' });
    for (let i = 0; i < 200 && strategyOf((await t.api('GET', '/api/admin/flags/ramping')).body).parameters.rollout !== '20'; i++)
      await new Promise((r) => setTimeout(r, 25));
    const refused = await t.api('PUT', '/api/admin/flags/ramping', { environments: { [ENV]: { enabled: true, strategies: [rollout('50')] } } });
    expect(refused.status).toBe(409);
    expect(refused.body.details.conflicts[0]).toMatchObject({ rolloutId: started.body.id, rolloutPercentage: 20, newPercentage: 50, change: 'percentage' });
    const forced = await t.api('PUT', '/api/admin/flags/ramping?force=true', { environments: { [ENV]: { enabled: true, strategies: [rollout('50')] } } });
    expect(forced.status).toBe(200);
    expect(strategyOf(forced.body)).toMatchObject({ id: `rollout:${started.body.id}`, parameters: { rollout: '50' } });
    await t.api('POST', `/api/admin/rollouts/${started.body.id}/abort`, {});
  });

  it('a flag file changed at start-up that would undo a rollout is not applied for that flag, with an ERROR naming file and flag', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-owned-files-'));
    const file = path.join(dir, 'team.yaml');
    const yaml = (description: string) => `flags:
  - name: from-file
    description: ${description}
    environments:
      ${ENV}:
        enabled: false
        strategies:
          - { name: flexibleRollout, parameters: { rollout: "0", stickiness: default, groupId: from-file } }
  - name: bystander
    description: ${description}
`;
    writeFileSync(file, yaml('first'));
    const prefix = uniquePrefix('owned-files');
    const first = await startTestController({ prefix, flagsDir: dir, env: { ...FAST_ENV, POLICIES_DIR: emptyDir() } });
    await first.api('PUT', '/api/admin/policies/quick', quickPolicy('quick'));
    const done = await runToCompletion(first, 'from-file', ENV, 'quick');
    await first.stop();

    writeFileSync(file, yaml('second'));
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).trim().split('\n')), cb()) });
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      REDIS_URL: inject('redisUrl'),
      REDIS_PREFIX: prefix,
      FLAGS_DIR: dir,
      POLICIES_DIR: emptyDir(),
      DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'rc-data-')),
      LOG_LEVEL: 'info',
      ...FAST_ENV,
    });
    const second = await startController(config, createLogger('info', sink));
    try {
      const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 50);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({ file, flag: 'from-file' });
      expect(errors[0].msg).toContain(
        `flag file ${file}: flag from-file not applied: flag from-file in ${ENV}: the file disables the environment (serves 0%), rollout ${done.id} (completed) set 100%`,
      );
      const api = (route: string) =>
        fetch(`http://127.0.0.1:${second.port}${route}`, { headers: { Authorization: first.adminToken } }).then((r) => r.json() as Promise<any>);
      const kept = await api('/api/admin/flags/from-file');
      expect(kept.description).toBe('first');
      expect(strategyOf(kept).parameters.rollout).toBe('100');
      // The rest of the file is applied.
      expect((await api('/api/admin/flags/bystander')).description).toBe('second');
    } finally {
      await second.stop();
    }
  });
});
