import { randomUUID } from 'node:crypto';
import type { Store, Versioned } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor, AuditInput } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { FLAGS } from '../flags/collections.js';
import type { StoredFlag } from '../flags/schema.js';
import { POLICIES } from '../policies/policy-service.js';
import type { Policy } from '../policies/policy-schema.js';
import { emptyTotals } from '../metrics/outcome-math.js';
import { totalsOfSum } from '../metrics/outcome-fields.js';
import type { OutcomeSource } from '../metrics/outcome-model.js';
import { decide } from './decide.js';
import { applyActions, claimStrategy } from './flag-actions.js';
import type { Approval, DecisionInput, Person, Rollout, Transition } from './rollout-model.js';
import { newRollout } from './new-rollout.js';
import { RolloutDocs } from './rollout-docs.js';
import { ACTIVE, activeMarkers, releaseMarker, refusalError, RolloutWriter, summary, type RolloutListener } from './rollout-writer.js';
import { rolloutViews, type RolloutView } from './rollout-views.js';
import type { EnvironmentService } from '../environments/environment-service.js';
import { baselineWindowMs, preflight, type Preflight } from './preflight.js';
import { withHolidayDates } from '../policies/holiday-calendars.js';
import {
  assertSafeToEnable,
  baselineRefusal,
  forcedReason,
  notBeforeTimes,
  releaseCohort,
  restoreIfAsked,
  scheduledStart,
  type StartInput,
} from './rollout-start.js';

export type { StartInput } from './rollout-start.js';

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

  /** Whether a release of this name is active in the environment (its marker exists; see activeKeys). */
  async releaseActive(environment: string, name: string): Promise<boolean> {
    return (await this.activeRelease(name, environment)) !== undefined;
  }

  /** The id of the active release of this name in the environment, if there is one. */
  async activeRelease(name: string, environment: string): Promise<string | undefined> {
    return (await this.store.get<{ id: string }>(ACTIVE, releaseMarker(environment, name)))?.value.id;
  }

  /** One rollout with the version of its record (the ETag people send back as If-Match). */
  async getVersioned(id: string): Promise<Versioned<Rollout>> {
    const doc = await this.docs.get(id);
    if (!doc) throw AppError.notFound(`rollout "${id}"`);
    return doc;
  }

  /**
   * Starts a rollout (or a release of several flags): claims each flag's rollout strategy at 0% and,
   * inside an open window, enters the first step; with a future `startAt` it waits `scheduled` and
   * the loop starts it then. Its pre-flight (preflight.ts) is kept on the first transition and
   * answered with it; a baseline that already fails an absolute gate refuses the start unless
   * `force`, which records it as a warning.
   * With `dryRun`, every check and the pre-flight run as they would, and the rollout that would
   * start is answered, but nothing is written (no rollout, no flag change, no audit event).
   */
  async start(input: StartInput, by: Person, actor: Actor, options: { dryRun?: boolean } = {}): Promise<Rollout> {
    const id = randomUUID();
    const environment = await this.environments.require(input.environment);
    const names = input.release?.flags ?? [input.flag];
    const plan = async () => {
      const now = this.now();
      const startAt = scheduledStart(input, now);
      const markers = activeMarkers({ flag: input.flag, environment: input.environment, release: input.release });
      const [flagDocs, policyDoc, active] = await Promise.all([
        Promise.all(names.map((name) => this.store.get<StoredFlag>(FLAGS, name))),
        this.store.get<Policy>(POLICIES, input.policy),
        Promise.all(markers.map((m) => this.store.get<{ id: string }>(ACTIVE, m.key))),
      ]);
      const missing = names.filter((_, i) => !flagDocs[i]);
      if (missing.length > 0) throw AppError.notFound(missing.map((name) => `flag "${name}"`).join(', '));
      if (!policyDoc) throw AppError.notFound(`policy "${input.policy}"`);
      // The environment's guard rails: a policy that asks less than they demand is refused, naming the rule.
      await this.environments.assertPolicyAllowed(policyDoc.value, environment);
      const busy = active.findIndex((doc) => doc);
      if (busy >= 0) throw AppError.conflict(`${markers[busy]!.holder} already has an active rollout in ${input.environment} (${active[busy]!.value.id})`);
      const plan = await withHolidayDates(this.store, policyDoc.value);
      const notBefore = notBeforeTimes(input, plan);
      const docs = flagDocs.map((d) => d!);
      const restored = docs.map((d) => restoreIfAsked(d.value, input));
      for (const flag of restored) assertSafeToEnable(flag, input.environment);
      const cohort = input.release ? releaseCohort(restored, input.environment, input.release.name) : undefined;
      const checked = await this.preflight(input, names, policyDoc.value);
      const warnings = checked?.violations.map((v) => v.text) ?? [];
      if (warnings.length > 0 && !input.force) throw baselineRefusal(input, checked!);
      const warningWordings = checked?.violations.flatMap((v) => (v.textWording ? [v.textWording] : [])) ?? [];
      const forced = { warnings, ...(warningWordings.length === warnings.length ? { warningWordings } : {}) };
      const kept: Preflight | undefined = checked && (warnings.length > 0 ? { ...checked, ...forced } : checked);
      const pending = newRollout({
        id,
        flag: input.flag,
        environment: input.environment,
        policy: input.policy,
        plan,
        startedBy: by,
        at: now,
        ...(input.release ? { release: input.release } : {}),
        ...(startAt ? { startAt } : {}),
        ...(notBefore ? { notBefore } : {}),
      });
      const claimed = new Map(restored.map((flag) => [flag.name, claimStrategy(flag, input.environment, pending.strategyId, cohort)]));
      const decision = decide(pending, { kind: 'analysis', measurements: { step: emptyTotals(), recent: emptyTotals() } }, now);
      if (decision.kind === 'refused') throw refusalError(decision);
      // The first step is entered because this person started the rollout, so the history names them; a
      // scheduled rollout gets a first transition that says when it starts. Either keeps the pre-flight.
      const first = startAt ? [scheduledTransition(pending, by, now)] : decision.next.history;
      const next: Rollout = { ...decision.next, history: first.map((t, i) => ({ ...t, actor: by.name, ...(i === 0 && kept ? { preflight: kept } : {}) })) };
      const changed = applyActions(next, decision.actions, claimed, pending.createdAt);
      const summaryAfter = warnings.length > 0 ? { ...summary(next), preflight: { forced: true, warnings } } : summary(next);
      return {
        commit: {
          puts: [
            ...this.docs.puts(next, null, 0),
            ...markers.map((m) => ({ collection: ACTIVE, id: m.key, value: { id }, expectVersion: 0, quiet: true })),
            ...docs.map((doc) => ({ collection: FLAGS, id: doc.id, value: changed.get(doc.id) ?? claimed.get(doc.id)!, expectVersion: doc.version })),
          ],
        },
        audit: [
          {
            actor,
            action: startAt ? 'rollout.schedule' : 'rollout.start',
            target: { type: 'rollout', id, environment: input.environment },
            ...(warnings.length > 0 ? { reason: forcedReason(warnings, input.reason) } : {}),
            before: null,
            after: input.release ? { ...summaryAfter, release: input.release } : summaryAfter,
          },
          ...docs.flatMap((doc, i) => flagAudit(actor, input, id, doc.value, restored[i]!, changed.get(doc.id) ?? claimed.get(doc.id)!)),
        ],
        result: next,
      };
    };
    if (options.dryRun) return (await plan()).result;
    const started = await auditedCommit(this.store, plan, this.now, this.awaitApplied);
    this.writer.emit({ before: null, after: started, action: started.state === 'scheduled' ? 'rollout.schedule' : 'rollout.start', actor });
    return started;
  }

  /**
   * The pre-flight of a start: the outcomes of its flags (all of a release's, together) over the
   * baseline window (whole buckets, up to now) judged against the policy. Undefined when the service
   * was given no outcomes to read.
   */
  private async preflight(input: StartInput, flags: string[], policy: Policy): Promise<Preflight | undefined> {
    const outcomes = this.options.outcomes;
    if (!outcomes) return undefined;
    const to = this.now().getTime();
    const from = Math.floor((to - baselineWindowMs(policy)) / outcomes.bucketMs) * outcomes.bucketMs;
    const sums = await outcomes.sumWindowsMany(flags.map((flag) => ({ environment: input.environment, flag, windows: [[from, to + 1]] })));
    return preflight({ policy, totals: totalsOfSum(...sums.flat()), window: { from, to } });
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

/** The transition a scheduled rollout is created with: it names who scheduled it and when it starts. */
function scheduledTransition(r: Rollout, by: Person, now: Date): Transition {
  return {
    at: now.toISOString(),
    from: 'scheduled',
    to: 'scheduled',
    stepIndex: 0,
    percentage: 0,
    reason: `scheduled to start at ${r.startAt}`,
    actor: by.name,
  };
}

/** A flag's audit events at a start: its kill switch cleared (when asked), and its strategy claimed. */
function flagAudit(actor: Actor, input: StartInput, id: string, before: StoredFlag, restored: StoredFlag, after: StoredFlag): AuditInput[] {
  const target = { type: 'flag', id: before.name, environment: input.environment };
  return [
    ...(restored !== before
      ? [{ actor, action: 'flag.restore', target, reason: `restored to start rollout ${id}: ${input.reason}`, before, after: restored }]
      : []),
    { actor, action: 'flag.rollout', target, reason: `${input.release ? `release "${input.release.name}"` : 'rollout'} ${id} started`, before, after },
  ];
}
