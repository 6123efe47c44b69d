import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestController } from '../support/controller.js';
import { FAST_WEBHOOKS } from '../notifications/sample-events.js';
import { startEventReceiver } from './event-receiver.js';
import { startLiveSdk, until } from '../sdk/sdk-helpers.js';
import {
  ENV,
  HEALTHY,
  UNHEALTHY,
  auditEvents,
  expectStatus,
  servedPercentage,
  startTraffic,
  waitForAnalyses,
  waitForRollout,
  startCast,
  stopCast,
  type AdminPerson,
  type Cast,
  type Clock,
  type TrafficProfile,
} from './scenario-helpers.js';

/**
 * Go-live plans as teams run them, on a live controller over the real test Redis, with its clock
 * injected and a stock SDK checking what applications are served: a rollout scheduled for a time,
 * a step held until its not-before time, and a release of a module's three switches ramped as one.
 */

const plainFlag = { environments: { [ENV]: { enabled: true, strategies: [] } } };
const USERS = Array.from({ length: 3000 }, (_, i) => `user-${i}`);

describe('scheduled rollouts and not-before times', () => {
  let cast: Cast;
  let t: TestController;
  let clock: Clock;
  let client: string;
  let editor: AdminPerson;
  let releaseManager: AdminPerson;

  beforeAll(async () => {
    cast = await startCast(FAST_WEBHOOKS);
    ({ t, clock, client, editor, releaseManager } = cast);
  });

  afterAll(() => stopCast(cast));

  it('a rollout scheduled for a time waits, serving nobody, and starts at that time and not before', async () => {
    const flag = 'o1-gray';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, plainFlag, editor.secret);
    const live = await startLiveSdk(t, client, 'streaming', { refreshInterval: 60_000 });
    const receiver = await startEventReceiver(t, 'schedule-news', ['rollout.scheduled', 'rollout.started']);
    const startAt = new Date(clock.now().getTime() + 60 * 60_000); // an hour ahead, on the controller's clock
    const scheduled = await expectStatus(
      t,
      201,
      'POST',
      '/api/admin/rollouts',
      { flag, environment: ENV, policy: 'short', startAt: startAt.toISOString() },
      editor.secret,
    );
    expect(scheduled).toMatchObject({ state: 'scheduled', percentage: 0, startAt: startAt.toISOString() });
    expect(scheduled.history).toEqual([expect.objectContaining({ from: 'scheduled', to: 'scheduled', actor: 'erin-editor' })]);
    expect(scheduled.status.waitingFor).toContainEqual({ kind: 'start-time', met: false, startAt: startAt.toISOString() });

    // A second rollout of the same flag is refused: the schedule holds it.
    const second = await t.api('POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'short' }, editor.secret);
    expect(second.status).toBe(409);

    // Analyses go on; nothing starts and nothing is served while the clock is before startAt.
    const traffic = startTraffic(t, client, flag, HEALTHY);
    await new Promise((r) => setTimeout(r, 600));
    const before = await expectStatus(t, 200, 'GET', `/api/admin/rollouts/${scheduled.id}`);
    expect(before).toMatchObject({ state: 'scheduled', percentage: 0 });
    expect(USERS.filter((userId) => live.sdk.isEnabled(flag, { userId }))).toEqual([]);

    // One minute before: still scheduled. At the time: it starts, and the SDK serves 1 %.
    clock.offsetMs += 59 * 60_000;
    await new Promise((r) => setTimeout(r, 400));
    expect((await expectStatus(t, 200, 'GET', `/api/admin/rollouts/${scheduled.id}`)).state).toBe('scheduled');
    clock.offsetMs += 61_000;
    const started = await waitForRollout(t, scheduled.id, (r) => r.state === 'running', 'started at its time');
    const entered = started.history.find((h: any) => h.to === 'pending');
    expect(entered).toMatchObject({ from: 'scheduled', actor: 'schedule', reason: `scheduled start (${startAt.toISOString()})` });
    expect(Date.parse(entered.at)).toBeGreaterThanOrEqual(startAt.getTime());
    await until(live.sdk, () => servedPercentage(live.sdk, flag) === 1, 'the SDK serves 1%', 3_000);
    const audit = await auditEvents(t);
    expect(audit.some((e: any) => e.action === 'rollout.schedule' && e.target.id === scheduled.id)).toBe(true);
    // Told twice: when it was scheduled (with its time), and when it started.
    expect(await receiver.waitFor('rollout.scheduled')).toMatchObject({
      rollout: { id: scheduled.id },
      details: { startAt: startAt.toISOString(), by: 'erin-editor' },
    });
    expect(await receiver.waitFor('rollout.started')).toMatchObject({ rollout: { id: scheduled.id, percentage: 1 } });
    await receiver.stop();
    expect(traffic.failures).toEqual([]);
  });

  it('a scheduled rollout is cancelled with abort, which frees the flag; pausing it is refused', async () => {
    const flag = 'o1-cancel';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, plainFlag, editor.secret);
    const startAt = new Date(clock.now().getTime() + 86_400_000).toISOString();
    const scheduled = await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'short', startAt }, editor.secret);
    const paused = await t.api('POST', `/api/admin/rollouts/${scheduled.id}/pause`, {}, editor.secret);
    expect(paused.status).toBe(409);
    expect(paused.body.message).toMatch(/scheduled .* abort it to cancel/);
    const aborted = await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${scheduled.id}/abort`, { comment: 'plan moved' }, editor.secret);
    expect(aborted).toMatchObject({ state: 'aborted', percentage: 0 });
    await expectStatus(t, 201, 'POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'short' }, editor.secret);
  });

  it('refuses a start time in the past, over a year ahead, or a not-before for a step the policy lacks, naming the field', async () => {
    const flag = 'o1-bad';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, plainFlag, editor.secret);
    const past = await t.api('POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'short', startAt: '2020-01-01T00:00:00+08:00' }, editor.secret);
    expect(past.status).toBe(400);
    expect(past.body.message).toMatch(/startAt .* in the past/);
    const far = new Date(clock.now().getTime() + 400 * 86_400_000).toISOString();
    expect((await t.api('POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'short', startAt: far }, editor.secret)).status).toBe(400);
    const noOffset = await t.api('POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'short', startAt: '2030-01-01 10:00' }, editor.secret);
    expect(noOffset.status).toBe(400);
    expect(JSON.stringify(noOffset.body)).toMatch(/startAt/);
    const step = await t.api('POST', '/api/admin/rollouts', { flag, environment: ENV, policy: 'short', notBefore: { '25': far } }, editor.secret);
    expect(step.status).toBe(400);
    expect(step.body.message).toMatch(/notBefore\.25: .* no 25% step \(its steps: 1, 10, 50, 100\)/);
  });

  it('a step with a not-before time waits for it, approved and healthy, then advances', async () => {
    const flag = 'o1-full-release';
    await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, plainFlag, editor.secret);
    // A few seconds ahead in real time: the clock is not moved under a running step (its outcome
    // buckets are 100 ms here, and an hour of them is not what a step ever reads at once).
    const notBefore = new Date(clock.now().getTime() + 3_000).toISOString();
    const traffic = startTraffic(t, client, flag, HEALTHY);
    const started = await expectStatus(
      t,
      201,
      'POST',
      '/api/admin/rollouts',
      { flag, environment: ENV, policy: 'short', notBefore: { '10': notBefore } },
      editor.secret,
    );
    expect(started).toMatchObject({ state: 'running', percentage: 1, notBefore: { '10': notBefore } });
    await expectStatus(t, 200, 'POST', `/api/admin/rollouts/${started.id}/approve`, { step: 10, ahead: true }, releaseManager.secret);
    // Healthy and approved, it stays at 1 % analysis after analysis, saying what it waits for.
    await waitForRollout(t, started.id, (r) => r.stepVerdict.kind === 'healthy', 'the 1% step healthy');
    const held = await waitForAnalyses(t, started.id, 3, (r) => expect(r).toMatchObject({ state: 'running', percentage: 1 }));
    expect(held.status.waitingFor).toContainEqual({ kind: 'not-before', met: false, forPercentage: 10, notBefore });
    const advanced = await waitForRollout(t, started.id, (r) => r.percentage === 10, 'advanced to 10% after its not-before time');
    expect(Date.parse(advanced.history.at(-1).at)).toBeGreaterThanOrEqual(Date.parse(notBefore));
    expect(traffic.failures).toEqual([]);
  });
});

describe('a release of several flags ramped as one', () => {
  let cast: Cast;
  let t: TestController;
  let client: string;
  let editor: AdminPerson;
  let releaseManager: AdminPerson;
  const module = ['o2-supplier-list', 'o2-supplier-edit', 'o2-supplier-export'];

  beforeAll(async () => {
    cast = await startCast();
    ({ t, client, editor, releaseManager } = cast);
    for (const flag of module) await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, plainFlag, editor.secret);
  });

  afterAll(() => stopCast(cast));

  it('serves the same users every flag at 1 %, needs one approval per step, and one breach turns all three off in one commit', async () => {
    const live = await startLiveSdk(t, client, 'streaming', { refreshInterval: 60_000 });
    // Each flag reports its own outcomes, and the module reports some as a whole (per release).
    const traffic = module.map((flag) => startTraffic(t, client, flag, HEALTHY));
    const whole = startReleaseTraffic(t, client, 'supplier-module', HEALTHY);
    const started = await expectStatus(
      t,
      201,
      'POST',
      '/api/admin/releases',
      { name: 'supplier-module', environment: ENV, policy: 'short', flags: module },
      editor.secret,
    );
    expect(started).toMatchObject({ state: 'running', percentage: 1, name: 'supplier-module', flags: module });
    expect((await expectStatus(t, 200, 'GET', `/api/admin/releases/${started.id}`)).flags).toEqual(module);
    expect((await expectStatus(t, 200, 'GET', '/api/admin/releases')).releases.map((r: any) => r.id)).toEqual([started.id]);

    // One cohort: the same users get each of the three flags.
    await until(live.sdk, () => module.every((flag) => servedPercentage(live.sdk, flag) === 1), 'every flag served at 1%', 3_000);
    const cohorts = module.map((flag) => USERS.filter((userId) => live.sdk.isEnabled(flag, { userId })));
    expect(cohorts[0]!.length).toBeGreaterThan(0);
    expect(cohorts[1]).toEqual(cohorts[0]);
    expect(cohorts[2]).toEqual(cohorts[0]);

    // A flag of the release cannot start a rollout of its own meanwhile, nor can the name be reused.
    expect((await t.api('POST', '/api/admin/rollouts', { flag: module[1], environment: ENV, policy: 'short' }, editor.secret)).status).toBe(409);
    const again = await t.api(
      'POST',
      '/api/admin/releases',
      { name: 'supplier-module', environment: ENV, policy: 'short', flags: ['o2-other'] },
      editor.secret,
    );
    expect(again.status).toBe(404); // o2-other does not exist: flags are checked first
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/o2-other', plainFlag, editor.secret);
    const reused = await t.api(
      'POST',
      '/api/admin/releases',
      { name: 'supplier-module', environment: ENV, policy: 'short', flags: ['o2-other'] },
      editor.secret,
    );
    expect(reused.status).toBe(409);
    expect(reused.body.message).toMatch(/release "supplier-module" already has an active rollout/);

    // One approval advances all three together.
    await waitForRollout(t, started.id, (r) => r.state === 'awaiting_approval', 'awaiting approval for 10%');
    const gates = (await expectStatus(t, 200, 'GET', `/api/admin/releases/${started.id}`)).gates;
    for (const flag of module)
      expect(
        gates.some((g: any) => g.flag === flag && g.verdict === 'pass'),
        `gates judged on ${flag} alone`,
      ).toBe(true);
    expect(
      gates.some((g: any) => g.flag === undefined && g.verdict === 'pass'),
      'gates judged on the release as a whole',
    ).toBe(true);
    const approved = await expectStatus(t, 200, 'POST', `/api/admin/releases/${started.id}/approve`, { step: 10 }, releaseManager.secret);
    expect(approved.percentage).toBe(10);
    await until(live.sdk, () => module.every((flag) => servedPercentage(live.sdk, flag) === 10), 'every flag served at 10%', 3_000);

    // One flag's treatment fails: the release rolls back, and every flag is off, killed in one commit.
    traffic[2]!.set(UNHEALTHY);
    const rolledBack = await waitForRollout(t, started.id, (r) => r.state === 'rolled_back', 'rolled back', 8_000);
    expect(rolledBack.history.at(-1)).toMatchObject({ to: 'rolled_back' });
    await until(live.sdk, () => module.every((flag) => live.sdk.getFeatureToggleDefinition(flag)?.enabled === false), 'every flag off', 3_000);
    const kills = (await auditEvents(t)).filter((e: any) => e.action === 'flag.kill' && module.includes(e.target.id));
    expect(kills.map((e: any) => e.target.id).sort()).toEqual([...module].sort());
    // One commit: the three kills sit next to each other in the chain, with the rollout's transition.
    const seqs = kills.map((e: any) => e.seq).sort((a: number, b: number) => a - b);
    expect(seqs.at(-1) - seqs[0]).toBe(2);
    const flags = await Promise.all(module.map((flag) => expectStatus(t, 200, 'GET', `/api/admin/flags/${flag}`)));
    expect(new Set(flags.map((f: any) => f.killSwitches[ENV].at)).size).toBe(1);
    // One go-live report for the module, naming every flag.
    const report = await fetch(`${t.url}/api/admin/rollouts/${started.id}/report?format=md`, { headers: { Authorization: editor.secret } });
    expect(report.status).toBe(200);
    const text = await report.text();
    expect(text).toContain('# Go-live report: release `supplier-module` in `production`');
    for (const flag of module) expect(text).toContain(`\`${flag}\``);
    // Free again: the flags and the name can start anew.
    expect((await t.api('POST', '/api/admin/rollouts', { flag: 'o2-other', environment: ENV, policy: 'short' }, editor.secret)).status).toBe(201);
    whole.stop();
    for (const g of [...traffic, whole]) expect(g.failures).toEqual([]);
  });

  it('an incoming alert naming the release kills every flag of it in one commit, and pauses it on a pause', async () => {
    const flags = ['o2-train-a', 'o2-train-b'];
    for (const flag of flags) await expectStatus(t, 201, 'PUT', `/api/admin/flags/${flag}`, plainFlag, editor.secret);
    const release = await expectStatus(t, 201, 'POST', '/api/admin/releases', { name: 'training', environment: ENV, policy: 'short', flags }, editor.secret);
    const token = await expectStatus(t, 201, 'POST', '/api/admin/tokens', { kind: 'alert', environments: [ENV], name: 'monitoring' });
    const send = (action: string, fingerprint: string) =>
      fetch(`${t.url}/api/alerts/generic`, {
        method: 'POST',
        headers: { Authorization: token.secret, 'Content-Type': 'application/json' },
        body: JSON.stringify({ release: 'training', environment: ENV, action, reason: 'P0 bug in training', fingerprint }),
      }).then(async (res) => ({ status: res.status, body: await res.json() }));
    const paused = await send('pause', 'p0-1');
    expect(paused.status).toBe(200);
    expect(paused.body.results[0]).toMatchObject({ outcome: 'acted', rolloutId: release.id });
    expect((await expectStatus(t, 200, 'GET', `/api/admin/releases/${release.id}`)).state).toBe('paused');
    const killed = await send('kill', 'p0-2');
    expect(killed.body.results[0]).toMatchObject({ outcome: 'acted' });
    const kills = (await auditEvents(t)).filter((e: any) => e.action === 'flag.kill' && flags.includes(e.target.id));
    expect(kills).toHaveLength(2);
    expect(Math.abs(kills[0].seq - kills[1].seq)).toBe(1);
    const served = await Promise.all(flags.map((flag) => expectStatus(t, 200, 'GET', `/api/admin/flags/${flag}`)));
    expect(served.every((f: any) => f.killSwitches[ENV]?.reason === served[0].killSwitches[ENV].reason)).toBe(true);
    expect((await send('kill', 'p0-2')).body.results[0].outcome).toBe('duplicate');
  });

  it('refuses flags that cannot share a cohort, naming them, and a release with a flag twice', async () => {
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/o2-by-session', {
      environments: {
        [ENV]: { enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '0', stickiness: 'sessionId', groupId: 'a' } }] },
      },
    });
    await expectStatus(t, 201, 'PUT', '/api/admin/flags/o2-by-tenant', {
      environments: { [ENV]: { enabled: true, strategies: [{ name: 'flexibleRollout', parameters: { rollout: '0', stickiness: 'tenantId', groupId: 'b' } }] } },
    });
    const refused = await t.api(
      'POST',
      '/api/admin/releases',
      { name: 'mixed', environment: ENV, policy: 'short', flags: ['o2-by-session', 'o2-by-tenant'] },
      editor.secret,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.message).toMatch(/o2-by-session: sessionId, o2-by-tenant: tenantId/);
    const twice = await t.api(
      'POST',
      '/api/admin/releases',
      { name: 'twice', environment: ENV, policy: 'short', flags: ['o2-by-session', 'o2-by-session'] },
      editor.secret,
    );
    expect(twice.status).toBe(400);
    // Releases are not rollouts of one flag: a plain rollout's id is not a release.
    const plain = (await expectStatus(t, 200, 'GET', '/api/admin/rollouts')).rollouts.find((r: any) => !r.release);
    expect((await t.api('GET', `/api/admin/releases/${plain.id}`)).status).toBe(404);
  });
});

/** Outcomes reported for a release as a whole (`release` in place of `flag`), every 50 ms. */
function startReleaseTraffic(t: TestController, clientSecret: string, release: string, profile: TrafficProfile) {
  const failures: string[] = [];
  let stopped = false;
  const post = async () => {
    const records = (['treatment', 'control'] as const).map((cohort) => ({
      release,
      cohort,
      requests: profile[cohort].requests,
      errors: profile[cohort].errors,
    }));
    const res = await fetch(`${t.url}/api/metrics/outcomes`, {
      method: 'POST',
      headers: { Authorization: clientSecret, 'Content-Type': 'application/json' },
      body: JSON.stringify({ appName: 'module-traffic', records }),
    }).catch((err) => ({ status: String(err), arrayBuffer: async () => undefined }));
    await res.arrayBuffer();
    if (res.status !== 202) failures.push(String(res.status));
    if (!stopped) setTimeout(post, 50);
  };
  void post();
  return {
    failures,
    stop: () => {
      stopped = true;
    },
  };
}
