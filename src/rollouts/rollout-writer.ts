import type { Commit, PutOp, Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor, AuditInput } from '../audit/chain.js';
import { AppError, ConflictError } from '../errors/app-error.js';
import { FLAGS } from '../flags/collections.js';
import type { StoredFlag } from '../flags/schema.js';
import { decide } from './decide.js';
import { applyActions } from './flag-actions.js';
import { isDone, rolloutFlags, type Decision, type DecisionInput, type Rollout, type Transition } from './rollout-model.js';
import type { AnalysisDoc, RolloutDoc, RolloutDocs, RolloutWithoutHistory } from './rollout-docs.js';

/** One active rollout per flag and environment: this document exists while one runs (or, completed, still watches). */
export const ACTIVE = 'active-rollouts';
export const activeKey = (r: Pick<Rollout, 'flag' | 'environment'>) => `${r.environment}:${r.flag}`;
/**
 * Every marker a rollout holds while active (with what holds it, in words): one per flag it ramps, and for a release one for its
 * name, so a flag is in one release or rollout at a time and a release name is not used twice at once.
 * (Flag names cannot hold a colon, so `release:` keys never meet a flag's.)
 */
export const activeMarkers = (r: Pick<Rollout, 'flag' | 'environment' | 'release'>): Array<{ key: string; holder: string }> => [
  ...rolloutFlags(r).map((flag) => ({ key: activeKey({ flag, environment: r.environment }), holder: `flag "${flag}"` })),
  ...(r.release ? [{ key: releaseMarker(r.environment, r.release.name), holder: `release "${r.release.name}"` }] : []),
];
export const activeKeys = (r: Pick<Rollout, 'flag' | 'environment' | 'release'>) => activeMarkers(r).map((m) => m.key);
export const releaseMarker = (environment: string, name: string) => `${environment}:release:${name}`;

/** Fencing for writes made by the controller loop: refused once its lease is lost. */
export interface Fence {
  lease: string;
  token: number;
}

/**
 * A rollout that changed, told to listeners (notifications, metrics) after its commit landed. New
 * transitions are `after.history.slice(before.history.length)`. A routine analysis has none and
 * reads no history: both sides of its change are given the same empty one.
 */
export interface RolloutChange {
  before: Rollout | null;
  after: Rollout;
  /** The audit action, e.g. rollout.start, rollout.approve, rollout.analysis. */
  action: string;
  actor: Actor;
}
export type RolloutListener = (change: RolloutChange) => void;

/** An analysis the loop measured: the rollout as it read it, and what to decide on. */
export interface MeasuredRollout {
  doc: AnalysisDoc;
  input: DecisionInput;
}

/** What `apply` decides and writes for one rollout. */
export interface ApplyOptions {
  id: string;
  /** What to decide on. `known` is true for the caller's own `known` document (not read afresh after a conflict). */
  input: (rollout: Rollout, known: boolean) => DecisionInput | Promise<DecisionInput>;
  actor: Actor;
  /** The audit action: `rollout.analysis` records one event per transition, a person's command one event named after it. */
  action: string;
  /** A person's comment, kept with the command's audit event. */
  reason?: string;
  /** The loop's lease: the write is refused once it is lost. */
  fence?: Fence;
  /** The document as the caller just read it: saves a read on the first attempt. */
  known?: AnalysisDoc;
  /** A person's If-Match: the version they acted on. */
  expectVersion?: number;
  /** Sees the decision that was applied (the last attempt's). */
  onDecided?: (decision: Extract<Decision, { kind: 'decided' }>) => void;
  /**
   * Writes and audit events that land in the same commit as the change or not at all (an incoming
   * alert's receipt, src/alerts), planned afresh on every attempt; it may throw to abandon the
   * change. Not asked when the decision changes nothing.
   */
  also?: (next: Rollout) => Promise<{ puts: PutOp[]; audit: AuditInput[] }>;
}

/**
 * The history decide is given for a routine analysis: empty, so the decision's history holds
 * exactly the transitions it made (none, for an analysis written as a record alone).
 */
const NO_TRANSITIONS: Transition[] = [];

/**
 * Every write of a rollout after its start: the loop's batch of routine analyses, and the
 * per-rollout path (decided afresh, flags changed, audited) that the loop and people's commands
 * share. Listeners hear of each change once its commit landed.
 */
export class RolloutWriter {
  private readonly listeners = new Set<RolloutListener>();

  constructor(
    private readonly store: Store,
    private readonly docs: RolloutDocs,
    private readonly now: () => Date,
    private readonly awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
  ) {}

  /** Listeners run after the commit and must not throw or block: they are told, not asked. */
  onChange(listener: RolloutListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change: RolloutChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A listener's failure is its own; the rollout has already changed.
      }
    }
  }

  /**
   * Writes, in one fenced commit, the analyses that change nothing but the rollout's own
   * measurements: no transition, no flag change, so no audit event. That is nearly every analysis
   * of every tick, and one commit for many rollouts saves a round trip and a script run each.
   * Returns the rollouts that need `apply` instead: those whose decision does more (or leaves the
   * rollout done, such as the end of a watch after completion, which frees the flag for a new
   * rollout), and, when the batch meets a conflict (a person acted meanwhile), all of them, to be read afresh.
   */
  async commitRoutine(items: MeasuredRollout[], actor: Actor, fence: Fence): Promise<{ written: number; rest: Array<MeasuredRollout & { stale: boolean }> }> {
    const now = this.now();
    const routine: Array<{ before: Rollout; after: Rollout }> = [];
    const puts: PutOp[] = [];
    const rest: Array<MeasuredRollout & { stale: boolean }> = [];
    for (const item of items) {
      // A record whose plan and history are still inline (written by an older version) is written whole, once.
      if (item.doc.stored.inline) {
        rest.push({ ...item, stale: false });
        continue;
      }
      const before = withoutTransitions(item.doc.value);
      const decision = decide(before, item.input, now);
      if (decision.kind === 'decided' && decision.actions.length === 0 && decision.next.history.length === 0 && !isDone(decision.next)) {
        routine.push({ before, after: decision.next });
        puts.push(...this.docs.recordPuts(decision.next, item.doc.stored, item.doc.version));
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
  async apply(options: ApplyOptions): Promise<Rollout> {
    const { id, actor, action, fence } = options;
    let fresh = options.known;
    let before: Rollout | undefined;
    const after = await auditedCommit(
      this.store,
      async () => {
        // A retry after a conflict must read afresh; only the first attempt may use what the caller
        // read (with its history, unless that changed since, which also means reading afresh).
        const given = fresh ? await this.docs.withHistory(fresh) : null;
        fresh = undefined;
        const doc: RolloutDoc | null = given ?? (await this.docs.get(id));
        if (!doc) throw AppError.notFound(`rollout "${id}"`);
        if (options.expectVersion !== undefined && doc.version !== options.expectVersion) {
          throw new AppError(
            'stale',
            'version_mismatch',
            `the rollout changed since version ${options.expectVersion} (now ${doc.version}): look at it again before acting`,
            { version: doc.version },
          );
        }
        const rollout = doc.value;
        before = rollout;
        const decision = decide(rollout, await options.input(rollout, given !== null), this.now());
        if (decision.kind === 'refused') throw refusalError(decision);
        options.onDecided?.(decision);
        const { next, actions } = decision;
        // Nothing changed (an approval given before, repeated): nothing to write or audit.
        if (next === rollout) {
          before = undefined;
          return { commit: {}, audit: [], result: rollout };
        }
        const { puts, audit } = await this.flagWrites(rollout, next, actions, actor);
        puts.unshift(...this.docs.puts(next, doc.stored, doc.version));
        const target = { type: 'rollout', id, environment: rollout.environment };
        const newTransitions = next.history.slice(rollout.history.length);
        if (action !== 'rollout.analysis') audit.unshift({ actor, action, target, reason: options.reason, before: summary(rollout), after: summary(next) });
        else
          for (const t of newTransitions)
            audit.unshift({ actor, action: `rollout.${t.to}`, target, reason: t.reason, before: summary(rollout), after: summary(next) });
        if (options.also) {
          const extra = await options.also(next);
          puts.push(...extra.puts);
          audit.push(...extra.audit);
        }
        const commit: Commit = { puts, ...(fence ? { fence } : {}) };
        if (isDone(next)) commit.deletes = activeKeys(rollout).map((key) => ({ collection: ACTIVE, id: key, quiet: true }));
        return { commit, audit, result: next };
      },
      this.now,
      this.awaitApplied,
    );
    // Every analysis is written (its measurements change); listeners compare before and after.
    if (before) this.emit({ before, after, action, actor });
    return after;
  }

  /** The flags a decision changes (read only when it changes any: most analyses change none), with their audit events. */
  private async flagWrites(
    rollout: Rollout,
    next: Rollout,
    actions: Extract<Decision, { kind: 'decided' }>['actions'],
    actor: Actor,
  ): Promise<{ puts: PutOp[]; audit: AuditInput[] }> {
    if (actions.length === 0) return { puts: [], audit: [] };
    const flagDocs = await Promise.all(
      [...new Set([...rolloutFlags(rollout), ...rollout.plan.killSwitches])].map((name) => this.store.get<StoredFlag>(FLAGS, name)),
    );
    const flags = new Map(flagDocs.flatMap((d) => (d ? [[d.id, d.value] as const] : [])));
    const puts: PutOp[] = [];
    const audit: AuditInput[] = [];
    for (const [name, flag] of applyActions(next, actions, flags, next.updatedAt)) {
      const stored = flagDocs.find((d) => d?.id === name)!;
      puts.push({ collection: FLAGS, id: name, value: flag, expectVersion: stored.version });
      audit.push({
        actor,
        action: actions.some((a) => a.kind === 'kill') ? 'flag.kill' : 'flag.rollout',
        target: { type: 'flag', id: name, environment: rollout.environment },
        reason: next.history.at(-1)?.reason,
        before: stored.value,
        after: flag,
      });
    }
    return { puts, audit };
  }
}

/** A refusal of the decision core, as the project's error of that kind. */
export function refusalError(decision: Extract<Decision, { kind: 'refused' }>): AppError {
  return new AppError(decision.refusal, decision.errorId, decision.message, decision.details);
}

/** A rollout read without its history, given an empty one for decide (see NO_TRANSITIONS). */
function withoutTransitions(r: RolloutWithoutHistory): Rollout {
  return { ...r, history: NO_TRANSITIONS } as Rollout;
}

/** What the audit log keeps of a rollout's state before and after (its history lives in the rollout). */
export function summary(r: Rollout): object {
  return { state: r.state, stepIndex: r.stepIndex, percentage: r.percentage, approvals: r.approvals.length, stepVerdict: r.stepVerdict };
}
