import type { StoreLook } from './store-marks.js';

/** What a replica remembers of the store it loaded: the memory a store that lost data cannot take back. */
export interface ReplicaMemory {
  /** The identity the store had when this replica loaded it. */
  storeId: string;
  /** How far along the change feed this replica has applied. */
  feedSeq: number;
}

export type StoreVerdict =
  | { kind: 'intact' }
  /** A person accepted the loss of the store this replica loaded (or restored a backup over it): reload what it holds now. */
  | { kind: 'accepted' }
  | { kind: 'lost'; reason: string };

/**
 * Whether the store still holds what this replica loaded from it. Pure: `look` is one read of the
 * store's marks and heads (store-marks.ts). A store that lost data shows it in one of three ways:
 * another replica already said so (the loss marker); its identity is gone or another (Redis restarted
 * without its data, its keys were deleted, or REDIS_URL now reaches another server); or, with the
 * same identity, its change feed is behind what this replica applied (Redis restarted from an older
 * snapshot, or a failover promoted a copy that had not received the latest writes).
 */
export function judgeStore(memory: ReplicaMemory, look: StoreLook): StoreVerdict {
  if (look.loss) return { kind: 'lost', reason: `a replica found that the store lost data: ${look.loss.value.reason}` };
  const identity = look.identity?.value;
  if (!identity) {
    return {
      kind: 'lost',
      reason: `the store no longer holds its identity (${memory.storeId}): Redis restarted without its data, or its keys were deleted`,
    };
  }
  if (identity.id !== memory.storeId) {
    if (identity.supersedes?.includes(memory.storeId)) return { kind: 'accepted' };
    return {
      kind: 'lost',
      reason: `the store is not the one this replica loaded (identity ${memory.storeId}, now ${identity.id}): Redis restarted without its data and was written to since, or REDIS_URL reaches another server`,
    };
  }
  if (look.feedHead < memory.feedSeq) {
    return {
      kind: 'lost',
      reason:
        `the change feed went backwards from ${memory.feedSeq} to ${look.feedHead}: the store lost writes ` +
        '(Redis restarted from an older snapshot, or a failover promoted a replica that had not received them)',
    };
  }
  return { kind: 'intact' };
}

/** While this replica refuses writes: whether a person has since restored a backup or accepted the loss. */
export function lossResolved(memory: Pick<ReplicaMemory, 'storeId'>, look: StoreLook): boolean {
  return !look.loss && (look.identity?.value.supersedes ?? []).includes(memory.storeId);
}
