import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import type { Actor } from '../../src/audit/chain.js';
import { readAuditHead } from '../../src/audit/audited-commit.js';
import { EnvironmentService } from '../../src/environments/environment-service.js';
import { FlagService } from '../../src/flags/flag-service.js';
import { flagDefinitionSchema } from '../../src/flags/schema.js';
import { emptyTotals } from '../../src/metrics/outcome-math.js';
import type { OutcomeTotals } from '../../src/metrics/outcome-model.js';
import { PolicyService } from '../../src/policies/policy-service.js';
import { policySchema } from '../../src/policies/policy-schema.js';
import { LEADER_LEASE } from '../../src/rollouts/rollout-loop.js';
import { ROLLOUTS, type DecisionInput, type Rollout, type Transition } from '../../src/rollouts/rollout-model.js';
import { ROLLOUT_HISTORIES, type AnalysisDoc } from '../../src/rollouts/rollout-docs.js';
import { RolloutService } from '../../src/rollouts/rollout-service.js';
import type { Fence, RolloutChange } from '../../src/rollouts/rollout-writer.js';
import { ConflictError, createRedisStore, type RedisStore } from '../../src/store/index.js';
import { uniquePrefix } from '../support/controller.js';

/**
 * The loop writes routine analyses (nothing but the rollout's own measurements change) for many
 * rollouts in one fenced commit. Anything more (a transition, a flag change) and any conflict go
 * back to the per-rollout path, so batching can never skip an audit event or overwrite a person.
 */

const ENV = 'production';
const CONTROLLER: Actor = { type: 'system', id: 'controller', name: 'controller' };
const EDITOR: Actor = { type: 'token', id: 'editor-1', name: 'editor' };
const STARTER = { id: 'editor-1', name: 'editor', role: 'editor' };
const MANAGER = { id: 'rm-1', name: 'release manager', role: 'release-manager' };

function totals(requests: number, errors: number): OutcomeTotals {
  const t = emptyTotals();
  t.treatment.requests = requests;
  t.treatment.errors = errors;
  t.control.requests = requests;
  return t;
}
const analysis = (requests: number, errors = 0): DecisionInput => ({
  kind: 'analysis',
  measurements: { step: totals(requests, errors), recent: totals(requests, errors) },
});

describe('batched routine analyses', () => {
  let store: RedisStore;
  let clock: number;
  let rollouts: RolloutService;
  let fence: Fence;
  let started: Rollout[];
  const changes: RolloutChange[] = [];
  // As the loop reads them: records made into rollouts for analysis, without their history.
  const read = async (id: string) => (await rollouts.docs.forAnalysis((await rollouts.docs.activeRecords()).filter((d) => d.id === id)))[0]!;
  const historyDoc = (id: string) => store.get<Transition[]>(ROLLOUT_HISTORIES, id);

  beforeEach(async () => {
    store = await createRedisStore(inject('redisUrl'), uniquePrefix('batch'));
    clock = Date.parse('2030-01-07T12:00:00.000Z');
    const now = () => new Date(clock);
    rollouts = new RolloutService(store, now, new EnvironmentService(store, now));
    changes.length = 0;
    rollouts.onChange((c) => changes.push(c));
    await new PolicyService(store, now).put(
      policySchema.parse({
        name: 'short',
        steps: [1, 50, 100],
        stepDefaults: { minDuration: '1m', minSamples: 100, maxDuration: '1h', approval: { required: 0 } },
        analysisInterval: '10s',
        gates: [{ metric: 'error_rate', max: 0.05 }],
        rollback: [{ metric: 'error_rate', above: 0.2, for: '0s', minSamples: 10 }],
      }),
      EDITOR,
    );
    // Flags may only name declared environments.
    await new EnvironmentService(store, now).put({ name: ENV }, EDITOR);
    started = [];
    for (const name of ['batch-a', 'batch-b', 'batch-c']) {
      await new FlagService(store, now).put(flagDefinitionSchema.parse({ name, environments: { [ENV]: { enabled: true, strategies: [] } } }), EDITOR);
      started.push(await rollouts.start({ flag: name, environment: ENV, policy: 'short' }, STARTER, EDITOR));
    }
    fence = { lease: LEADER_LEASE, token: (await store.acquireLease(LEADER_LEASE, 'batch-test', 10_000))!.token };
    changes.length = 0;
  });

  afterEach(async () => {
    await store.close();
  });

  it('writes every routine analysis in one commit, without audit events, and tells listeners', async () => {
    const docs = await Promise.all(started.map((r) => read(r.id)));
    const auditBefore = await readAuditHead(store);
    clock += 10_000;
    const { written, rest } = await rollouts.writer.commitRoutine(
      docs.map((doc) => ({ doc, input: analysis(10) })),
      CONTROLLER,
      fence,
    );
    expect(written).toBe(3);
    expect(rest).toEqual([]);
    for (const doc of docs) {
      const after = await read(doc.id);
      expect(after.version).toBe(doc.version + 1);
      expect(after.value.lastEvaluatedAt).toBe(new Date(clock).toISOString());
      expect(after.value.stepVerdict.kind).toBe('waiting'); // 10 of 100 samples
      expect(after.value.state).toBe('running');
    }
    expect(await readAuditHead(store)).toEqual(auditBefore);
    expect(changes.map((c) => [c.after.id, c.action])).toEqual(docs.map((d) => [d.id, 'rollout.analysis']));
    // The history is neither read nor rewritten by a routine analysis, and is whole when read back.
    for (const doc of docs) {
      expect((doc.value as Partial<Rollout>).history).toBeUndefined();
      expect((await historyDoc(doc.id))!.version).toBe(1);
      expect((await rollouts.get(doc.id)).history.map((t) => t.to)).toEqual(['running']);
    }
    const record = (await store.get<Record<string, unknown>>(ROLLOUTS, docs[0]!.id))!.value;
    expect(record).not.toHaveProperty('plan');
    expect(record).not.toHaveProperty('history');
  });

  it('leaves a rollout whose decision is a transition to the full path, and still writes the others', async () => {
    const docs = await Promise.all(started.map((r) => read(r.id)));
    clock += 10_000;
    const inputs = [analysis(10), analysis(100, 50), analysis(10)]; // b breaches its rollback rule
    const { written, rest } = await rollouts.writer.commitRoutine(
      docs.map((doc, i) => ({ doc, input: inputs[i]! })),
      CONTROLLER,
      fence,
    );
    expect(written).toBe(2);
    expect(rest.map((r) => [r.doc.id, r.stale])).toEqual([[docs[1]!.id, false]]);
    // Nothing was written for b: the rollback, its kill and its audit events are the full path's job.
    expect((await read(docs[1]!.id)).version).toBe(docs[1]!.version);
    const b = await rollouts.writer.apply({
      id: docs[1]!.id,
      input: () => rest[0]!.input,
      actor: CONTROLLER,
      action: 'rollout.analysis',
      fence,
      known: rest[0]!.doc,
    });
    expect(b.state).toBe('rolled_back');
    // The full path read the history it appended to: the start is still there, the rollback after it.
    expect((await historyDoc(docs[1]!.id))!.value.map((t) => t.to)).toEqual(['running', 'rolled_back']);
    expect((await rollouts.get(docs[1]!.id)).history.map((t) => t.to)).toEqual(['running', 'rolled_back']);
  });

  it('hands every rollout back, marked stale, when one of them changed since it was read', async () => {
    const docs = await Promise.all(started.map((r) => read(r.id)));
    // A person acts on c after the loop read it.
    await rollouts.command(docs[2]!.id, 'pause', MANAGER, { type: 'token', id: 'rm-1', name: 'release manager' });
    clock += 10_000;
    const { written, rest } = await rollouts.writer.commitRoutine(
      docs.map((doc) => ({ doc, input: analysis(10) })),
      CONTROLLER,
      fence,
    );
    expect(written).toBe(0);
    expect(rest.map((r) => r.stale)).toEqual([true, true, true]);
    for (const doc of docs.slice(0, 2)) expect((await read(doc.id)).version).toBe(doc.version);
    expect((await read(docs[2]!.id)).value.state).toBe('paused'); // the person's pause stands
  });

  it('refuses the whole batch when the fencing token is stale', async () => {
    const docs: AnalysisDoc[] = await Promise.all(started.map((r) => read(r.id)));
    await store.releaseLease(LEADER_LEASE, 'batch-test');
    await store.acquireLease(LEADER_LEASE, 'someone-else', 10_000);
    clock += 10_000;
    await expect(
      rollouts.writer.commitRoutine(
        docs.map((doc) => ({ doc, input: analysis(10) })),
        CONTROLLER,
        fence,
      ),
    ).rejects.toBeInstanceOf(ConflictError);
    for (const doc of docs) expect((await read(doc.id)).version).toBe(doc.version);
    expect(changes).toEqual([]);
  });
});
