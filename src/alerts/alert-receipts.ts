import { createHash } from 'node:crypto';
import type { PutOp, Store, Versioned } from '../store/port.js';
import { ConflictError } from '../errors/app-error.js';
import type { AlertAction, AlertResult, AlertTarget, IncomingAlert, Outcome } from './alert-model.js';

/**
 * Which alerts were acted on, so a resent alert does nothing new: one receipt per alert episode
 * (source, environment, fingerprint, startsAt), status and target. A receipt is created with a
 * create-if-absent compare-and-set in the same commit as the action it records, so of two replicas
 * that get the same resend, one acts and the other finds the receipt.
 * Receipts expire RECEIPT_TTL_MS after they were written or renewed; a resend in the second half
 * of that time renews them, so an alert that fires for weeks is still recognised. Expired ones are
 * swept by whichever replica next receives an alert, at most once per PRUNE_EVERY_MS.
 */

export const ALERT_RECEIPTS = 'alert-receipts';
export const RECEIPT_TTL_MS = 7 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;
/** Deletes per sweep, so one sweep stays a short commit. */
const PRUNE_BATCH = 500;

export interface Receipt {
  source: IncomingAlert['source'];
  fingerprint: string;
  status: IncomingAlert['status'];
  startsAt: string | null;
  environment: string;
  target: AlertTarget;
  action: AlertAction | 'resume';
  outcome: Exclude<Outcome, 'duplicate'>;
  detail: string;
  rolloutId?: string;
  /** On a pause: when its transition was made, so the resolve resumes only a rollout nobody moved since. */
  pausedAt?: string;
  at: string;
  expiresAt: string;
}

/** The id of the receipt of one alert's status for one target (a hash: fingerprints and names are the caller's). */
export function receiptId(
  alert: Pick<IncomingAlert, 'source' | 'fingerprint' | 'startsAt'>,
  status: IncomingAlert['status'],
  environment: string,
  target: AlertTarget,
): string {
  const parts = [alert.source, environment, alert.fingerprint, alert.startsAt ?? '', status, target.kind, target.name];
  return createHash('sha256').update(parts.join('\u0000')).digest('hex');
}

export class AlertReceipts {
  private lastPrune = 0;

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
  ) {}

  /** The receipt (`live`: null when there is none or it expired), and the version a new one must replace (0: none). */
  async lookup(id: string): Promise<{ live: Versioned<Receipt> | null; version: number }> {
    const doc = await this.store.get<Receipt>(ALERT_RECEIPTS, id);
    return { live: doc && Date.parse(doc.value.expiresAt) > this.now().getTime() ? doc : null, version: doc?.version ?? 0 };
  }

  /** The write that creates a receipt for a result, unless one was written since `expectVersion` was read. */
  put(id: string, alert: IncomingAlert, result: AlertResult & { target: AlertTarget; environment: string }, expectVersion: number, pausedAt?: string): PutOp {
    const now = this.now();
    const receipt: Receipt = {
      source: alert.source,
      fingerprint: alert.fingerprint,
      status: alert.status,
      startsAt: alert.startsAt ?? null,
      environment: result.environment,
      target: result.target,
      action: result.action ?? 'pause',
      outcome: result.outcome as Receipt['outcome'],
      detail: result.detail,
      ...(result.rolloutId ? { rolloutId: result.rolloutId } : {}),
      ...(pausedAt ? { pausedAt } : {}),
      at: now.toISOString(),
      expiresAt: new Date(now.getTime() + RECEIPT_TTL_MS).toISOString(),
    };
    // Nobody follows receipts: they stay off the change feed.
    return { collection: ALERT_RECEIPTS, id, value: receipt, expectVersion, quiet: true };
  }

  /** A resend keeps its receipt alive: past half its time, it is given the whole TTL again (a race lost changes nothing). */
  async seenAgain(doc: Versioned<Receipt>): Promise<void> {
    const now = this.now().getTime();
    if (Date.parse(doc.value.expiresAt) - now > RECEIPT_TTL_MS / 2) return;
    const value = { ...doc.value, expiresAt: new Date(now + RECEIPT_TTL_MS).toISOString() };
    try {
      await this.store.commit({ puts: [{ collection: ALERT_RECEIPTS, id: doc.id, value, expectVersion: doc.version, quiet: true }] });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
    }
  }

  /**
   * Deletes expired receipts, when this replica has not done so for a while; returns how many. A
   * race lost (a receipt renewed meanwhile, another replica sweeping) deletes nothing this time.
   */
  async pruneIfDue(): Promise<number> {
    const now = this.now().getTime();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return 0;
    this.lastPrune = now;
    const expired = (await this.store.list<Receipt>(ALERT_RECEIPTS)).filter((d) => Date.parse(d.value.expiresAt) <= now).slice(0, PRUNE_BATCH);
    if (expired.length === 0) return 0;
    const deletes = expired.map((d) => ({ collection: ALERT_RECEIPTS, id: d.id, expectVersion: d.version, quiet: true }));
    try {
      await this.store.commit({ deletes });
      return deletes.length;
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      return 0;
    }
  }
}
