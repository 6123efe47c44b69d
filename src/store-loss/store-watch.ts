import type { Store } from '../store/port.js';
import type { Logger } from '../logger.js';
import { META } from '../audit/audited-commit.js';
import { ConflictError } from '../errors/app-error.js';
import { judgeStore, lossResolved, type ReplicaMemory } from './loss-judge.js';
import { identityPut, lookAtStore, newIdentity, STORE_LOSS, type LossReport, type StoreLook } from './store-marks.js';

/** What the replica should do after a look at the store. */
export type WatchOutcome = 'serve' | 'reload' | 'refuse';

/**
 * This replica's memory of the store it loaded, and whether it found the store lost data. While it
 * has (`lost`), the replica keeps serving its last snapshot, refuses writes (guarded-store.ts) and
 * reports not ready, until a person restores a backup or accepts the loss (loss-routes.ts); every
 * replica learns that from the store within a look (a second). The feed follower does the looking
 * and the reloading (serving/feed-follower.ts); this class decides and remembers.
 */
export class StoreWatch {
  private memory: (ReplicaMemory & { auditSeq: number }) | undefined;
  private report: LossReport | undefined;
  private markerWritten = false;
  private writingMarker = false;

  constructor(
    /** The store itself, not the guarded one: the marker is written while writes are refused. */
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly replicaId: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The loss this replica found or was told of; undefined while the store is intact. */
  get lost(): LossReport | undefined {
    return this.report;
  }

  /** The identity of the store this replica serves from (undefined before the first load). */
  get storeId(): string | undefined {
    return this.memory?.storeId;
  }

  /** Takes a look at the store's marks and heads. */
  look(): Promise<StoreLook> {
    return lookAtStore(this.store);
  }

  /**
   * Before the first load: a store without an identity (new, or from a version without them) gets
   * one. With a loss marker there, this replica starts refusing like the others.
   */
  async identify(look: StoreLook): Promise<StoreLook> {
    if (look.identity) return look;
    await this.store.commit({ puts: [identityPut(newIdentity(this.now()), look)] }).catch((err) => {
      if (!(err instanceof ConflictError)) throw err; // another replica gave it one first
    });
    return this.look();
  }

  /** After a (re)load from the store as `look` saw it: what this replica now serves. */
  adopt(look: StoreLook, feedSeq: number): void {
    if (!look.identity) throw new Error('adopt() needs a look with an identity (see identify)');
    const previous = this.report;
    this.memory = { storeId: look.identity.value.id, feedSeq, auditSeq: look.auditSeq };
    this.report = undefined;
    this.markerWritten = false;
    if (look.loss) {
      this.declare(`a replica found that the store lost data: ${look.loss.value.reason}`, look, feedSeq);
    } else if (previous) {
      this.logger.warn(
        { storeId: this.memory.storeId, lostFrom: previous.lostFrom },
        'the store loss was resolved (a backup restored or the loss accepted): reloaded, now serving what the store holds',
      );
    }
  }

  /** One look, every second (and after a feed gap): serve on, reload, or keep refusing. */
  observe(look: StoreLook, feedSeq: number): WatchOutcome {
    const memory = this.memory;
    if (!memory) return 'refuse';
    if (this.report) {
      if (lossResolved(memory, look)) return 'reload';
      void this.writeMarker(look);
      return 'refuse';
    }
    const verdict = judgeStore({ ...memory, feedSeq }, look);
    if (verdict.kind === 'accepted') return 'reload';
    if (verdict.kind === 'lost') {
      this.declare(verdict.reason, look, feedSeq);
      return 'refuse';
    }
    memory.feedSeq = feedSeq;
    memory.auditSeq = Math.max(memory.auditSeq, look.auditSeq);
    return 'serve';
  }

  /** This replica wrote the audit head up to `seq` (see refusingWritesWhenLost). */
  sawAuditHead(seq: number): void {
    if (this.memory && !this.report) this.memory.auditSeq = Math.max(this.memory.auditSeq, seq);
  }

  /** The feed follower found the store no longer holds an entry this replica applied. */
  diverged(reason: string, look: StoreLook, feedSeq: number): void {
    if (this.memory && !this.report) this.declare(reason, look, feedSeq);
  }

  private declare(reason: string, look: StoreLook, feedSeq: number): void {
    const memory = this.memory!;
    // Told by another replica's marker: its report says what the store held (a replica that started
    // after the loss remembers nothing older than what it found).
    this.report = look.loss?.value ?? {
      reason,
      detectedAt: this.now().toISOString(),
      detectedBy: this.replicaId,
      lostFrom: { storeId: memory.storeId, feedSeq: Math.max(memory.feedSeq, feedSeq), auditSeq: memory.auditSeq },
      found: { storeId: look.identity?.value.id ?? null, feedHead: look.feedHead, auditSeq: look.auditSeq },
    };
    // ERROR: a person must choose between restoring a backup and accepting what the store holds.
    this.logger.error(
      { lostFrom: this.report.lostFrom, found: this.report.found, detectedBy: this.report.detectedBy },
      `the store lost data (${reason}): serving the last snapshot, refusing writes and reporting not ready until a person ` +
        'restores a backup or accepts the loss (POST /api/admin/store/accept-loss); see docs/operations.md',
    );
    void this.writeMarker(look);
  }

  /**
   * Leaves the loss marker for replicas that start later, once. The identity is written in the same
   * commit, compared with what the look saw: a person who accepted the loss in between changed it,
   * and the marker must not come back after that.
   */
  private async writeMarker(look: StoreLook): Promise<void> {
    if (look.loss) this.markerWritten = true;
    if (this.markerWritten || this.writingMarker || !this.report) return;
    this.writingMarker = true;
    try {
      const identity = look.identity?.value ?? newIdentity(this.now());
      await this.store.commit({ puts: [{ collection: META, id: STORE_LOSS, value: this.report, expectVersion: 0, quiet: true }, identityPut(identity, look)] });
      this.markerWritten = true;
    } catch {
      // Unreachable, or the marks moved (another replica's marker, a person's decision): the next look tells.
    } finally {
      this.writingMarker = false;
    }
  }

  /** What verification of the audit log compares the store's head with (see verifyAuditLog). */
  async auditMemory(): Promise<{ seen: number; loss?: LossReport }> {
    const loss = this.report ?? (await this.store.get<LossReport>(META, STORE_LOSS))?.value;
    return { seen: this.memory?.auditSeq ?? 0, ...(loss ? { loss } : {}) };
  }
}
