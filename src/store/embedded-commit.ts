import { ConflictError } from '../errors/app-error.js';
import type { CommitRecord, Write } from './embedded-format.js';
import type { Docs, Logs } from './embedded-state.js';
import type { Commit } from './port.js';

/** What a commit whose checks passed writes, as it is journaled; `w` and `a` are both empty when it changes nothing. */
export interface CommitPlan {
  w: Write[];
  a: CommitRecord['a'];
  /** The new version of each put, keyed "collection/id" (CommitResult.versions). */
  versions: Record<string, number>;
}

/**
 * The embedded store's commit up to the write: checks the commit against the current state and
 * resolves its writes, changing nothing. Throws ConflictError when a check fails (TypeError for an
 * invalid expectVersion). `liveLease(name)` is that lease if it is held now, for the fence check.
 */
export function planCommit(c: Commit, docs: Docs, logs: Logs, liveLease: (name: string) => { token: number } | undefined): CommitPlan {
  const { puts = [], deletes = [], appends = [] } = c;
  const version = (coll: string, id: string): number => docs.get(coll)?.get(id)?.v ?? 0;
  for (const op of [...puts, ...deletes]) checkExpect(op.expectVersion);
  // Checks run in the same order as the Redis script, so both report the same reason.
  if (c.fence) {
    const l = liveLease(c.fence.lease);
    if (!l) throw new ConflictError('fence', `fence: lease "${c.fence.lease}" is not held`);
    if (l.token !== c.fence.token) throw new ConflictError('fence', `fence: lease "${c.fence.lease}" token is ${l.token}, not ${c.fence.token}`);
  }
  for (const [kind, ops] of [
    ['put', puts],
    ['delete', deletes],
  ] as const) {
    for (const op of ops) {
      const cur = version(op.collection, op.id);
      if (op.expectVersion !== undefined && cur !== op.expectVersion) {
        throw new ConflictError('version', `${kind} ${op.collection}/${op.id}: expected version ${op.expectVersion}, found ${cur}`);
      }
    }
  }
  const nextSeq = new Map<string, number>();
  for (const op of appends) {
    const entries = logs.get(op.log);
    const n = nextSeq.get(op.log) ?? (entries?.length ? entries[entries.length - 1]![0] + 1 : 1);
    if (op.seq !== n) throw new ConflictError('append', `append ${op.log}: expected seq ${n}, got ${op.seq}`);
    nextSeq.set(op.log, n + 1);
  }

  // Resolve versions op by op, so several ops on one document inside a commit chain up.
  const pending = new Map<string, number>();
  const cur = (coll: string, id: string): number => pending.get(`${coll}/${id}`) ?? version(coll, id);
  const versions: Record<string, number> = {};
  const w: Write[] = [];
  for (const op of puts) {
    const v = cur(op.collection, op.id) + 1;
    pending.set(`${op.collection}/${op.id}`, (versions[`${op.collection}/${op.id}`] = v));
    w.push(op.quiet ? [op.collection, op.id, v, JSON.stringify(op.value) ?? 'null', 1] : [op.collection, op.id, v, JSON.stringify(op.value) ?? 'null']);
  }
  for (const op of deletes) {
    const v = cur(op.collection, op.id);
    if (v === 0) continue; // deleting an absent document changes nothing and feeds nothing
    pending.set(`${op.collection}/${op.id}`, 0);
    w.push(op.quiet ? [op.collection, op.id, v, null, 1] : [op.collection, op.id, v, null]);
  }
  const a = appends.map((op): [string, number, string] => [op.log, op.seq, JSON.stringify(op.entry) ?? 'null']);
  return { w, a, versions };
}

function checkExpect(v: number | undefined): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new TypeError(`expectVersion must be an integer >= 0, got ${v}`);
}
