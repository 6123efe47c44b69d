import type { Commit, Store } from '../store/port.js';
import { auditedCommit, META } from '../audit/audited-commit.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import type { StoreWatch } from './store-watch.js';
import { identityPut, lookAtStore, newIdentity, STORE_LOSS, type LossReport, type StoreLook } from './store-marks.js';

export const ACCEPT_LOSS_ACTION = 'store.accept-loss';

/**
 * How a loss ends, by acceptance or by a restore: the store gets a new identity naming every one
 * involved (the store the replicas loaded, the one found, the one this replica holds), so each
 * replica, whichever it loaded, sees its own superseded and reloads; and the marker goes. Written
 * in one commit, compared with `look`: a decision taken on marks that moved meanwhile fails.
 */
export function resolution(look: StoreLook, watch: Pick<StoreWatch, 'lost' | 'storeId'>, at: Date): { commit: Commit; report: LossReport } {
  const report = look.loss?.value ?? watch.lost;
  if (!report) {
    throw new AppError('conflict', 'no_store_loss', 'no loss of data is known, neither to the store nor to this replica: there is nothing to accept');
  }
  const identity = newIdentity(at, [report.lostFrom.storeId, report.found.storeId, look.identity?.value.id, watch.storeId]);
  return {
    report,
    commit: {
      puts: [identityPut(identity, look)],
      deletes: look.loss ? [{ collection: META, id: STORE_LOSS, expectVersion: look.loss.version, quiet: true }] : [],
    },
  };
}

/**
 * What a restore into a store that lost data writes with its last commit to end the loss, and notes
 * in its audit event; undefined when no loss is known (neither to `watch`, this replica's, nor by a
 * marker in the store: an offline restore has no replica's memory).
 */
export async function restoreEndingLoss(
  store: Store,
  watch: Pick<StoreWatch, 'lost' | 'storeId'> | undefined,
  at: Date,
): Promise<{ commit: Commit; note: Record<string, unknown> } | undefined> {
  const look = await lookAtStore(store);
  if (!watch?.lost && !look.loss) return undefined;
  const { commit, report } = resolution(look, watch ?? { lost: undefined, storeId: undefined }, at);
  return { commit, note: { endsStoreLoss: report } };
}

/**
 * A person accepts what the store holds now, and the loss is recorded in the audit log (the event's
 * `before` says how much the store held). The store itself, not the guarded one: this is the one
 * write allowed while writes are refused.
 */
export async function acceptLoss(
  store: Store,
  watch: Pick<StoreWatch, 'lost' | 'storeId'>,
  request: { actor: Actor; reason: string; storeName: string },
  now: () => Date,
): Promise<{ accepted: LossReport; storeId: string }> {
  return auditedCommit(
    store,
    async () => {
      const look = await lookAtStore(store);
      const { commit, report } = resolution(look, watch, now());
      const storeId = (commit.puts![0]!.value as { id: string }).id;
      return {
        commit,
        audit: {
          actor: request.actor,
          action: ACCEPT_LOSS_ACTION,
          target: { type: 'store', id: request.storeName },
          reason: request.reason,
          before: report,
          after: { storeId, feedHead: look.feedHead, auditEvents: look.auditSeq },
        },
        result: { accepted: report, storeId },
      };
    },
    now,
  );
}
