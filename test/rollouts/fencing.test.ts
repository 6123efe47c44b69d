import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Actor } from '../../src/audit/chain.js';
import { readAuditHead } from '../../src/audit/audited-commit.js';
import { verifyAuditLog } from '../../src/audit/audit-service.js';
import { FLAGS } from '../../src/flags/collections.js';
import { EnvironmentService } from '../../src/environments/environment-service.js';
import { FlagService } from '../../src/flags/flag-service.js';
import { flagDefinitionSchema, type StoredFlag } from '../../src/flags/schema.js';
import { createLogger } from '../../src/logger.js';
import { emptyTotals } from '../../src/metrics/outcome-math.js';
import type { OutcomeFields, OutcomeSource, OutcomeTotals, WindowQuery } from '../../src/metrics/outcome-model.js';
import { fieldsOf } from '../../src/metrics/outcome-fields.js';
import { PolicyService } from '../../src/policies/policy-service.js';
import { policySchema } from '../../src/policies/policy-schema.js';
import { LEADER_LEASE, RolloutLoop } from '../../src/rollouts/rollout-loop.js';
import { ROLLOUTS, type DecisionInput, type Rollout } from '../../src/rollouts/rollout-model.js';
import { RolloutService } from '../../src/rollouts/rollout-service.js';
import type { Fence } from '../../src/rollouts/rollout-writer.js';
import { ConflictError, createRedisStore, type RedisStore } from '../../src/store/index.js';
import { uniquePrefix } from '../support/controller.js';

/**
 * Fencing: once the controller lease `rollout-leader` has passed from replica A to replica B, a
 * write that still carries A's fencing token is refused by the store, atomically and completely,
 * at every level: a raw commit, a rollout decision, and a whole controller-loop tick.
 */

const FLAG = 'fenced-flag';
const ENV = 'production';
const SHORT_TTL_MS = 200;
const CONTROLLER: Actor = { type: 'system', id: 'controller', name: 'controller' };
const PERSON: Actor = { type: 'token', id: 'editor-1', name: 'editor' };
const logger = createLogger('silent');

/** Healthy, plentiful outcomes: every gate passes. */
function healthy(): OutcomeTotals {
  const t = emptyTotals();
  t.treatment.requests = 500;
  t.control.requests = 500;
  return t;
}
const analysis = (): DecisionInput => ({ kind: 'analysis', measurements: { step: healthy(), recent: healthy() } });

/** An outcome source that always reports healthy traffic, optionally holding each read until released. */
class ScriptedOutcomes implements OutcomeSource {
  readonly bucketMs = 1000;
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  private entered: (() => void) | undefined;
  /** Resolves when a read has reached the (closed) gate. */
  entry: Promise<void> = Promise.resolve();

  hold(): void {
    this.gate = new Promise((r) => (this.open = r));
    this.entry = new Promise((r) => (this.entered = r));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  async sum(): Promise<OutcomeTotals> {
    if (this.gate) {
      this.entered?.();
      await this.gate;
    }
    return healthy();
  }

  async sumWindowsMany(queries: WindowQuery[]): Promise<OutcomeFields[][]> {
    const fields = fieldsOf(await this.sum());
    return queries.map((q) => q.windows.map(() => ({ ...fields })));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the lease has lapsed (nobody holds it), probing without taking it. */
async function waitForLeaseToLapse(store: RedisStore, lease: string, heldBy: string, ttlMs: number): Promise<void> {
  await sleep(ttlMs + 20);
  const deadline = Date.now() + 5_000;
  // acquireLease by the old holder would renew it; probe with a fencing commit instead (refused while not held).
  for (;;) {
    const refused = await store.commit({ fence: { lease, token: Number.MAX_SAFE_INTEGER } }).then(
      () => null,
      (err: unknown) => (err instanceof ConflictError ? err.reason : String(err)),
    );
    if (refused?.includes('is not held')) return;
    if (Date.now() > deadline) throw new Error(`lease ${lease} still held by ${heldBy}: ${refused}`);
    await sleep(20);
  }
}

describe('fencing: a write with a stale fencing token is refused', () => {
  let store: RedisStore;
  let clock: number;
  const now = () => new Date(clock);
  let rollouts: RolloutService;
  let rollout: Rollout;
  let tokenA: number;
  let tokenB: number;
  const fence = (token: number): Fence => ({ lease: LEADER_LEASE, token });

  const snapshot = async () => {
    const [r, f, head, feed] = await Promise.all([
      store.get<Rollout>(ROLLOUTS, rollout.id),
      store.get<StoredFlag>(FLAGS, FLAG),
      readAuditHead(store),
      store.feedHead(),
    ]);
    return { rollout: r, flag: f, auditHead: head, feedHead: feed };
  };
  const strategyRollout = (flag: StoredFlag | undefined) => flag?.environments[ENV]?.strategies.find((s) => s.id === rollout.strategyId)?.parameters.rollout;

  beforeEach(async () => {
    store = await createRedisStore(inject('redisUrl'), uniquePrefix('fencing'));
    clock = Date.parse('2030-01-07T12:00:00.000Z'); // a Monday noon; the policy has no change window anyway
    rollouts = new RolloutService(store, now, new EnvironmentService(store, now));
    // Flags may only name declared environments.
    await new EnvironmentService(store, now).put({ name: ENV }, PERSON);
    await new FlagService(store, now).put(flagDefinitionSchema.parse({ name: FLAG, environments: { [ENV]: { enabled: true, strategies: [] } } }), PERSON);
    await new PolicyService(store, now).put(
      policySchema.parse({
        name: 'no-approval',
        steps: [1, 5, 100],
        stepDefaults: { minDuration: '1s', minSamples: 10, maxDuration: '1h', approval: { required: 0 } },
        analysisInterval: '1s',
        gates: [{ metric: 'error_rate', max: 0.05 }],
      }),
      PERSON,
    );
    rollout = await rollouts.start({ flag: FLAG, environment: ENV, policy: 'no-approval' }, { id: 'editor-1', name: 'editor', role: 'editor' }, PERSON);
    expect(rollout).toMatchObject({ state: 'running', stepIndex: 0, percentage: 1 });

    // A takes the lease with a short TTL and dies (never renews); after it lapses, B takes it.
    const a = await store.acquireLease(LEADER_LEASE, 'replica-A', SHORT_TTL_MS);
    expect(a).not.toBeNull();
    tokenA = a!.token;
    expect(await store.acquireLease(LEADER_LEASE, 'replica-B', 10_000)).toBeNull(); // A still holds it
    await waitForLeaseToLapse(store, LEADER_LEASE, 'replica-A', SHORT_TTL_MS);
    const b = await store.acquireLease(LEADER_LEASE, 'replica-B', 10_000);
    expect(b).not.toBeNull();
    tokenB = b!.token;
    expect(tokenB).toBeGreaterThan(tokenA);
  });

  afterEach(async () => {
    await store?.close();
  });

  it('(a) store.commit with the old token throws ConflictError and writes nothing; the new token writes', async () => {
    const before = await snapshot();
    const attempt = store.commit({
      puts: [
        { collection: 'fence-probe', id: 'doc', value: { by: 'A' } },
        { collection: ROLLOUTS, id: rollout.id, value: { ...rollout, percentage: 99 }, expectVersion: before.rollout!.version },
      ],
      appends: [{ log: 'fence-probe-log', seq: 1, entry: { by: 'A' } }],
      fence: fence(tokenA),
    });
    const err = await attempt.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).reason).toMatch(/^fence: lease "rollout-leader" token is \d+, not \d+/);

    // Nothing of the commit happened: no document, no log entry, no feed entry, no version bump.
    expect(await store.get('fence-probe', 'doc')).toBeNull();
    expect(await store.readLog('fence-probe-log', 1, 10)).toEqual([]);
    expect(await snapshot()).toEqual(before);

    // The same commit with B's token goes through.
    const ok = await store.commit({
      puts: [{ collection: 'fence-probe', id: 'doc', value: { by: 'B' } }],
      appends: [{ log: 'fence-probe-log', seq: 1, entry: { by: 'B' } }],
      fence: fence(tokenB),
    });
    expect(ok.versions['fence-probe/doc']).toBe(1);
    expect((await store.get('fence-probe', 'doc'))?.value).toEqual({ by: 'B' });
    expect(await store.readLog('fence-probe-log', 1, 10)).toEqual([{ seq: 1, entry: { by: 'B' } }]);
  });

  it("(b) the writer's per-rollout path with the old fence is refused and leaves rollout, flag and audit log untouched; the new fence advances", async () => {
    clock += 60_000; // the step's minimum duration is long past: a healthy analysis would advance it
    const before = await snapshot();
    expect(strategyRollout(before.flag!.value)).toBe('1');

    const err = await rollouts.writer.apply({ id: rollout.id, input: analysis, actor: CONTROLLER, action: 'rollout.analysis', fence: fence(tokenA) }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).reason).toMatch(/^fence/);
    const after = await snapshot();
    expect(after).toEqual(before); // same versions, same values, same audit head, same feed head

    const advanced = await rollouts.writer.apply({ id: rollout.id, input: analysis, actor: CONTROLLER, action: 'rollout.analysis', fence: fence(tokenB) });
    expect(advanced).toMatchObject({ state: 'running', stepIndex: 1, percentage: 5 });
    const written = await snapshot();
    expect(written.rollout!.version).toBe(before.rollout!.version + 1);
    expect(written.rollout!.value).toMatchObject({ state: 'running', stepIndex: 1, percentage: 5 });
    expect(written.flag!.version).toBe(before.flag!.version + 1);
    expect(strategyRollout(written.flag!.value)).toBe('5');
    expect(written.auditHead.seq).toBeGreaterThan(before.auditHead.seq);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true });
  });

  it('(c) a RolloutLoop whose lease was taken over stops writing: its tick reports leader: false, even mid-tick', async () => {
    // Start from a clean lease: B (from beforeEach) hands it back.
    await store.releaseLease(LEADER_LEASE, 'replica-B');
    const outcomesA = new ScriptedOutcomes();
    const outcomesB = new ScriptedOutcomes();
    let clockB = clock;
    const loopA = new RolloutLoop(store, rollouts, outcomesA, logger, {
      replicaId: 'loop-A',
      tickMs: 100,
      leaseTtlMs: SHORT_TTL_MS,
      batchSize: 2,
      concurrency: 2,
      now,
    });
    // B has its own service and clock, so that we choose when B finds the rollout due.
    const rolloutsB = new RolloutService(store, () => new Date(clockB), new EnvironmentService(store, () => new Date(clockB)));
    const loopB = new RolloutLoop(store, rolloutsB, outcomesB, logger, {
      replicaId: 'loop-B',
      tickMs: 100,
      leaseTtlMs: 10_000,
      batchSize: 2,
      concurrency: 2,
      now: () => new Date(clockB),
    });

    // 1. A leads and writes: the rollout advances from 1% to 5%.
    clock += 60_000;
    const first = await loopA.tick();
    expect(first).toMatchObject({ leader: true, analysed: 1, changed: 1, errors: 0 });
    expect(loopA.isLeader).toBe(true);
    expect((await store.get<Rollout>(ROLLOUTS, rollout.id))!.value).toMatchObject({ stepIndex: 1, percentage: 5 });

    // 2. A starts another tick, takes (renews) the lease and reads the rollout, then stalls while measuring
    //    (a GC pause, a partition): its lease lapses and B takes over.
    clock += 60_000;
    outcomesA.hold();
    const stalled = loopA.tick();
    await outcomesA.entry;
    const beforeTakeover = await snapshot();
    await waitForLeaseToLapse(store, LEADER_LEASE, 'loop-A', SHORT_TTL_MS);
    clockB = clock - 60_000; // B's clock: the rollout was just evaluated, so B's tick writes nothing to it
    const takeover = await loopB.tick();
    expect(takeover).toMatchObject({ leader: true, analysed: 0, changed: 0 });
    expect(loopB.isLeader).toBe(true);
    expect(await snapshot()).toEqual(beforeTakeover);

    // 3. A wakes up with a decision to advance (healthy, due) and the old token: the store refuses it,
    //    and A learns it is no longer the leader.
    outcomesA.release();
    const report = await stalled;
    expect(report).toMatchObject({ leader: false, changed: 0, errors: 0 });
    expect(loopA.isLeader).toBe(false);
    const afterStale = await snapshot();
    expect(afterStale).toEqual(beforeTakeover);
    expect(afterStale.rollout!.value).toMatchObject({ stepIndex: 1, percentage: 5 });
    expect(strategyRollout(afterStale.flag!.value)).toBe('5');

    // 4. A's next tick does not even try: B holds the lease.
    const again = await loopA.tick();
    expect(again).toMatchObject({ leader: false, analysed: 0, changed: 0 });
    expect(await snapshot()).toEqual(beforeTakeover);

    // 5. B, the real leader, carries on from where the store says the rollout is: 5% → 100% → completed.
    clockB = clock + 60_000;
    const led = await loopB.tick();
    expect(led).toMatchObject({ leader: true, analysed: 1, changed: 1, errors: 0 });
    const done = await rollouts.get(rollout.id);
    expect(done).toMatchObject({ stepIndex: 2, percentage: 100 });
    expect(done.history.filter((t) => t.to === 'running').map((t) => t.percentage)).toEqual([1, 5, 100]);
    expect(await verifyAuditLog(store)).toMatchObject({ ok: true });

    await loopB.stop();
    await loopA.stop();
  });
});
