import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { adminPerson, expectStatus, type AdminPerson } from '../rollouts/scenario-helpers.js';

/**
 * Sign-offs that cannot be skipped, on a real controller and Redis: an approval names the step it
 * is for, so a double click, a retry or fifty managers at once can never approve a step nobody saw.
 */

const policy = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  steps: [1, 10, 50, 100],
  // Long steps: nothing advances by itself during a test; approvals are what moves it.
  stepDefaults: { minDuration: '1h', minSamples: 0, approval: { required: 1, roles: ['release-manager'] } },
  analysisInterval: '1h',
  ...extra,
});

describe('approvals on a live controller', () => {
  let t: TestController;
  let editor: AdminPerson;
  let managers: AdminPerson[];
  let flagNo = 0;

  beforeAll(async () => {
    t = await startTestController();
    editor = await adminPerson(t, 'editor', 'Erin Editor');
    managers = await Promise.all(Array.from({ length: 50 }, (_, i) => adminPerson(t, 'release-manager', `Manager ${i}`)));
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/signed', policy('signed'));
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/no-go', policy('no-go', { steps: [{ percentage: 1, approval: { required: 0 } }, 10, 50, 100] }));
  });
  afterAll(() => t.stop());

  async function started(policyName = 'signed'): Promise<{ id: string; flag: string; body: any }> {
    const flag = `approve-${++flagNo}`;
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, { environments: { production: { enabled: false, strategies: [] } } });
    const body = await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag, environment: 'production', policy: policyName }, editor.secret);
    return { id: body.id, flag, body };
  }
  const approve = (id: string, body: unknown, who: AdminPerson, headers?: Record<string, string>) =>
    fetch(`${t.url}/api/admin/rollouts/${id}/approve`, {
      method: 'POST',
      headers: { Authorization: who.secret, 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  const served = async (flag: string) => (await t.api('GET', `/api/admin/flags/${flag}`)).body.environments.production.strategies[0].parameters.rollout;

  it('the Go/No-Go: a first step that asks for approval waits at 0 %, serving nothing, until approved', async () => {
    const { id, flag, body } = await started();
    expect(body).toMatchObject({ state: 'awaiting_approval', percentage: 0, status: { awaitingStep: 1, served: { percentage: 0 } } });
    expect(await served(flag)).toBe('0');
    const go = await approve(id, { step: 1, comment: 'go' }, managers[0]!);
    expect(go.status).toBe(200);
    expect(go.body).toMatchObject({ state: 'running', percentage: 1, approval: { step: 0, by: { name: 'Manager 0' }, comment: 'go' } });
    expect(await served(flag)).toBe('1');
  });

  it('a double click approves one step: the second call gets the first approval back, never the next step', async () => {
    const { id } = await started();
    const [first, second] = await Promise.all([approve(id, { step: 1 }, managers[1]!), approve(id, { step: 1 }, managers[1]!)]);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body.approval).toEqual(first.body.approval);
    const after = (await t.api('GET', `/api/admin/rollouts/${id}`)).body;
    expect(after).toMatchObject({ state: 'running', percentage: 1, stepIndex: 0 });
    expect(after.approvals).toHaveLength(1);
    // A retry long after, without naming the step: the rollout awaits none now, so 409, never an approval of 10 %.
    const late = await approve(id, {}, managers[1]!);
    expect(late.status).toBe(409);
    expect(late.body).toMatchObject({ error: 'not_awaiting_approval', details: { awaitingStep: null } });
    expect((await t.api('GET', `/api/admin/rollouts/${id}`)).body.approvals).toHaveLength(1);
  });

  it('fifty release managers approving at once: exactly one approval counts, for the step they saw', async () => {
    const { id, flag } = await started();
    const answers = await Promise.all(managers.map((m) => approve(id, { step: 1 }, m)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const refused = answers.filter((a) => a.status === 409);
    expect(refused).toHaveLength(49);
    for (const r of refused) expect(['step_already_entered', 'step_already_approved']).toContain(r.body.error);
    const after = (await t.api('GET', `/api/admin/rollouts/${id}`)).body;
    expect(after.approvals).toHaveLength(1);
    expect(after).toMatchObject({ state: 'running', percentage: 1, stepIndex: 0 });
    expect(await served(flag)).toBe('1');
  });

  it('an approval for a step that is not awaiting approval is refused with the awaited step', async () => {
    const { id } = await started();
    const wrong = await approve(id, { step: 10 }, managers[2]!);
    expect(wrong.status).toBe(409);
    expect(wrong.body).toMatchObject({ error: 'not_awaited_step', details: { awaitingStep: 1 } });
    expect(wrong.body.message).toContain('it awaits approval for 1%');
    const unknown = await approve(id, { step: 25 }, managers[2]!);
    expect(unknown).toMatchObject({ status: 409, body: { error: 'no_such_step', details: { awaitingStep: 1 } } });
    expect((await t.api('GET', `/api/admin/rollouts/${id}`)).body.approvals).toEqual([]);
  });

  it('approving ahead must be asked for, shows as such, and counts when its step is reached', async () => {
    const { id } = await started('no-go');
    const ahead = await approve(id, { step: 10, ahead: true, comment: 'pre-approved for the board' }, managers[3]!);
    expect(ahead.status).toBe(200);
    expect(ahead.body.approval).toMatchObject({ step: 1, ahead: true });
    expect(ahead.body).toMatchObject({ state: 'running', percentage: 1 });
    expect((await approve(id, { ahead: true }, managers[4]!)).status).toBe(400);
  });

  it('an approval given before a pause does not count after it', async () => {
    await expectStatus(
      t,
      201,
      'PUT',
      '/api/admin/policies/two-signers',
      policy('two-signers', { stepDefaults: { minDuration: '1h', minSamples: 0, approval: { required: 2, roles: ['release-manager'] } } }),
    );
    const { id } = await started('two-signers');
    expect((await approve(id, { step: 1 }, managers[5]!)).body).toMatchObject({ state: 'awaiting_approval', approvals: [{ by: { name: 'Manager 5' } }] });
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${id}/pause`, { comment: 'board meeting moved' }, editor.secret);
    const resumed = await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${id}/resume`, {}, editor.secret);
    expect(resumed).toMatchObject({ state: 'awaiting_approval', percentage: 0, approvals: [] });
    expect(resumed.history.find((h: any) => h.to === 'paused').voidedApprovals).toHaveLength(1);
    // One more approval is not enough any more: both must be given afresh.
    expect((await approve(id, { step: 1 }, managers[6]!)).body).toMatchObject({ state: 'awaiting_approval', percentage: 0 });
    expect((await approve(id, { step: 1 }, managers[5]!)).body).toMatchObject({ state: 'running', percentage: 1 });
  });

  it('If-Match: an approval made on an outdated view of the rollout is refused with 412', async () => {
    const { id } = await started();
    const res = await fetch(`${t.url}/api/admin/rollouts/${id}`, { headers: { Authorization: t.adminToken } });
    const etag = res.headers.get('etag')!;
    expect(etag).toMatch(/^"\d+"$/);
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${id}/pause`, {}, editor.secret);
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${id}/resume`, {}, editor.secret);
    const stale = await approve(id, { step: 1 }, managers[7]!, { 'If-Match': etag });
    expect(stale).toMatchObject({ status: 412, body: { error: 'version_mismatch' } });
  });
});

describe('guard rails of an environment', () => {
  let t: TestController;
  beforeAll(async () => {
    t = await startTestController();
    await expectStatus(t, 201, 'PUT', '/api/admin/environments/prod-guarded', {
      owner: 'release-management',
      rules: { approval: { required: 1, roles: ['release-manager'] }, requireRollbackRules: true },
    });
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/straight-to-100', {
      name: 'straight-to-100',
      steps: [100],
      stepDefaults: { minDuration: '30s', approval: { required: 0 } },
      analysisInterval: '1s',
    });
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/guarded', { environments: { 'prod-guarded': { enabled: false, strategies: [] } } });
  });
  afterAll(() => t.stop());

  it('a policy with no approval and no rollback rule is refused for production, naming the rules', async () => {
    const res = await t.api('POST', '/api/admin/rollouts', { flag: 'guarded', environment: 'prod-guarded', policy: 'straight-to-100' });
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('policy_not_allowed');
    expect(res.body.message).toContain('rules.approval.required');
    expect(res.body.message).toContain('step 100%');
    expect(res.body.details.violations.map((v: { rule: string }) => v.rule)).toEqual(
      expect.arrayContaining(['rules.approval.required', 'rules.requireRollbackRules']),
    );
    expect((await t.api('GET', '/api/admin/flags/guarded')).body.environments['prod-guarded'].enabled).toBe(false);
  });

  it('a rollout naming an environment nobody declared (a typo) is refused with the declared names', async () => {
    const res = await t.api('POST', '/api/admin/rollouts', { flag: 'guarded', environment: 'prodcution', policy: 'straight-to-100' });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('unknown_environment');
    expect(res.body.details.declared).toEqual(expect.arrayContaining(['prod-guarded', 'production']));
    expect((await t.api('GET', '/api/admin/flags/guarded')).body.environments.prodcution).toBeUndefined();
    expect((await t.api('GET', '/api/admin/rollouts')).body.rollouts).toEqual([]);
  });
});
