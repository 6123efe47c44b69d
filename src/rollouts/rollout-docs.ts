import { createHash } from 'node:crypto';
import type { PutOp, Store, Versioned } from '../store/port.js';
import type { Policy } from '../policies/policy-schema.js';
import { isDone, ROLLOUTS, type Rollout, type Transition } from './rollout-model.js';

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
export type RolloutRecord = DistributiveOmit<Rollout, 'plan' | 'history'> & {
  planId: string;
  /** Length of the history this record goes with: a history read at another moment is detected and read again. */
  historyLength: number;
  plan?: Policy;
  history?: Transition[];
};

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * A rollout as an analysis reads it: everything but its history, which only a transition needs
 * (and reads first, with `withHistory`). Most analyses write back the record alone.
 */
export type RolloutWithoutHistory = DistributiveOmit<Rollout, 'history'>;

/**
 * Where a rollout read from the store keeps its plan and history: what writing it back needs.
 * Travels with every document this class hands out, so a write never depends on how it was read.
 */
export interface StoredAt {
  planId: string;
  /** Length of the stored history: a longer one in a new state means transitions to write. */
  historyLength: number;
  /** The record still had its plan and history inline: its next write moves them out. */
  inline: boolean;
}

/** A whole rollout as read from the store: its version and where its parts are kept. */
export type RolloutDoc = Versioned<Rollout> & { stored: StoredAt };
/** A rollout as read for an analysis. */
export type AnalysisDoc = Versioned<RolloutWithoutHistory> & { stored: StoredAt };

/** A rollout as the loop lists it: its version, and its record when this replica holds it at that version. */
export interface RecordRef {
  id: string;
  version: number;
  record?: RolloutRecord;
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
  /**
   * Records of active rollouts this replica read or wrote last, with their version: a tick fetches
   * only the records that changed since (written by another replica, or by a person's command).
   * Records are never changed in place (decide returns new objects), so keeping them is safe.
   */
  private readonly known = new Map<string, { version: number; record: RolloutRecord; at: number }>();
  /**
   * Rollouts seen done (final, and not watching after completion), with their version: done is for
   * ever, so they are not fetched again (they pile up over months).
   */
  private readonly finished = new Map<string, number>();

  /** Only reads: the writes it plans (`puts`) are committed by the caller, so a read-only reader serves as well. */
  constructor(private readonly store: Pick<Store, 'get' | 'list' | 'versions' | 'getMany'>) {}

  /** One rollout, whole (with its history), or null. */
  async get(id: string): Promise<RolloutDoc | null> {
    for (let attempt = 1; ; attempt++) {
      const [record, history] = await Promise.all([this.store.get<RolloutRecord>(ROLLOUTS, id), this.store.get<Transition[]>(ROLLOUT_HISTORIES, id)]);
      if (!record) return null;
      if (record.value.history || (history?.value.length ?? 0) === record.value.historyLength || attempt === CONSISTENT_READ_ATTEMPTS) {
        const value = (await this.hydrate(record.value, history?.value ?? [])) as Rollout;
        return { id, version: record.version, value, stored: storedAt(record.value) };
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
        if (value.history || history.length === value.historyLength) return (await this.hydrate(value, history)) as Rollout;
        return (await this.get(id))?.value ?? ((await this.hydrate(value, history)) as Rollout); // written between the two lists
      }),
    );
  }

  /**
   * Every rollout not known to be done, in id order: its version, and its record when this
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
   * plan, without their history; done ones are left out, and not fetched again (a completed rollout
   * still watching its rollback rules is not done: it is analysed until its watch ends). `willWrite` tells
   * which the caller is about to rewrite (those due for analysis). `withHistory` makes one whole.
   */
  async forAnalysis(refs: RecordRef[], willWrite: (rollout: RolloutWithoutHistory) => boolean = () => false): Promise<AnalysisDoc[]> {
    const missing = refs.filter((ref) => !ref.record).map((ref) => ref.id);
    const fetched = new Map(missing.length === 0 ? [] : (await this.store.getMany<RolloutRecord>(ROLLOUTS, missing)).map((doc) => [doc.id, doc]));
    const active: Array<Versioned<RolloutRecord>> = [];
    for (const ref of refs) {
      // A fetched record carries the version it was read at, which may be newer than the listed one.
      const doc = ref.record ? { id: ref.id, version: ref.version, value: ref.record } : fetched.get(ref.id);
      if (!doc) continue; // deleted since it was listed
      if (isDone(doc.value)) {
        this.finished.set(doc.id, doc.version);
        this.known.delete(doc.id);
      } else active.push(doc);
    }
    // Plans not yet in memory are read first (one read per plan, not per rollout); the rest is synchronous.
    const plans = new Map<string, Policy>();
    for (const doc of active) if (!doc.value.plan && !plans.has(doc.value.planId)) plans.set(doc.value.planId, await this.plan(doc.value.planId));
    return active.map((doc) => {
      const plan = doc.value.plan ?? plans.get(doc.value.planId)!;
      const rollout = this.hydrateWith(doc.value, undefined, plan);
      // A record about to be rewritten is remembered as written (see `written`); keeping the one
      // read as well would only carry it into the garbage collector's old generation.
      if (willWrite(rollout)) this.known.delete(doc.id);
      else this.known.set(doc.id, { version: doc.version, record: doc.value, at: performance.now() });
      return { id: doc.id, version: doc.version, value: rollout, stored: storedAt(doc.value) };
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

  /** A rollout read by `forAnalysis`, made whole with its history; null when it changed since (read it afresh). */
  async withHistory(doc: AnalysisDoc): Promise<RolloutDoc | null> {
    // A record written before the parts moved out carries its history inline.
    const inline = (doc.value as Partial<Rollout>).history;
    const history = inline ?? (await this.store.get<Transition[]>(ROLLOUT_HISTORIES, doc.id))?.value ?? [];
    if (history.length !== doc.stored.historyLength) return null;
    return { ...doc, value: { ...doc.value, history } as Rollout };
  }

  /**
   * The writes that store `next`, a whole new state of a rollout stored at `stored` (null: a new
   * rollout), read at `expectVersion`. The history is written when it grew, the plan only with a
   * new rollout or one whose parts were still inline.
   */
  puts(next: Rollout, stored: StoredAt | null, expectVersion: number): PutOp[] {
    const id = stored?.planId ?? planId(next.plan);
    const historyChanged = !stored || stored.inline || next.history.length !== stored.historyLength;
    const puts = [this.recordPut(next, id, historyChanged ? next.history.length : stored!.historyLength, expectVersion)];
    // Unconditional: the history is guarded by the record's version, written in the same commit.
    if (historyChanged) puts.push({ collection: ROLLOUT_HISTORIES, id: next.id, value: next.history, quiet: true });
    if (!stored || stored.inline) {
      this.plans.set(id, next.plan);
      puts.push({ collection: ROLLOUT_PLANS, id, value: next.plan, quiet: true });
    }
    return puts;
  }

  /**
   * The write of a new state without a transition, as the record alone: the stored history and
   * plan stay as they are. A record whose parts are still inline must be written whole (`puts`).
   */
  recordPuts(next: RolloutWithoutHistory, stored: StoredAt, expectVersion: number): PutOp[] {
    if (stored.inline) throw new Error(`rollout ${next.id}: its plan and history are still inline, so it must be written whole`);
    return [this.recordPut(next, stored.planId, stored.historyLength, expectVersion)];
  }

  /** Spread, not rest-destructured (several times slower): plan and history are set to undefined, which JSON leaves out. */
  private recordPut(next: RolloutWithoutHistory, id: string, historyLength: number, expectVersion: number): PutOp {
    const record = { ...next, plan: undefined, history: undefined, planId: id, historyLength } as RolloutRecord;
    return { collection: ROLLOUTS, id: next.id, value: record, expectVersion, quiet: true };
  }

  private async hydrate(record: RolloutRecord, history: readonly Transition[]): Promise<RolloutWithoutHistory> {
    return this.hydrateWith(record, history, record.plan ?? (await this.plan(record.planId)));
  }

  /**
   * The rollout of a record, given its plan (and its history, when read): a spread with the
   * record's own keys set to undefined (left out of JSON). A record written before the parts moved
   * out still carries its history inline, and keeps it.
   */
  private hydrateWith(record: RolloutRecord, history: readonly Transition[] | undefined, plan: Policy): RolloutWithoutHistory {
    const rollout = { ...record, plan, history: record.history ?? history, planId: undefined, historyLength: undefined } as unknown as RolloutWithoutHistory;
    // Step sums kept in their earlier shape (per-cohort totals) are dropped: the next analysis sums
    // the step from its start instead, which gives the same figures.
    if (rollout.stepTotals && !rollout.stepTotals.fields) rollout.stepTotals = undefined;
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

/** Where a record's parts are kept, as read. */
function storedAt(record: RolloutRecord): StoredAt {
  const inline = record.plan !== undefined || record.history !== undefined;
  return { planId: record.plan ? planId(record.plan) : record.planId, historyLength: record.history ? record.history.length : record.historyLength, inline };
}
