import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { writeEnvironmentsFile } from '../support/environments.js';

/**
 * Environment names are letters, digits and _ . -, so "constructor", "toString" and "valueOf" are
 * names like any other. A flag keeps its settings and kill switches in records keyed by them, where
 * a plain lookup finds what every object inherits: every flag looked killed in such an environment,
 * a kill answered "changed: false" and did nothing, and no rollout could start there.
 * Found while following up the API probe (test/hardening/api-probe.test.ts).
 */
const NAMES = ['constructor', 'toString', 'valueOf'];

describe('environments named like members every object inherits', () => {
  let t: TestController;
  const tokens = new Map<string, string>();
  const served = async (env: string) => (await t.api('GET', '/api/client/features/f', undefined, tokens.get(env))).body.enabled;

  beforeAll(async () => {
    t = await startTestController({ environmentsFile: writeEnvironmentsFile(NAMES.map((name) => ({ name }))) });
    for (const env of NAMES) tokens.set(env, await t.token({ kind: 'client', environment: env }));
    const on = { enabled: true, strategies: [{ name: 'default' }] };
    expect((await t.api('PUT', '/api/admin/flags/f', { environments: Object.fromEntries(NAMES.map((env) => [env, on])) })).status).toBe(201);
    expect((await t.api('PUT', '/api/admin/policies/p', { name: 'p' })).status).toBe(201);
  });
  afterAll(() => t.stop());

  it('serves a flag enabled there as enabled', async () => {
    for (const env of NAMES) expect(await served(env), env).toBe(true);
  });

  it('kills and restores there: the kill is recorded and served', async () => {
    for (const env of NAMES) {
      const killed = await t.api('POST', `/api/admin/flags/f/environments/${env}/kill`, { reason: 'incident' });
      expect(killed.body, env).toMatchObject({ killed: true, changed: true });
      expect((await t.api('GET', '/api/admin/flags/f')).body.killSwitches[env], env).toMatchObject({ reason: 'incident' });
      expect(await served(env), env).toBe(false);
      const restored = await t.api('POST', `/api/admin/flags/f/environments/${env}/restore`, { reason: 'fixed' });
      expect(restored.body, env).toMatchObject({ killed: false, changed: true });
      expect(await served(env), env).toBe(true);
    }
  });

  it('starts a rollout there, and a flag with no settings there is served disabled', async () => {
    const started = await t.api('POST', '/api/admin/rollouts', { flag: 'f', environment: 'valueOf', policy: 'p' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect((await t.api('PUT', '/api/admin/flags/g', { environments: {} })).status).toBe(201);
    const g = await t.api('GET', '/api/client/features/g', undefined, tokens.get('toString'));
    expect(g.body).toMatchObject({ enabled: false, strategies: [], variants: [] });
  });
});
