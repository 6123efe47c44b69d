import { randomUUID } from 'node:crypto';
import type { Commit, PutOp, Store, Versioned } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor, AuditInput } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { ConflictError } from '../errors/app-error.js';
import { FLAGS } from '../flags/collections.js';
import type { StoredFlag } from '../flags/schema.js';
import { POLICIES } from '../policies/policy-service.js';
import type { Policy } from '../policies/policy-schema.js';
import { emptyTotals } from '../metrics/outcome-math.js';
import { decide } from './decide.js';
import { applyActions, claimStrategy } from './flag-actions.js';
import { isFinal, ROLLOUTS, type Approval, type Decision, type DecisionInput, type Person, type Rollout } from './rollout-model.js';
import { newRollout } from './new-rollout.js';
import { RolloutDocs, type RecordRef } from './rollout-docs.js';
import { rolloutViews, type RolloutView } from './rollout-views.js';
import type { EnvironmentService } from '../environments/environment-service.js';

/** One active rollout per flag and environment: this document exists while one runs. */
export const ACTIVE = 'active-rollouts';
const activeKey = (r: Pick<Rollout, 'flag' | 'environment'>) => `${r.environment}:${r.flag}`;

export type Command = Extract<DecisionInput, { kind: 'approve' | 'reject' | 'pause' | 'resume' | 'abort' }>['kind'];

/**
 * A rollout that changed, told to listeners (notifications, metrics) after its commit landed.
 * New transitions are `after.history.slice(before.history.length)`: for a routine analysis (no
 * transition) both sides share one history, which the loop does not read (HISTORY_NOT_LOADED, empty).
 */
export interface RolloutChange {
  before: Rollout | null;
  after: Rollout;
  /** The audit action, e.g. rollout.start, rollout.approve, rollout.analysis. */
  action: string;
  actor: Actor;
}
export type RolloutListener = (change: RolloutChange) => void;

/** Fencing for writes made by the controller loop: refused once its lease is lost. */
export interface Fence {
  lease: string;
  token: number;
}

export class RolloutService {
  private readonly listeners = new Set<RolloutListener>();
  private readonly docs: RolloutDocs;

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    /** Declared environments: a rollout starts only in one, on a policy that meets its rules. */
    private readonly environments: Pick<EnvironmentService, 'require' | 'assertPolicyAllowed'>,
    private readonly awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
  ) {
    this.docs = new RolloutDocs(store);
  }

  /** Listeners run after the commit and must not throw or block: they are told, not asked. */
  onChange(listener: RolloutListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: RolloutChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the rollout has already changed.
      }
    }
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

  /** The rollouts not known to be final, as references to their records: the loop looks at them a batch at a time. */
  activeRecords(): Promise<RecordRef[]> {
    return this.docs.activeRecords();
  }

  /** Forgets the records kept in memory (see RolloutDocs.forgetRecords): for a replica that just took the lead. */
  forgetRecords(): void {
    this.docs.forgetRecords();
  }

  /** Records made into rollouts for an analysis (final ones left out), without their history, which a routine analysis never writes. */
  forAnalysis(records: RecordRef[], willWrite?: (rollout: Rollout) => boolean): Promise<Array<Versioned<Rollout>>> {
    return this.docs.forAnalysis(records, willWrite);
  }

  /** Starts a rollout: claims the flag's rollout strategy at 0% and, inside an open window, enters the first step. */
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
        if (active) throw AppError.conflict(`flag "${input.flag}" already has an active rollout in ${input.environment} (${(active.value as { id: string }).id})`);
        const restored = restoreIfAsked(flagDoc.value, input);
        assertSafeToEnable(restored, input.environment);
        const pending = newRollout({ id, flag: input.flag, environment: input.environment, policy: input.policy, plan: policyDoc.value, startedBy: by, at: this.now() });
        const claimed = claimStrategy(restored, input.environment, pending.strategyId);
        const decision = decide(pending, { kind: 'analysis', measurements: { step: emptyTotals(), recent: emptyTotals() } }, this.now());
        if (decision.kind === 'refused') throw refusalError(decision);
        // The first step is entered because this person started the rollout, so the history names them.
        decision.next.history = decision.next.history.map((t) => ({ ...t, actor: by.name }));
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
            { actor, action: 'rollout.start', target: { type: 'rollout', id, environment: input.environment }, before: null, after: summary(decision.next) },
            ...(restored !== flagDoc.value ? [{ actor, action: 'flag.restore', target: { type: 'flag', id: input.flag, environment: input.environment }, reason: `restored to start rollout ${id}: ${input.reason}`, before: flagDoc.value, after: restored }] : []),
            { actor, action: 'flag.rollout', target: { type: 'flag', id: input.flag, environment: input.environment }, reason: `rollout ${id} started`, before: flagDoc.value, after: finalFlag },
          ],
          result: decision.next,
        };
      },
      this.now,
      this.awaitApplied,
    );
    this.emit({ before: null, after: started, action: 'rollout.start', actor });
    return started;
  }

  /**
   * A person's command (reject, pause, resume, abort): decided and applied at once, not at the next
   * tick. `expectVersion` (If-Match) refuses it when the rollout changed since the person looked.
   */
  async command(id: string, kind: Exclude<Command, 'approve'>, by: Person, actor: Actor, comment?: string, expectVersion?: number): Promise<Rollout> {
    return this.decideAndApply(id, () => ({ kind, by, comment }), actor, undefined, `rollout.${kind}`, comment, undefined, expectVersion);
  }

  /**
   * Approves the step named by its percentage (or the one awaited). Answers the rollout and the
   * approval recorded, which is the first one when the same person approved this step before.
   */
  async approve(id: string, input: { by: Person; comment?: string; step?: number; ahead?: boolean }, actor: Actor, expectVersion?: number): Promise<{ rollout: Rollout; approval: Approval }> {
    let approval: Approval | undefined;
    const rollout = await this.decideAndApply(id, () => ({ kind: 'approve', ...input }), actor, undefined, 'rollout.approve', input.comment, undefined, expectVersion, (d) => (approval = d.approval));
    return { rollout, approval: approval! };
  }

  /**
   * Writes, in one fenced commit, the analyses that change nothing but the rollout's own
   * measurements: no transition, no flag change, so no audit event. That is nearly every analysis
   * of every tick, and one commit for many rollouts saves a round trip and a script run each.
   * Returns the rollouts that need `decideAndApply` instead: those whose decision does more, and,
   * when the batch meets a conflict (a person acted meanwhile), all of them, to be read afresh.
   */
  async commitRoutineAnalyses(items: Array<{ doc: Versioned<Rollout>; input: DecisionInput }>, actor: Actor, fence: Fence): Promise<{ written: number; rest: Array<{ doc: Versioned<Rollout>; input: DecisionInput; stale: boolean }> }> {
    const now = this.now();
    const routine: Array<{ before: Rollout; after: Rollout }> = [];
    const puts: PutOp[] = [];
    const rest: Array<{ doc: Versioned<Rollout>; input: DecisionInput; stale: boolean }> = [];
    for (const item of items) {
      const rollout = item.doc.value;
      const decision = decide(rollout, item.input, now);
      if (decision.kind === 'decided' && decision.actions.length === 0 && decision.next.history.length === rollout.history.length && !isFinal(decision.next.state)) {
        routine.push({ before: rollout, after: decision.next });
        puts.push(...this.docs.puts(decision.next, rollout, item.doc.version));
      } else rest.push({ ...item, stale: false });
    }
    if (puts.length === 0) return { written: 0, rest };
    try {
      this.docs.written(puts, (await this.store.commit({ puts, fence })).versions);
    } catch (err) {
      if (!(err instanceof ConflictError) || err.kind === 'fence') throw err;
      return { written: 0, rest: items.map((item) => ({ ...item, stale: true })) };
    }
    for (const { before, after } of routine) this.emit({ before, after, action: 'rollout.analysis', actor });
    return { written: puts.length, rest };
  }

  /**
   * Reads a rollout and the flags it may touch, asks `decide`, and writes the outcome in one
   * compare-and-set commit with its audit events (and the loop's fence). Returns the new rollout,
   * or the unchanged one when the decision changed nothing worth writing.
   */
  async decideAndApply(
    id: string,
    /** `known` is true when the rollout is the caller's own `known` document (not read afresh after a conflict). */
    input: (rollout: Rollout, known: boolean) => DecisionInput | Promise<DecisionInput>,
    actor: Actor,
    fence?: Fence,
    action = 'rollout.analysis',
    reason?: string,
    /** The document as the caller just read it (with its version): saves a read on the first attempt. */
    known?: Versioned<Rollout>,
    /** A person's If-Match: the version they acted on. */
    expectVersion?: number,
    /** Sees the decision that was applied (the last attempt's). */
    onDecided?: (decision: Extract<Decision, { kind: 'decided' }>) => void,
  ): Promise<Rollout> {
    let fresh = known;
    let before: Rollout | undefined;
    const after = await auditedCommit(
      this.store,
      async () => {
        // A retry after a conflict must read afresh; only the first attempt may use what the caller
        // read (with its history, unless that changed since, which also means reading afresh).
        const given = fresh ? await this.docs.withHistory(fresh) : null;
        fresh = undefined;
        const doc = given ?? (await this.docs.get(id));
        if (!doc) throw AppError.notFound(`rollout "${id}"`);
        if (expectVersion !== undefined && doc.version !== expectVersion) {
          throw new AppError('stale', 'version_mismatch', `the rollout changed since version ${expectVersion} (now ${doc.version}): look at it again before acting`, { version: doc.version });
        }
        const rollout = doc.value;
        before = rollout;
        const decision = decide(rollout, await input(rollout, given !== null), this.now());
        if (decision.kind === 'refused') throw refusalError(decision);
        onDecided?.(decision);
        const { next, actions } = decision;
        // Nothing changed (an approval given before, repeated): nothing to write or audit.
        if (next === rollout) {
          before = undefined;
          return { commit: {}, audit: [], result: rollout };
        }
        // Flags are read only when the decision changes them (most analyses change nothing).
        const flagNames = actions.length === 0 ? [] : [rollout.flag, ...rollout.plan.killSwitches];
        const flagDocs = await Promise.all(flagNames.map((name) => this.store.get<StoredFlag>(FLAGS, name)));
        const flags = new Map(flagDocs.flatMap((d) => (d ? [[d.id, d.value] as const] : [])));
        const changed = applyActions(next, actions, flags, next.updatedAt);
        // Rollout documents are read from the store when needed; only the flags they change go on the feed.
        const puts: PutOp[] = this.docs.puts(next, rollout, doc.version);
        const audit: AuditInput[] = [];
        for (const [name, flag] of changed) {
          const before = flagDocs.find((d) => d?.id === name)!;
          puts.push({ collection: FLAGS, id: name, value: flag, expectVersion: before.version });
          audit.push({ actor, action: actions.some((a) => a.kind === 'kill') ? 'flag.kill' : 'flag.rollout', target: { type: 'flag', id: name, environment: rollout.environment }, reason: next.history.at(-1)?.reason, before: before.value, after: flag });
        }
        const newTransitions = next.history.slice(rollout.history.length);
        const target = { type: 'rollout', id, environment: rollout.environment };
        if (action !== 'rollout.analysis') audit.unshift({ actor, action, target, reason, before: summary(rollout), after: summary(next) });
        else for (const t of newTransitions) audit.unshift({ actor, action: `rollout.${t.to}`, target, reason: t.reason, before: summary(rollout), after: summary(next) });
        const commit: Commit = { puts, ...(fence ? { fence } : {}) };
        if (isFinal(next.state)) commit.deletes = [{ collection: ACTIVE, id: activeKey(rollout), quiet: true }];
        return { commit, audit, result: next };
      },
      this.now,
      this.awaitApplied,
    );
    // Every analysis is written (its measurements change); listeners compare before and after.
    if (before) this.emit({ before, after, action, actor });
    return after;
  }
}

export interface StartInput {
  flag: string;
  environment: string;
  policy: string;
  /** Clear the flag's kill switch in the environment as the rollout starts (needs `reason`). */
  restore?: boolean;
  reason?: string;
}

/**
 * A killed flag serves nothing, so a rollout on it would wait for samples that cannot come. It
 * starts only when the person says to restore the flag, with a reason the audit log keeps.
 */
function restoreIfAsked(flag: StoredFlag, input: StartInput): StoredFlag {
  const kill = flag.killSwitches[input.environment];
  if (!kill) return flag;
  if (!input.restore || !input.reason) {
    throw new AppError('conflict',
      'flag_killed',
      `flag "${flag.name}" is killed in ${input.environment} (${kill.reason}, by ${kill.actor} at ${kill.at}): a rollout on it would serve nothing; to clear the kill switch as the rollout starts, send "restore": true with a "reason"`,
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
  const config = flag.environments[environment];
  if (!config || config.enabled) return;
  const live = config.strategies.filter((s) => !s.disabled);
  const claimed = live.find((s) => s.name === 'flexibleRollout'); // the one claimStrategy takes over
  const others = live.filter((s) => s !== claimed);
  if (others.length > 0) {
    throw AppError.conflict(
      `flag "${flag.name}" is off in ${environment} but has other strategies (${others.map((s) => s.name).join(', ')}) that would go live for everyone they match when the rollout switches it on: remove or disable them first`,
    );
  }
}

/** The HTTP answer to a refusal of the decision core. */
function refusalError(decision: Extract<Decision, { kind: 'refused' }>): AppError {
  return new AppError(decision.refusal, decision.errorId, decision.message, decision.details);
}

/** What the audit log keeps of a rollout's state before and after (its history lives in the rollout). */
function summary(r: Rollout): object {
  return { state: r.state, stepIndex: r.stepIndex, percentage: r.percentage, approvals: r.approvals.length, stepVerdict: r.stepVerdict };
}
