import { Redis } from 'ioredis';
import { ConflictError } from './errors.js';
import type {
  Commit, CommitResult, CounterFields, FeedEntry, Lease, Store, Versioned,
} from './port.js';
import { ACQUIRE_LUA, COMMIT_LUA, RELEASE_LUA, SUM_COUNTERS_LUA } from './redis-scripts.js';

export interface RedisStoreOptions {
  url: string;
  /** Deployment name; every key is `{prefix}:...` so one deployment lives in one cluster slot. */
  prefix: string;
  /** Change-feed retention (entries). Default 10 000. */
  feedMaxLen?: number;
  /** How long one XREAD of a follower blocks before looping (ms). Default 1000. */
  followBlockMs?: number;
}

type ScriptFn = (...args: (string | number)[]) => Promise<unknown>;
type StreamEntry = [id: string, fields: string[]];

/**
 * Approximate trimming (`MAXLEN ~`) only trims whole radix-tree nodes (~100 entries), so a small
 * cap would never trim at all. Small caps are a test/diagnostic setting: trim exactly for them.
 */
const APPROX_TRIM_MIN = 1000;

export class RedisStore implements Store {
  readonly kind = 'redis';
  private readonly redis: Redis;
  private readonly k: ReturnType<typeof keys>;
  private readonly feedMaxLen: number;
  private readonly blockMs: number;
  private readonly followers = new Set<() => void>();
  private closed = false;

  constructor(opts: RedisStoreOptions) {
    if (/[{}]/.test(opts.prefix) || opts.prefix === '') {
      throw new Error(`invalid store prefix "${opts.prefix}": must be non-empty and free of braces`);
    }
    this.k = keys(opts.prefix);
    this.feedMaxLen = Math.max(1, Math.floor(opts.feedMaxLen ?? 10_000));
    this.blockMs = opts.followBlockMs ?? 1000;
    // RESP2 pins reply shapes (XREAD via call(), Lua false -> nil) to what the parsing here expects;
    // ioredis 6 would otherwise negotiate RESP3.
    this.redis = new Redis(opts.url, {
      lazyConnect: true, protocol: 2, maxRetriesPerRequest: 3, enableAutoPipelining: true,
      // A command must not wait forever while Redis is away: callers report the store as down instead.
      commandTimeout: 5_000,
    });
    // Errors surface through rejected commands; without a listener ioredis would also print them.
    this.redis.on('error', () => {});
    this.redis.defineCommand('rcCommit', { lua: COMMIT_LUA });
    this.redis.defineCommand('rcAcquire', { lua: ACQUIRE_LUA, numberOfKeys: 2 });
    this.redis.defineCommand('rcRelease', { lua: RELEASE_LUA, numberOfKeys: 1 });
    this.redis.defineCommand('rcSumCounters', { lua: SUM_COUNTERS_LUA });
  }

  /** Resolves once the connection is ready (a failed first connect rejects). */
  async connect(): Promise<this> {
    if (this.redis.status === 'wait') await this.redis.connect();
    await this.redis.ping();
    return this;
  }

  private script(name: string): ScriptFn {
    return (this.redis as unknown as Record<string, ScriptFn>)[name]!.bind(this.redis);
  }

  async get<T = unknown>(collection: string, id: string): Promise<Versioned<T> | null> {
    // MULTI so the value and its version come from the same instant.
    const res = await this.redis.multi()
      .hget(this.k.doc(collection), id).hget(this.k.ver(collection), id).exec();
    const [json, ver] = execResults(res) as [string | null, string | null];
    if (json === null || ver === null) return null;
    return { id, version: Number(ver), value: JSON.parse(json) as T };
  }

  async list<T = unknown>(collection: string): Promise<Versioned<T>[]> {
    const res = await this.redis.multi()
      .hgetall(this.k.doc(collection)).hgetall(this.k.ver(collection)).exec();
    const [docs, vers] = execResults(res) as [Record<string, string>, Record<string, string>];
    return Object.keys(docs).sort().map((id) => ({
      id, version: Number(vers[id] ?? 0), value: JSON.parse(docs[id]!) as T,
    }));
  }

  async commit(c: Commit): Promise<CommitResult> {
    const keyList = [this.k.feedseq, this.k.feed];
    const keyIdx = new Map<string, number>();
    const key = (k: string): number => { // 1-based index into KEYS, each key passed once
      let i = keyIdx.get(k);
      if (i === undefined) {
        i = keyList.push(k);
        keyIdx.set(k, i);
      }
      return i;
    };
    const payloads: string[] = [];
    const payload = (v: unknown): number => payloads.push(toJson(v)) + 3; // ARGV[4] is payload 1
    const plan = {
      f: c.fence ? [key(this.k.lease(c.fence.lease)), c.fence.token, c.fence.lease] : undefined,
      p: (c.puts ?? []).map((op) => [key(this.k.doc(op.collection)), key(this.k.ver(op.collection)), op.id,
        expectArg(op.expectVersion), payload(op.value), op.collection, op.quiet ? 1 : 0]),
      d: (c.deletes ?? []).map((op) => [key(this.k.doc(op.collection)), key(this.k.ver(op.collection)), op.id,
        expectArg(op.expectVersion), op.collection, op.quiet ? 1 : 0]),
      a: (c.appends ?? []).map((op) => [key(this.k.log(op.log)), op.seq, payload(op.entry), op.log]),
    };
    const trim = this.feedMaxLen >= APPROX_TRIM_MIN ? '~' : '=';
    const res = (await this.script('rcCommit')(keyList.length, ...keyList,
      JSON.stringify(plan), this.feedMaxLen, trim, ...payloads)) as [string, ...(string | number)[]];
    if (res[0] !== 'ok') throw new ConflictError(String(res[1]));
    const versions: Record<string, number> = {};
    (c.puts ?? []).forEach((op, i) => (versions[`${op.collection}/${op.id}`] = Number(res[i + 2])));
    return { seq: Number(res[1]), versions };
  }

  async feedHead(): Promise<number> {
    return Number((await this.redis.get(this.k.feedseq)) ?? 0);
  }

  async readFeed(afterSeq: number, limit: number): Promise<FeedEntry[] | null> {
    const after = Math.max(0, Math.floor(afterSeq));
    const res = await this.redis.multi().get(this.k.feedseq)
      .xrange(this.k.feed, `${after + 1}-0`, '+', 'COUNT', Math.max(1, limit)).exec();
    const [head, raw] = execResults(res) as [string | null, StreamEntry[]];
    if (after >= Number(head ?? 0)) return [];
    const entries = raw.map(parseFeedEntry);
    // Seqs are contiguous in the stream, so a missing successor can only mean it was trimmed.
    if (entries.length === 0 || entries[0]!.seq !== after + 1) return null;
    return entries.slice(0, Math.max(0, limit));
  }

  follow(afterSeq: number, onEntries: (entries: FeedEntry[]) => void, onGap: () => void): () => void {
    if (this.closed) throw new Error('redis store is closed');
    // A blocking XREAD would stall every other command on a shared connection.
    const conn = this.redis.duplicate({ enableAutoPipelining: false, maxRetriesPerRequest: 1 });
    conn.on('error', () => {});
    let stopped = false;
    let last = Math.max(0, Math.floor(afterSeq));
    const stop = (): void => {
      if (stopped) return;
      stopped = true;
      this.followers.delete(stop);
      conn.disconnect(); // rejects the pending XREAD at once instead of waiting out BLOCK
    };
    this.followers.add(stop);
    void (async () => {
      let backoff = 50;
      while (!stopped) {
        try {
          const res = (await conn.call('XREAD', 'COUNT', 1000, 'BLOCK', this.blockMs,
            'STREAMS', this.k.feed, `${last}-1`)) as [string, StreamEntry[]][] | null;
          backoff = 50;
          if (stopped || !res?.[0]) continue;
          const entries = res[0][1].map(parseFeedEntry);
          if (entries.length === 0) continue;
          if (entries[0]!.seq !== last + 1) {
            // Resume from the head as of now: the caller's reload will cover everything up to it.
            const head = Number((await conn.get(this.k.feedseq)) ?? 0);
            last = Math.max(head, entries[entries.length - 1]!.seq);
            guard(onGap);
            continue;
          }
          last = entries[entries.length - 1]!.seq;
          guard(() => onEntries(entries));
        } catch {
          if (stopped) break;
          await new Promise((r) => setTimeout(r, backoff));
          backoff = Math.min(backoff * 2, 2000);
        }
      }
    })();
    return stop;
  }

  async readLog<T = unknown>(log: string, fromSeq: number, limit: number): Promise<Array<{ seq: number; entry: T }>> {
    if (limit <= 0) return [];
    const start = `${Math.max(0, Math.ceil(fromSeq))}-0`;
    const raw = await this.redis.xrange(this.k.log(log), start, '+', 'COUNT', limit);
    return raw.map(([id, f]) => ({ seq: idSeq(id), entry: JSON.parse(field(f, 'e') ?? 'null') as T }));
  }

  async incrementCounters(bucket: string, fields: CounterFields, ttlSeconds: number): Promise<void> {
    const m = this.redis.multi();
    const k = this.k.ctr(bucket);
    // Always HINCRBYFLOAT: HINCRBY would fail on a field that once received a fraction, and it
    // keeps integers exact (Redis formats integral results without a decimal point).
    for (const [f, n] of Object.entries(fields)) m.hincrbyfloat(k, f, checkFinite(f, n));
    m.expire(k, ttlArg(ttlSeconds));
    execResults(await m.exec());
  }

  async readCounters(bucket: string): Promise<CounterFields> {
    const raw = await this.redis.hgetall(this.k.ctr(bucket));
    // Converted in place: a rollout tick reads thousands of these, and intermediate arrays show up as GC.
    const out: CounterFields = {};
    for (const field in raw) out[field] = Number(raw[field]);
    return out;
  }

  async sumCounters(groups: string[][]): Promise<CounterFields[]> {
    const keyList: string[] = [];
    const index = new Map<string, number>();
    const plan = groups.map((group) =>
      group.map((bucket) => {
        let i = index.get(bucket);
        if (i === undefined) index.set(bucket, (i = keyList.push(this.k.ctr(bucket))));
        return i;
      }),
    );
    if (keyList.length === 0) return groups.map(() => ({}));
    const res = (await this.script('rcSumCounters')(keyList.length, ...keyList, JSON.stringify(plan))) as string;
    return (JSON.parse(res) as Array<Record<string, string | number>>).map((sums) => {
      for (const field in sums) sums[field] = Number(sums[field]);
      return sums as CounterFields;
    });
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const token = await this.script('rcAcquire')(this.k.lease(name), this.k.fence(name),
      holder, Math.max(1, Math.ceil(ttlMs)));
    return token === null ? null : { holder, token: Number(token) };
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.script('rcRelease')(this.k.lease(name), holder);
  }

  async ping(): Promise<void> {
    // Readiness must flip quickly when Redis is away, not after the offline queue gives up.
    if (this.redis.status !== 'ready') throw new Error(`redis connection is ${this.redis.status}`);
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.followers]) stop();
    if (this.redis.status !== 'ready') {
      // QUIT would sit in the offline queue until Redis returns; a stopping replica must not wait for that.
      this.redis.disconnect();
      return;
    }
    try {
      await this.redis.quit();
    } catch {
      this.redis.disconnect();
    }
  }
}

export async function createRedisStore(url: string, prefix: string,
  opts: Omit<RedisStoreOptions, 'url' | 'prefix'> = {}): Promise<RedisStore> {
  const store = new RedisStore({ url, prefix, ...opts });
  try {
    return await store.connect();
  } catch (err) {
    await store.close();
    throw err;
  }
}

function keys(prefix: string) {
  const p = `{${prefix}}`;
  return {
    feedseq: `${p}:feedseq`,
    feed: `${p}:feed`,
    doc: (c: string) => `${p}:doc:${c}`,
    ver: (c: string) => `${p}:ver:${c}`,
    log: (l: string) => `${p}:log:${l}`,
    ctr: (b: string) => `${p}:ctr:${b}`,
    lease: (n: string) => `${p}:lease:${n}`,
    fence: (n: string) => `${p}:fence:${n}`,
  };
}

function execResults(res: [Error | null, unknown][] | null): unknown[] {
  if (!res) throw new Error('redis transaction aborted');
  return res.map(([err, v]) => {
    if (err) throw err;
    return v;
  });
}

function toJson(v: unknown): string {
  return JSON.stringify(v) ?? 'null'; // undefined (and functions) have no JSON form
}

function expectArg(v: number | undefined): number {
  if (v === undefined) return -1;
  if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`expectVersion must be an integer >= 0, got ${v}`);
  return v;
}

function checkFinite(field: string, n: number): number {
  if (!Number.isFinite(n)) throw new TypeError(`counter ${field}: increment must be finite, got ${n}`);
  return n;
}

function ttlArg(ttlSeconds: number): number {
  return Math.max(1, Math.ceil(ttlSeconds));
}

function idSeq(id: string): number {
  return Number(id.slice(0, id.indexOf('-')));
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

function parseFeedEntry([id, f]: StreamEntry): FeedEntry {
  const value = field(f, 'value') ?? '';
  return {
    seq: idSeq(id),
    collection: field(f, 'collection') ?? '',
    id: field(f, 'id') ?? '',
    version: Number(field(f, 'version') ?? 0),
    value: value === '' ? null : JSON.parse(value),
  };
}

/** A throwing callback must not kill the follow loop; report it without crashing the process. */
function guard(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    process.emitWarning(`store follow callback threw: ${(err as Error)?.stack ?? String(err)}`);
  }
}
