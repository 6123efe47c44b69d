import { StoreUnavailableError } from '../errors/app-error.js';
import type { Commit, FeedEntry, Versioned } from './port.js';

/**
 * Pure translation between the store port and Redis, for redis-store.ts and its feed follower: key
 * names, command arguments, replies and errors. Nothing here talks to Redis.
 */

export type StreamEntry = [id: string, fields: string[]];
export type RedisKeys = ReturnType<typeof keys>;

/**
 * Approximate trimming (`MAXLEN ~`) only trims whole radix-tree nodes (~100 entries), so a small
 * cap would never trim at all. Small caps are a test/diagnostic setting: trim exactly for them.
 */
const APPROX_TRIM_MIN = 1000;

/** Errors Redis itself answers with while it cannot serve: a retry later may succeed. */
const UNAVAILABLE_REPLY = /^(LOADING|READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|BUSY)\b/;

export function keys(prefix: string) {
  const p = `{${prefix}}`;
  return {
    feedseq: `${p}:feedseq`,
    feed: `${p}:feed`,
    doc: (c: string) => `${p}:doc:${c}`,
    ver: (c: string) => `${p}:ver:${c}`,
    log: (l: string) => `${p}:log:${l}`,
    ctr: (b: string) => `${p}:ctr:${b}`,
    smp: (s: string) => `${p}:smp:${s}`,
    lease: (n: string) => `${p}:lease:${n}`,
    fence: (n: string) => `${p}:fence:${n}`,
  };
}

/**
 * The arguments of the commit script (COMMIT_LUA, whose comment gives the layout): every key once in
 * KEYS, the plan as one JSON ARGV, and each payload as an ARGV of its own, so cjson never re-parses it.
 */
export function commitArgs(k: RedisKeys, c: Commit, feedMaxLen: number): (string | number)[] {
  const keyList = [k.feedseq, k.feed];
  const keyIdx = new Map<string, number>();
  const key = (name: string): number => {
    // 1-based index into KEYS, each key passed once
    let i = keyIdx.get(name);
    if (i === undefined) {
      i = keyList.push(name);
      keyIdx.set(name, i);
    }
    return i;
  };
  const payloads: string[] = [];
  const payload = (v: unknown): number => payloads.push(toJson(v)) + 3; // ARGV[4] is payload 1
  const plan = {
    f: c.fence ? [key(k.lease(c.fence.lease)), c.fence.token, c.fence.lease] : undefined,
    p: (c.puts ?? []).map((op) => [
      key(k.doc(op.collection)),
      key(k.ver(op.collection)),
      op.id,
      expectArg(op.expectVersion),
      payload(op.value),
      op.collection,
      op.quiet ? 1 : 0,
    ]),
    d: (c.deletes ?? []).map((op) => [
      key(k.doc(op.collection)),
      key(k.ver(op.collection)),
      op.id,
      expectArg(op.expectVersion),
      op.collection,
      op.quiet ? 1 : 0,
    ]),
    a: (c.appends ?? []).map((op) => [key(k.log(op.log)), op.seq, payload(op.entry), op.log]),
  };
  const trim = feedMaxLen >= APPROX_TRIM_MIN ? '~' : '=';
  return [keyList.length, ...keyList, JSON.stringify(plan), feedMaxLen, trim, ...payloads];
}

export function execResults(res: [Error | null, unknown][] | null): unknown[] {
  if (!res) throw new Error('redis transaction aborted');
  return res.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
}

/** What a failed command is reported as: see RedisStore.io. */
export function unavailable(err: unknown): unknown {
  const e = err as { name?: string; message?: string };
  // Any other error Redis answers with is a bug here (a script error, a wrong type), not an outage.
  if (err instanceof StoreUnavailableError || (e?.name === 'ReplyError' && !UNAVAILABLE_REPLY.test(e.message ?? ''))) return err;
  const out = new StoreUnavailableError('the store is unavailable; try again shortly');
  out.cause = err;
  return out;
}

/**
 * A listed document whose value is parsed on first use: a caller that walks a long list a batch at
 * a time (the rollout loop) keeps each batch's objects short-lived, which the garbage collector
 * handles far more cheaply than a whole list parsed up front.
 */
export function lazyDoc<T>(id: string, version: number, json: string): Versioned<T> {
  let parsed: { value: T } | undefined;
  return {
    id,
    version,
    get value(): T {
      if (!parsed) {
        parsed = { value: JSON.parse(json) as T };
        json = ''; // the text is no longer needed once parsed
      }
      return parsed.value;
    },
  };
}

function toJson(v: unknown): string {
  return JSON.stringify(v) ?? 'null'; // undefined (and functions) have no JSON form
}

function expectArg(v: number | undefined): number {
  if (v === undefined) return -1;
  if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`expectVersion must be an integer >= 0, got ${v}`);
  return v;
}

export function ttlArg(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds));
}

export function idSeq(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

export function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

export function parseFeedEntry([id, f]: StreamEntry): FeedEntry {
  const value = field(f, 'value') ?? '';
  return {
    seq: idSeq(id),
    collection: field(f, 'collection') ?? '',
    id: field(f, 'id') ?? '',
    version: Number(field(f, 'version') ?? 0),
    value: value === '' ? null : JSON.parse(value),
  };
}
