import { randomUUID } from 'node:crypto';
import type { PutOp, Store, Versioned } from '../store/port.js';
import { HEAD_ID, META } from '../audit/audited-commit.js';
import type { AuditHead } from '../audit/chain.js';

/**
 * Two documents by which replicas tell that the store lost data, both in `meta`, quiet and not
 * backed up (a restored store is a new store):
 *
 * - `store-id`: a random identity, written by the first replica that finds none. A store restarted
 *   without its data, flushed or swapped no longer holds the identity its replicas loaded. A person
 *   accepting a loss writes a new one that names the identities it replaces (`supersedes`), which
 *   is how every replica learns the loss was dealt with.
 * - `store-loss`: written by the first replica that notices a loss, so that replicas started later
 *   (which remember nothing) know too. It stays until a person restores a backup or accepts the loss.
 *
 * Both live in the store they describe, so a restart without data takes them too; what notices is a
 * replica's memory of what it loaded (see loss-judge.ts), and the marker carries that memory over.
 */
export const STORE_ID = 'store-id';
export const STORE_LOSS = 'store-loss';

export interface StoreIdentity {
  id: string;
  createdAt: string;
  /** Identities whose loss a person accepted: replicas that loaded one of them reload instead of refusing. */
  supersedes?: string[];
}

export interface LossReport {
  /** In words, for the log, /readyz and the 503 of a refused write. */
  reason: string;
  detectedAt: string;
  /** The replica that noticed (REPLICA_ID or host name, with its process id). */
  detectedBy: string;
  /** What that replica had loaded and seen: the store held at least this much. */
  lostFrom: { storeId: string; feedSeq: number; auditSeq: number };
  /** What the store held when the loss was noticed. */
  found: { storeId: string | null; feedHead: number; auditSeq: number };
}

/** The store's marks and heads, read together once a second by every replica. */
export interface StoreLook {
  feedHead: number;
  identity?: Versioned<StoreIdentity>;
  loss?: Versioned<LossReport>;
  /** The audit head's seq (0 when there is none). */
  auditSeq: number;
}

export async function lookAtStore(store: Store): Promise<StoreLook> {
  const [feedHead, docs] = await Promise.all([store.feedHead(), store.getMany(META, [STORE_ID, STORE_LOSS, HEAD_ID])]);
  const doc = (id: string) => docs.find((d) => d.id === id);
  return {
    feedHead,
    identity: doc(STORE_ID) as Versioned<StoreIdentity> | undefined,
    loss: doc(STORE_LOSS) as Versioned<LossReport> | undefined,
    auditSeq: (doc(HEAD_ID)?.value as AuditHead | undefined)?.seq ?? 0,
  };
}

export function newIdentity(at: Date, supersedes: Array<string | null | undefined> = []): StoreIdentity {
  const replaced = [...new Set(supersedes.filter((id): id is string => typeof id === 'string'))];
  return { id: randomUUID(), createdAt: at.toISOString(), ...(replaced.length > 0 ? { supersedes: replaced } : {}) };
}

/**
 * The write that puts `identity` in place of the one `look` saw, as a compare-and-set on it: a
 * write based on a look that another replica (or a person) has since changed fails instead.
 */
export function identityPut(identity: StoreIdentity, look: StoreLook): PutOp {
  return { collection: META, id: STORE_ID, value: identity, expectVersion: look.identity?.version ?? 0, quiet: true };
}
