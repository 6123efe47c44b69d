import { createHash } from 'node:crypto';
import type { PutOp, Store, Versioned } from '../store/port.js';
import type { Policy } from '../policies/policy-schema.js';
import { isFinal, ROLLOUTS, type Rollout, type Transition } from './rollout-model.js';

/** Plans rollouts follow, each kept once under the hash of its content (immutable, so cached for good). */
export const ROLLOUT_PLANS = 'rollout-plans';
/** Each rollout's history of transitions, written only when a transition is. */
export const ROLLOUT_HISTORIES = 'rollout-histories';

/**
 * A rollout as the `rollouts` collection holds it: everything an analysis reads and rewrites, without
 * the two parts that only grow or never change. Every analysis rewrites this document, so it stays
 * small however long the history gets; the plan and the history are read and written only when needed.
 * `plan` and `history` inline: a document written before they moved out (still read as it is).
 */
export type RolloutRecord = Omit<Rollout, 'plan' | 'history'> & {
  planId: string;
  /** Length of the history this record goes with: a history read at another moment is detected and read again. */
  historyLength: number;
  plan?: Policy;
  history?: Transition[];
};

/** The history of a rollout read for analysis only: never written back (an analysis that adds to it reads it first). */
export const HISTORY_NOT_LOADED: readonly Transition[] = Object.freeze([]);

/** A rollout as the loop lists it: its version, and its record when this replica holds it at that version. */
export interface RecordRef {
  id: string;
  version: number;
  record?: RolloutRecord;
}

/** Where a rollout read from the store keeps its plan and history. */
interface Origin {
  planId: string;
  historyLength: number;
  /** The record still had its plan and history inline: its next write moves them out. */
  inline: boolean;
}

/** Reads agree once the history has the length the record says: a write landing between the two reads is read again. */
const CONSISTENT_READ_ATTEMPTS = 5;

/**
 * How long a record is trusted from memory while its version is unchanged. Versions alone are not
 * proof after data loss (writes lost in a failover, then others at the same numbers); reading
 * each record again within this time bounds how long such a copy can live.
 */
const KEEP_RECORDS_MS = 60_000;

/** Stable id of a plan: the same plan started by many rollouts is stored once. */
export function planId(plan: Policy): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 32);
}

/**
 * Turns rollouts into store documents and back. The rest of the service works with whole `Rollout`s;
 * only this class knows that a rollout is kept as a record, a shared plan and a history.
 */
export class RolloutDocs {
  private readonly plans = new Map<string, Policy | Promise<Policy>>();
  private readonly origins = new WeakMap<Rollout, Origin>();
  /**
   * Records of active rollouts this replica read or wrote last, with their version: a tick fetches
   * only the records that changed since (written by another replica, or by a person's command).
   * Records are never changed in place (decide returns new objects), so keeping them is safe.
   */
  private readonly known = new Map<string, { version: number; record: RolloutRecord; at: number }>();
  /** Rollouts seen final, with their version: final is for ever, so they are not fetched again (they pile up over months). */
  private readonly finished = new Map<string, number>();

  constructor(private readonly store: Store) {}

  /** One rollout, whole (with its history), or null. */
  async get(id: string): Promise<Versioned<Rollout> | null> {
    for (let attempt = 1; ; attempt++) {
      const [record, history] = await Promise.all([this.store.get<RolloutRecord>(ROLLOUTS, id), this.store.get<Transition[]>(ROLLOUT_HISTORIES, id)]);
      if (!record) return null;
      if (record.value.history || (history?.value.length ?? 0) === record.value.historyLength || attempt === CONSISTENT_READ_ATTEMPTS) {
        return { id, version: record.version, value: await this.hydrate(record.value, history?.value ?? []) };
      }
    }
  }

  /** Every rollout, whole. */
  async list(): Promise<Rollout[]> {
    const [records, histories] = await Promise.all([this.store.list<RolloutRecord>(ROLLOUTS), this.store.list<Transition[]>(ROLLOUT_HISTORIES)]);
    const historyOf = new Map(histories.map((h) => [h.id, h.value]));
    return Promise.all(
      records.map(async ({ id, value }) => {
        const history = historyOf.get(id) ?? [];
        if (value.history || history.length === value.historyLength) return this.hydrate(value, history);
        return (await this.get(id))?.value ?? this.hydrate(value, history); // written between the two lists
      }),
    );
  }

  /**
   * Every rollout not known to be final, in id order: its version, and its record when this
   * replica holds it at that version (it read or wrote it last). The others are fetched by
   * `forAnalysis`, a batch at a time, so a first tick's reads overlap its work.
   */
  async activeRecords(): Promise<RecordRef[]> {
    const versions = await this.store.versions(ROLLOUTS);
    for (const id of this.known.keys()) if (!versions.has(id)) this.known.delete(id);
    for (const id of this.finished.keys()) if (!versions.has(id)) this.finished.delete(id);
    const refs: RecordRef[] = [];
    for (const [id, version] of versions) {
      if (this.finished.get(id) === version) continue;
      const known = this.known.get(id);
      const fresh = known !== undefined && known.version === version && performance.now() - known.at < KEEP_RECORDS_MS;
      refs.push(fresh ? { id, version, record: known.record } : { id, version });
    }
    return refs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Records made into rollouts for analysis (those not in memory fetched in one read): with their
   * plan, without their history (HISTORY_NOT_LOADED); final ones are left out, and not fetched
   * again. `willWrite` tells which the caller is about to rewrite (those due for analysis). Such a rollout may be written back only while its history is unchanged; `withHistory`
   * makes it whole for anything else.
   */
  async forAnalysis(refs: RecordRef[], willWrite: (rollout: Rollout) => boolean = () => false): Promise<Array<Versioned<Rollout>>> {
    const missing = refs.filter((ref) => !ref.record).map((ref) => ref.id);
    const fetched = new Map(missing.length === 0 ? [] : (await this.store.getMany<RolloutRecord>(ROLLOUTS, missing)).map((doc) => [doc.id, doc]));
    const active: Array<Versioned<RolloutRecord>> = [];
    for (const ref of refs) {
      // A fetched record carries the version it was read at, which may be newer than the listed one.
      const doc = ref.record ? { id: ref.id, version: ref.version, value: ref.record } : fetched.get(ref.id);
      if (!doc) continue; // deleted since it was listed
      if (isFinal(doc.value.state)) {
        this.finished.set(doc.id, doc.version);
        this.known.delete(doc.id);
      } else active.push(doc);
    }
    // Plans not yet in memory are read first (one read per plan, not per rollout); the rest is synchronous.
    const plans = new Map<string, Policy>();
    for (const doc of active) if (!doc.value.plan && !plans.has(doc.value.planId)) plans.set(doc.value.planId, await this.plan(doc.value.planId));
    return active.map((doc) => {
      const plan = doc.value.plan ?? plans.get(doc.value.planId)!;
      const rollout = this.hydrateWith(doc.value, HISTORY_NOT_LOADED, plan);
      // A record about to be rewritten is remembered as written (see `written`); keeping the one
      // read as well would only carry it into the garbage collector's old generation.
      if (willWrite(rollout)) this.known.delete(doc.id);
      else this.known.set(doc.id, { version: doc.version, record: doc.value, at: performance.now() });
      return { id: doc.id, version: doc.version, value: rollout };
    });
  }

  /**
   * Forgets every record kept in memory. For a replica that just took the lead: the store may have
   * changed under it (a failover that lost writes, a restore), and a version number alone cannot tell
   * a record from another one written later at the same number.
   */
  forgetRecords(): void {
    this.known.clear();
    this.finished.clear();
  }

  /** Remembers the records a commit of `puts` (from `puts`) wrote, at the versions it gave them. */
  written(puts: PutOp[], versions: Record<string, number>): void {
    for (const put of puts) {
      const version = versions[`${ROLLOUTS}/${put.id}`];
      if (put.collection === ROLLOUTS && version !== undefined) this.known.set(put.id, { version, record: put.value as RolloutRecord, at: performance.now() });
    }
  }

  /** A rollout read by `forAnalysis`, with its history; null when it changed since (read it afresh). */
  async withHistory(doc: Versioned<Rollout>): Promise<Versioned<Rollout> | null> {
    const origin = this.origins.get(doc.value);
    if (!origin) throw new Error(`rollout ${doc.id} was not read through RolloutDocs`);
    if (doc.value.history !== HISTORY_NOT_LOADED) return doc;
    const history = (await this.store.get<Transition[]>(ROLLOUT_HISTORIES, doc.id))?.value ?? [];
    if (history.length !== origin.historyLength) return null;
    const whole = { ...doc.value, history };
    this.origins.set(whole, origin);
    return { ...doc, value: whole };
  }

  /**
   * The writes that store `next`, a new state of `before` (null: a new rollout), read at
   * `expectVersion`. The history is written only when it changed, the plan only with a new rollout.
   */
  puts(next: Rollout, before: Rollout | null, expectVersion: number): PutOp[] {
    const origin = before ? this.origins.get(before) : undefined;
    if (before && !origin) throw new Error(`rollout ${before.id} was not read through RolloutDocs`);
    const id = origin?.planId ?? planId(next.plan);
    const historyChanged = !origin || origin.inline || next.history !== before!.history;
    // A history built on one that was never read would drop every earlier transition.
    if (historyChanged && (next.history === HISTORY_NOT_LOADED || before?.history === HISTORY_NOT_LOADED)) {
      throw new Error(`rollout ${next.id}: its history was not read, so it cannot be written`);
    }
    // Spread, not rest-destructured (several times slower): plan and history are set to undefined,
    // which JSON leaves out.
    const record: RolloutRecord = { ...next, plan: undefined, history: undefined, planId: id, historyLength: historyChanged ? next.history.length : origin!.historyLength };
    const puts: PutOp[] = [{ collection: ROLLOUTS, id: next.id, value: record, expectVersion, quiet: true }];
    // Unconditional: the history is guarded by the record's version, written in the same commit.
    if (historyChanged) puts.push({ collection: ROLLOUT_HISTORIES, id: next.id, value: next.history, quiet: true });
    if (!origin || origin.inline) {
      this.plans.set(id, next.plan);
      puts.push({ collection: ROLLOUT_PLANS, id, value: next.plan, quiet: true });
    }
    return puts;
  }

  private async hydrate(record: RolloutRecord, history: readonly Transition[]): Promise<Rollout> {
    return this.hydrateWith(record, history, record.plan ?? (await this.plan(record.planId)));
  }

  /** The rollout of a record, given its plan: a spread with the record's own keys set to undefined (left out of JSON). */
  private hydrateWith(record: RolloutRecord, history: readonly Transition[], plan: Policy): Rollout {
    const inline = record.plan !== undefined || record.history !== undefined;
    const rollout = { ...record, plan, history: record.history ?? history, planId: undefined, historyLength: undefined } as unknown as Rollout;
    // Step sums kept in their earlier shape (per-cohort totals) are dropped: the next analysis sums
    // the step from its start instead, which gives the same figures.
    if (rollout.stepTotals && !rollout.stepTotals.fields) rollout.stepTotals = undefined;
    this.origins.set(rollout, { planId: record.plan ? planId(record.plan) : record.planId, historyLength: record.history ? record.history.length : record.historyLength, inline });
    return rollout;
  }

  private async plan(id: string): Promise<Policy> {
    let plan = this.plans.get(id);
    if (!plan) {
      // The promise is kept, so a batch of rollouts on a plan not yet seen reads it once.
      plan = this.store.get<Policy>(ROLLOUT_PLANS, id).then((doc) => {
        if (!doc) throw new Error(`rollout plan ${id} is missing from the store`);
        this.plans.set(id, doc.value);
        return doc.value;
      });
      this.plans.set(id, plan);
      plan.catch(() => this.plans.delete(id));
    }
    return plan;
  }
}
