import { randomUUID } from 'node:crypto';
import type { Store, Versioned } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { FLAGS } from '../flags/collections.js';
import type { StoredFlag } from '../flags/schema.js';
import { POLICIES } from '../policies/policy-service.js';
import type { Policy } from '../policies/policy-schema.js';
import { emptyTotals } from '../metrics/outcome-math.js';
import type { OutcomeSource } from '../metrics/outcome-model.js';
import { decide } from './decide.js';
import { applyActions, claimStrategy } from './flag-actions.js';
import { type Approval, type DecisionInput, type Person, type Rollout } from './rollout-model.js';
import { newRollout } from './new-rollout.js';
import { RolloutDocs } from './rollout-docs.js';
import { ACTIVE, activeKey, refusalError, RolloutWriter, summary, type RolloutListener } from './rollout-writer.js';
import { rolloutViews, type RolloutView } from './rollout-views.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import { baselineWindowMs, preflight, type Preflight } from './preflight.js';
import { forEnvironment } from '../flags/per-environment.js';

export type Command = Extract<DecisionInput, { kind: 'approve' | 'reject' | 'pause' | 'resume' | 'abort' }>['kind'];

/**
 * People's side of rollouts: starting one, their commands (approve, reject, pause, resume, abort)
 * and reading rollouts. Every later write goes through the RolloutWriter, which the loop shares.
 */
export class RolloutService {
  /** How rollouts are kept in the store (record, plan, history); the loop reads through it too. */
  readonly docs: RolloutDocs;
  /** Every write after a rollout's start: people's commands here, the loop's analyses. */
  readonly writer: RolloutWriter;

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    /** Declared environments: a rollout starts only in one, on a policy that meets its rules. */
    private readonly environments: Pick<EnvironmentService, 'require' | 'assertPolicyAllowed'>,
    private readonly awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
    /** `outcomes`: the flag's recent outcomes, for the start's pre-flight (none: no pre-flight, as in benches and unit tests). */
    private readonly options: { outcomes?: OutcomeSource } = {},
  ) {
    this.docs = new RolloutDocs(store);
    this.writer = new RolloutWriter(store, this.docs, now, awaitApplied);
  }

  /** Listeners hear of every committed change of a rollout (see RolloutWriter.onChange). */
  onChange(listener: RolloutListener): () => void {
    return this.writer.onChange(listener);
  }

  async list(): Promise<Rollout[]> {
    return (await this.docs.list()).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async get(id: string): Promise<Rollout> {
    return (await this.getVersioned(id)).value;
  }

  /** Rollouts with where each stands and what its flag serves now (see rollout-status.ts). */
  views(rollouts: Rollout[]): Promise<RolloutView[]> {
    return rolloutViews(this.store, rollouts, this.now());
  }

  /** One rollout with the version of its record (the ETag people send back as If-Match). */
  async getVersioned(id: string): Promise<Versioned<Rollout>> {
    const doc = await this.docs.get(id);
    if (!doc) throw AppError.notFound(`rollout "${id}"`);
    return doc;
  }

  /**
   * Starts a rollout: claims the flag's rollout strategy at 0% and, inside an open window, enters the
   * first step. Its pre-flight (preflight.ts) is kept on the start transition and answered with it; a baseline
   * that already fails an absolute gate refuses the start unless `force`, which records it as a warning.
   */
  async start(input: StartInput, by: Person, actor: Actor): Promise<Rollout> {
    const id = randomUUID();
    const environment = await this.environments.require(input.environment);
    const started = await auditedCommit(
      this.store,
      async () => {
        const [flagDoc, policyDoc, active] = await Promise.all([
          this.store.get<StoredFlag>(FLAGS, input.flag),
          this.store.get<Policy>(POLICIES, input.policy),
          this.store.get(ACTIVE, activeKey(input)),
        ]);
        if (!flagDoc) throw AppError.notFound(`flag "${input.flag}"`);
        if (!policyDoc) throw AppError.notFound(`policy "${input.policy}"`);
        // The environment's guard rails: a policy that asks less than they demand is refused, naming the rule.
        await this.environments.assertPolicyAllowed(policyDoc.value, environment);
        if (active)
          throw AppError.conflict(`flag "${input.flag}" already has an active rollout in ${input.environment} (${(active.value as { id: string }).id})`);
        const restored = restoreIfAsked(flagDoc.value, input);
        assertSafeToEnable(restored, input.environment);
        const checked = await this.preflight(input, policyDoc.value);
        const warnings = checked?.violations.map((v) => v.text) ?? [];
        if (warnings.length > 0 && !input.force) throw baselineRefusal(input, checked!);
        const kept: Preflight | undefined = checked && (warnings.length > 0 ? { ...checked, warnings } : checked);
        const pending: Rollout = {
          ...newRollout({
            id,
            flag: input.flag,
            environment: input.environment,
            policy: input.policy,
            plan: policyDoc.value,
            startedBy: by,
            at: this.now(),
          }),
        };
        const claimed = claimStrategy(restored, input.environment, pending.strategyId);
        const decision = decide(pending, { kind: 'analysis', measurements: { step: emptyTotals(), recent: emptyTotals() } }, this.now());
        if (decision.kind === 'refused') throw refusalError(decision);
        // The first step is entered because this person started the rollout, so the history names them.
        // The start transition also keeps the pre-flight, so the dashboard shows what the start was told.
        decision.next.history = decision.next.history.map((t, i) => ({ ...t, actor: by.name, ...(i === 0 && kept ? { preflight: kept } : {}) }));
        const flags = new Map([[input.flag, claimed]]);
        const changed = applyActions(decision.next, decision.actions, flags, pending.createdAt);
        const finalFlag = changed.get(input.flag) ?? claimed;
        return {
          commit: {
            puts: [
              ...this.docs.puts(decision.next, null, 0),
              { collection: ACTIVE, id: activeKey(input), value: { id }, expectVersion: 0, quiet: true },
              { collection: FLAGS, id: input.flag, value: finalFlag, expectVersion: flagDoc.version },
            ],
          },
          audit: [
            {
              actor,
              action: 'rollout.start',
              target: { type: 'rollout', id, environment: input.environment },
              ...(warnings.length > 0 ? { reason: forcedReason(warnings, input.reason) } : {}),
              before: null,
              after: warnings.length > 0 ? { ...summary(decision.next), preflight: { forced: true, warnings } } : summary(decision.next),
            },
            ...(restored !== flagDoc.value
              ? [
                  {
                    actor,
                    action: 'flag.restore',
                    target: { type: 'flag', id: input.flag, environment: input.environment },
                    reason: `restored to start rollout ${id}: ${input.reason}`,
                    before: flagDoc.value,
                    after: restored,
                  },
                ]
              : []),
            {
              actor,
              action: 'flag.rollout',
              target: { type: 'flag', id: input.flag, environment: input.environment },
              reason: `rollout ${id} started`,
              before: flagDoc.value,
              after: finalFlag,
            },
          ],
          result: decision.next,
        };
      },
      this.now,
      this.awaitApplied,
    );
    this.writer.emit({ before: null, after: started, action: 'rollout.start', actor });
    return started;
  }

  /**
   * The pre-flight of a start: the flag's outcomes over the baseline window (whole buckets, up to
   * now) judged against the policy. Undefined when the service was given no outcomes to read.
   */
  private async preflight(input: StartInput, policy: Policy): Promise<Preflight | undefined> {
    const outcomes = this.options.outcomes;
    if (!outcomes) return undefined;
    const to = this.now().getTime();
    const from = Math.floor((to - baselineWindowMs(policy)) / outcomes.bucketMs) * outcomes.bucketMs;
    const totals = await outcomes.sum(input.environment, input.flag, from, to + 1);
    return preflight({ policy, totals, window: { from, to } });
  }

  /**
   * A person's command (reject, pause, resume, abort): decided and applied at once, not at the next
   * tick. `expectVersion` (If-Match) refuses it when the rollout changed since the person looked.
   */
  async command(id: string, kind: Exclude<Command, 'approve'>, by: Person, actor: Actor, comment?: string, expectVersion?: number): Promise<Rollout> {
    return this.writer.apply({ id, input: () => ({ kind, by, comment }), actor, action: `rollout.${kind}`, reason: comment, expectVersion });
  }

  /**
   * Approves the step named by its percentage (or the one awaited). Answers the rollout and the
   * approval recorded, which is the first one when the same person approved this step before.
   */
  async approve(
    id: string,
    input: { by: Person; comment?: string; step?: number; ahead?: boolean },
    actor: Actor,
    expectVersion?: number,
  ): Promise<{ rollout: Rollout; approval: Approval }> {
    let approval: Approval | undefined;
    const rollout = await this.writer.apply({
      id,
      input: () => ({ kind: 'approve', ...input }),
      actor,
      action: 'rollout.approve',
      reason: input.comment,
      expectVersion,
      onDecided: (d) => (approval = d.approval),
    });
    return { rollout, approval: approval! };
  }
}

export interface StartInput {
  flag: string;
  environment: string;
  policy: string;
  /** Clear the flag's kill switch in the environment as the rollout starts (needs `reason`). */
  restore?: boolean;
  /** Start even when the baseline already fails an absolute gate: recorded as a warning on the rollout and in the audit log. */
  force?: boolean;
  reason?: string;
}

/**
 * The baseline (traffic without the feature) already fails an absolute gate: the first step would
 * fail or hold on it whatever the feature does. Refused with the numbers, unless forced.
 */
function baselineRefusal(input: StartInput, checked: Preflight): AppError {
  return new AppError(
    'conflict',
    'baseline_above_gate',
    `flag "${input.flag}" in ${input.environment}: the baseline (its traffic without the feature) already fails the policy's gates, ` +
      `before anyone gets the feature: ${checked.violations.map((v) => v.text).join('; ')}. ` +
      'Fix the baseline or the policy first, or send "force": true to start anyway (recorded as a warning)',
    { violations: checked.violations, preflight: checked },
  );
}

/** The audit reason of a forced start: what was overridden, and the person's reason when given. */
function forcedReason(warnings: string[], reason: string | undefined): string {
  return `started with force over a baseline that already fails the policy's gates: ${warnings.join('; ')}${reason ? `. Reason: ${reason}` : ''}`;
}

/**
 * A killed flag serves nothing, so a rollout on it would wait for samples that cannot come. It
 * starts only when the person says to restore the flag, with a reason the audit log keeps.
 */
function restoreIfAsked(flag: StoredFlag, input: StartInput): StoredFlag {
  const kill = forEnvironment(flag.killSwitches, input.environment);
  if (!kill) return flag;
  if (!input.restore || !input.reason) {
    throw new AppError(
      'conflict',
      'flag_killed',
      `flag "${flag.name}" is killed in ${input.environment} (${kill.reason}, by ${kill.actor} at ${kill.at}): ` +
        'a rollout on it would serve nothing; to clear the kill switch as the rollout starts, send "restore": true with a "reason"',
      { killSwitch: kill },
    );
  }
  const { [input.environment]: _cleared, ...killSwitches } = flag.killSwitches;
  return { ...flag, killSwitches };
}

/**
 * A rollout switches its environment on. If it is off and holds other live strategies, those would
 * reach everyone they match the moment the rollout starts, at no percentage at all: refuse instead.
 */
function assertSafeToEnable(flag: StoredFlag, environment: string): void {
  const config = forEnvironment(flag.environments, environment);
  if (!config || config.enabled) return;
  const live = config.strategies.filter((s) => !s.disabled);
  const claimed = live.find((s) => s.name === 'flexibleRollout'); // the one claimStrategy takes over
  const others = live.filter((s) => s !== claimed);
  if (others.length > 0) {
    throw AppError.conflict(
      `flag "${flag.name}" is off in ${environment} but has other strategies (${others.map((s) => s.name).join(', ')}) ` +
        'that would go live for everyone they match when the rollout switches it on: remove or disable them first',
    );
  }
}
