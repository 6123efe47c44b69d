import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { emptyDir, startTestController, type TestController } from '../support/controller.js';
import { startReceiver, type Receiver } from '../notifications/receiver.js';
import {
  ANALYSIS_INTERVAL_MS,
  ENV,
  FAST_ENV,
  HEALTHY,
  MIN_SAMPLES,
  ROLLBACK_FOR_MS,
  UNHEALTHY,
  adminPerson,
  auditEvents,
  expectStatus,
  shortPolicy,
  startTraffic,
  stopAllTraffic,
  waitForAnalyses,
  waitForRollout,
  type AdminPerson,
  type TrafficProfile,
} from './scenario-helpers.js';

/**
 * Attribution and the watch after completion on a live controller (real Redis, the real loop, outcomes
 * posted through the API): an incident that control shares holds the rollout without killing the flag,
 * and it goes on by itself once traffic is healthy again; a completed rollout whose policy watches
 * after completion is rolled back by a later breach, and once the watch is over nothing watches.
 */

/** An incident: half of the requests fail in both cohorts, well above the 20 % rollback threshold. */
const INCIDENT: TrafficProfile = {
  name: 'incident',
  treatment: { ...UNHEALTHY.treatment },
  control: { ...UNHEALTHY.treatment },
};

const disabledFlag = { environments: { [ENV]: { enabled: false, strategies: [] } } };

/**
 * Steps that need no approval, so the rollout moves on by itself. The gate compares treatment with
 * control (both fail alike in an incident); the rollback rule is the policy's absolute line.
 */
function selfDrivingPolicy(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const base = shortPolicy(name);
  return {
    ...base,
    steps: [1, 10, 100],
    stepDefaults: { ...(base.stepDefaults as object), maxDuration: '30s', approval: { required: 0 } },
    gates: [{ metric: 'error_rate', compare: 'control', maxRelativeIncrease: 1, minControlSamples: MIN_SAMPLES }],
    ...overrides,
  };
}

afterEach(async () => {
  await stopAllTraffic();
});

describe('attribution and the watch after completion, live', () => {
  let t: TestController;
  let client: string;
  let editor: AdminPerson;
  let receiver: Receiver;

  const start = (flag: string, policy: string, status = 201) =>
    expectStatus(t, status, 'POST', '/api/admin/rollouts', { flag, environment: ENV, policy }, editor.secret);
  const killSwitch = async (flag: string) => (await expectStatus(t, 200, 'GET', `/api/admin/flags/${flag}`)).killSwitches[ENV];
  const eventsOf = (id: string) => receiver.received.map((r) => JSON.parse(r.body)).filter((e) => e.rollout?.id === id);

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestController({
      env: { ...FAST_ENV, POLICIES_DIR: emptyDir(), WEBHOOK_POLL_MS: '50', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' },
    });
    client = await t.token({ kind: 'client', environment: ENV });
    editor = await adminPerson(t, 'editor', 'erin-editor');
    await expectStatus(t, 201, 'PUT', '/api/admin/webhooks/release-room', { url: receiver.url, secret: 'attribution-live-secret' });
  });

  afterAll(async () => {
    await stopAllTraffic();
    await t?.stop();
    await receiver?.close();
  });

  it('a shared incident holds the rollout without killing the flag, notifies, and the rollout goes on once traffic is healthy', async () => {
    const flag = 'attr-shared';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, disabledFlag, editor.secret);
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/attr-hold', selfDrivingPolicy('attr-hold'));
    const traffic = startTraffic(t, client, flag, INCIDENT);
    await traffic.nextBatch();
    const { id } = await start(flag, 'attr-hold');

    // Held from the first analysis, and past the rule's `for` (when a breach in treatment alone kills): still at 1 %.
    const breachedFor = (r: any) => (r.breachingSince[0] ? Date.parse(r.lastEvaluatedAt) - Date.parse(r.breachingSince[0]) : 0);
    const held = await waitForRollout(
      t,
      id,
      (r) => {
        expect(r).toMatchObject({ state: 'running', stepIndex: 0, percentage: 1 });
        return r.stepVerdict.shared === true && breachedFor(r) >= ROLLBACK_FOR_MS;
      },
      'held for a shared incident past the rule’s `for`',
    );
    expect(held.stepVerdict.kind).toBe('failing');
    expect(held.stepVerdict.reason).toContain('control is as bad: shared incident');
    expect(held.rollbackChecks[0]).toMatchObject({ verdict: 'fail', shared: true });
    expect(held.rollbackChecks[0].cohorts.control.value).toBeGreaterThan(0.2);
    // Several more analyses: still held at 1 %, never killed.
    await waitForAnalyses(t, id, 4, (r) => expect(r).toMatchObject({ state: 'running', percentage: 1 }));
    expect(await killSwitch(flag)).toBeUndefined();
    // The release room was told, once, with the reason.
    await receiver.waitFor(() => eventsOf(id).some((e) => e.type === 'rollout.gate_failing'), 'a gate_failing event');
    const failing = eventsOf(id).filter((e) => e.type === 'rollout.gate_failing');
    expect(failing).toHaveLength(1);
    expect(failing[0].details.reason).toContain('control is as bad: shared incident');

    // The incident is over: no person needed, the rollout goes on to 100 % and completes.
    traffic.set(HEALTHY);
    const done = await waitForRollout(t, id, (r) => r.state !== 'running', 'the rollout goes on and completes', 15_000);
    expect(done.state).toBe('completed');
    expect(done.history.map((h: any) => [h.from, h.to, h.percentage])).toEqual([
      ['pending', 'running', 1],
      ['running', 'running', 10],
      ['running', 'running', 100],
      ['running', 'completed', 100],
    ]);
    expect(await killSwitch(flag)).toBeUndefined();
    expect(traffic.failures).toEqual([]);
  });

  it('a watched completed rollout rolls back on a later breach (completed → rolled_back), in its history and report', async () => {
    const flag = 'attr-watched';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, disabledFlag, editor.secret);
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/attr-watch', selfDrivingPolicy('attr-watch', { watchAfterCompletion: '1m' }));
    const traffic = startTraffic(t, client, flag, HEALTHY);
    await traffic.nextBatch();
    const { id } = await start(flag, 'attr-watch');

    const completed = await waitForRollout(t, id, (r) => r.state === 'completed', 'completed', 15_000);
    expect(Date.parse(completed.watchUntil) - Date.parse(completed.history.at(-1).at)).toBe(60_000);
    expect(completed.status.watchUntil).toBe(completed.watchUntil);
    // Still watching: it is the flag's active rollout, so a new one must wait.
    await start(flag, 'attr-watch', 409);
    await waitForAnalyses(t, id, 2, (r) => expect(r.state).toBe('completed'));

    traffic.set(UNHEALTHY);
    const rolledBack = await waitForRollout(t, id, (r) => r.state === 'rolled_back', 'rolled back during the watch');
    const last = rolledBack.history.at(-1);
    expect(last).toMatchObject({ from: 'completed', to: 'rolled_back', percentage: 100, actor: 'controller' });
    expect(last.reason).toMatch(/^rollback rule error_rate\(treatment\) > 0\.2 for 500ms breached: .* \(during the 1m watch after completion\)$/);
    expect(rolledBack.watchUntil).toBeUndefined();
    expect(await killSwitch(flag)).toMatchObject({ reason: last.reason, actor: `rollout ${id}` });
    // The go-live report tells the breach came during the watch, and lists the transition.
    const report = await fetch(`${t.url}/api/admin/rollouts/${id}/report`, { headers: { Authorization: t.adminToken } });
    expect(report.status).toBe(200);
    const md = await report.text();
    expect(md).toContain('## Breach that caused the rollback');
    expect(md).toMatch(/- During the watch after completion: the rollout had completed \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(md).toMatch(/\| completed → rolled back \| 100% \| controller \|/);
    expect(md).toContain('- After completion: rollback rules keep watching for 1m after completion');
    // Audited like any rollback, with the kill of the flag.
    const audit = await auditEvents(t);
    expect(audit.filter((e) => e.target.id === id && e.action === 'rollout.rolled_back')).toHaveLength(1);
    expect(audit.some((e) => e.target.id === flag && e.action === 'flag.kill')).toBe(true);
    expect(traffic.failures).toEqual([]);
  });

  it('once the watch is over nothing is analysed or killed, and the flag is free for a new rollout', async () => {
    const flag = 'attr-watch-over';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, disabledFlag, editor.secret);
    await expectStatus(t, 201, 'PUT', '/api/admin/policies/attr-watch-short', selfDrivingPolicy('attr-watch-short', { watchAfterCompletion: '1s' }));
    const traffic = startTraffic(t, client, flag, HEALTHY);
    await traffic.nextBatch();
    const { id } = await start(flag, 'attr-watch-short');
    await waitForRollout(t, id, (r) => r.state === 'completed', 'completed', 15_000);
    const over = await waitForRollout(t, id, (r) => r.state === 'completed' && r.watchUntil === undefined, 'the watch over');
    expect(over.status.watchUntil).toBeUndefined();

    traffic.set(UNHEALTHY);
    // Several analysis intervals of breaching traffic: nothing looks at the rollout any more.
    await new Promise((resolve) => setTimeout(resolve, ROLLBACK_FOR_MS + 4 * ANALYSIS_INTERVAL_MS));
    const after = await expectStatus(t, 200, 'GET', `/api/admin/rollouts/${id}`);
    expect(after).toMatchObject({ state: 'completed', lastEvaluatedAt: over.lastEvaluatedAt });
    expect(await killSwitch(flag)).toBeUndefined();
    traffic.set(HEALTHY);
    const next = await start(flag, 'attr-watch-short');
    expect(next.state).toBe('running');
    expect(traffic.failures).toEqual([]);
  });
});
