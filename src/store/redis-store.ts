import { type ConflictKind, ConflictError, StoreUnavailableError } from '../errors/app-error.js';
import type { Commit, CommitResult, CounterFields, FeedEntry, GapKind, Lease, SampleAdd, Store, Versioned } from './port.js';
import { closeClient, createRedisClient, parseRedisUrl, type ConnectionTuning, type RedisClient, type RedisTopology } from './redis-connection.js';
import { commitArgs, execResults, field, idSeq, keys, lazyDoc, parseFeedEntry, unavailable, type RedisKeys, type StreamEntry } from './redis-encoding.js';
import { followFeed } from './redis-feed-follower.js';
import { ACQUIRE_LUA, COMMIT_LUA, INCREMENT_COUNTERS_LUA, RELEASE_LUA, SUM_COUNTERS_LUA } from './redis-scripts.js';
import * as samples from './redis-samples.js';
import { decodeCounterHash, decodeSums, incrementArgs } from './redis-counters.js';
import { checkIncrement } from './counters.js';

export interface RedisStoreOptions {
  /** A single server, a Sentinel set or a Cluster: see redis-connection.ts for the URL forms. */
  url: string;
  /** Deployment name; every key is `{prefix}:...` so one deployment lives in one cluster slot. */
  prefix: string;
  /** Change-feed retention (entries). Default 10 000. */
  feedMaxLen?: number;
  /** How long one XREAD of a follower blocks before looping (ms). Default 1000. */
  followBlockMs?: number;
  /**
   * Replicas that must confirm every commit and every lease grant (Redis WAIT) before it counts as
   * done. Default 0: acknowledged once the primary has it.
   */
  waitReplicas?: number;
  /** How long a WAIT may take (ms). Default 1000. */
  waitTimeoutMs?: number;
}

type ScriptFn = (...args: (string | number | Buffer)[]) => Promise<unknown>;

/** A command must not wait forever while Redis is away: callers report the store as down instead. */
const COMMAND_TIMEOUT_MS = 5_000;
/** Readiness must flip quickly when Redis stops answering (a paused or stopped server keeps its socket open). */
const PING_TIMEOUT_MS = 1_000;

export class RedisStore implements Store {
  readonly kind = 'redis';
  readonly topology: RedisTopology;
  /** Shared by every command of this process (auto-pipelined). */
  private readonly redis: RedisClient;
  /**
   * Commits and lease grants. With waitReplicas this is a connection of its own: WAIT blocks the
   * connection it runs on, and reads and counters must not queue behind it.
   */
  private readonly writer: RedisClient;
  private readonly waitReplicas: number;
  private readonly waitTimeoutMs: number;
  private readonly k: RedisKeys;
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
    this.waitReplicas = Math.max(0, Math.floor(opts.waitReplicas ?? 0));
    this.waitTimeoutMs = Math.max(1, Math.floor(opts.waitTimeoutMs ?? 1000));
    this.topology = parseRedisUrl(opts.url);
    this.redis = this.open({ autoPipelining: true, maxRetriesPerRequest: 3, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    this.writer =
      this.waitReplicas === 0
        ? this.redis
        : this.open({ autoPipelining: true, maxRetriesPerRequest: 3, commandTimeoutMs: COMMAND_TIMEOUT_MS + this.waitTimeoutMs });
  }

  private open(tuning: ConnectionTuning): RedisClient {
    const client = createRedisClient(this.topology, tuning);
    // Scripts run by EVALSHA (loaded on first use); on a Cluster they are routed by their keys, which
    // all share the deployment's hash tag.
    client.defineCommand('rcCommit', { lua: COMMIT_LUA });
    client.defineCommand('rcAcquire', { lua: ACQUIRE_LUA, numberOfKeys: 2 });
    client.defineCommand('rcRelease', { lua: RELEASE_LUA, numberOfKeys: 1 });
    client.defineCommand('rcSumCounters', { lua: SUM_COUNTERS_LUA });
    client.defineCommand('rcIncrementCounters', { lua: INCREMENT_COUNTERS_LUA, numberOfKeys: 1 });
    return client;
  }

  /** Resolves once the connections are ready (a failed first connect rejects). */
  async connect(): Promise<this> {
    for (const client of new Set([this.redis, this.writer])) {
      if (client.status === 'wait') await client.connect();
      // A keyed read rather than PING: on a Cluster it reaches the node that holds this deployment.
      await client.get(this.k.feedseq);
    }
    return this;
  }

  private script(name: string, client: RedisClient = this.redis): ScriptFn {
    return (client as unknown as Record<string, ScriptFn>)[name]!.bind(client);
  }

  /**
   * Runs a writing script on the writer connection. With waitReplicas, WAIT follows it in the same
   * pipeline: the same connection (WAIT counts that connection's writes) and, on a Cluster, the same
   * node (a pipeline goes where its keyed commands go; WAIT alone has no key to route by).
   * A write that `wrote` says happened but too few replicas confirmed is an error: it was applied on
   * the primary, yet a failover may take it back, so it must not be reported as done.
   */
  private async writeScript<R>(name: string, args: (string | number)[], wrote: (result: R) => boolean): Promise<R> {
    if (this.waitReplicas === 0) return (await this.io(this.script(name, this.writer)(...args))) as R;
    const pipeline = this.writer.pipeline();
    (pipeline as unknown as Record<string, (...a: (string | number)[]) => unknown>)[name]!(...args);
    pipeline.wait(this.waitReplicas, this.waitTimeoutMs);
    const [result, confirmed] = (await this.io(pipeline.exec().then(execResults))) as [R, number];
    if (wrote(result) && Number(confirmed) < this.waitReplicas) {
      throw new StoreUnavailableError(
        `the write reached the primary but only ${confirmed} of the ${this.waitReplicas} replica(s) asked for confirmed it within ${this.waitTimeoutMs} ms: ` +
          'it may be lost in a failover, so it is not reported as done (it may also have taken effect: check before retrying)',
      );
    }
    return result;
  }

  /** Connection trouble and Redis' own "not now" answers become StoreUnavailableError (HTTP 503). */
  private async io<T>(pending: Promise<T>): Promise<T> {
    try {
      return await pending;
    } catch (err) {
      throw unavailable(err);
    }
  }

  async get<T = unknown>(collection: string, id: string): Promise<Versioned<T> | null> {
    // MULTI so the value and its version come from the same instant.
    const [json, ver] = (await this.io(this.redis.multi().hget(this.k.doc(collection), id).hget(this.k.ver(collection), id).exec().then(execResults))) as [
      string | null,
      string | null,
    ];
    if (json === null || ver === null) return null;
    return { id, version: Number(ver), value: JSON.parse(json) as T };
  }

  async list<T = unknown>(collection: string): Promise<Versioned<T>[]> {
    const [docs, vers] = (await this.io(this.redis.multi().hgetall(this.k.doc(collection)).hgetall(this.k.ver(collection)).exec().then(execResults))) as [
      Record<string, string>,
      Record<string, string>,
    ];
    return Object.keys(docs)
      .sort()
      .map((id) => lazyDoc<T>(id, Number(vers[id] ?? 0), docs[id]!));
  }

  async versions(collection: string): Promise<Map<string, number>> {
    const vers = (await this.io(this.redis.hgetall(this.k.ver(collection)))) as Record<string, string>;
    return new Map(Object.keys(vers).map((id) => [id, Number(vers[id])]));
  }

  async getMany<T = unknown>(collection: string, ids: string[]): Promise<Versioned<T>[]> {
    if (ids.length === 0) return [];
    const [docs, vers] = (await this.io(
      this.redis
        .multi()
        .hmget(this.k.doc(collection), ...ids)
        .hmget(this.k.ver(collection), ...ids)
        .exec()
        .then(execResults),
    )) as [Array<string | null>, Array<string | null>];
    return ids.flatMap((id, i) => (docs[i] == null || vers[i] == null ? [] : [lazyDoc<T>(id, Number(vers[i]), docs[i]!)]));
  }

  async commit(c: Commit): Promise<CommitResult> {
    const res = await this.writeScript<[string, ...(string | number)[]]>('rcCommit', commitArgs(this.k, c, this.feedMaxLen), (r) => r[0] === 'ok');
    if (res[0] !== 'ok') throw new ConflictError(res[1] as ConflictKind, String(res[2]));
    const versions: Record<string, number> = {};
    (c.puts ?? []).forEach((op, i) => (versions[`${op.collection}/${op.id}`] = Number(res[i + 2])));
    return { seq: Number(res[1]), versions };
  }

  async feedHead(): Promise<number> {
    return Number((await this.io(this.redis.get(this.k.feedseq))) ?? 0);
  }

  async readFeed(afterSeq: number, limit: number): Promise<FeedEntry[] | null> {
    const after = Math.max(0, Math.floor(afterSeq));
    const [head, raw] = (await this.io(
      this.redis
        .multi()
        .get(this.k.feedseq)
        .xrange(this.k.feed, `${after + 1}-0`, '+', 'COUNT', Math.max(1, limit))
        .exec()
        .then(execResults),
    )) as [string | null, StreamEntry[]];
    if (after >= Number(head ?? 0)) return [];
    const entries = raw.map(parseFeedEntry);
    // Seqs are contiguous in the stream, so a missing successor can only mean it was trimmed.
    if (entries.length === 0 || entries[0]!.seq !== after + 1) return null;
    return entries.slice(0, Math.max(0, limit));
  }

  follow(afterSeq: number, onEntries: (entries: FeedEntry[]) => void, onGap: (kind?: GapKind) => void): () => void {
    if (this.closed) throw new Error('redis store is closed');
    // A connection of its own: a blocking XREAD would stall every other command on a shared one.
    const conn = this.open({ autoPipelining: false, maxRetriesPerRequest: 1, commandTimeoutMs: COMMAND_TIMEOUT_MS });
    return followFeed({ conn, keys: this.k, blockMs: this.blockMs, followers: this.followers }, afterSeq, onEntries, onGap);
  }

  async readLog<T = unknown>(log: string, fromSeq: number, limit: number): Promise<Array<{ seq: number; entry: T }>> {
    if (limit <= 0) return [];
    const start = `${Math.max(0, Math.ceil(fromSeq))}-0`;
    const raw = await this.io(this.redis.xrange(this.k.log(log), start, '+', 'COUNT', limit));
    return raw.map(([id, f]) => ({ seq: idSeq(id), entry: JSON.parse(field(f, 'e') ?? 'null') as T }));
  }

  async incrementCounters(bucket: string, fields: CounterFields, ttlSeconds: number): Promise<void> {
    checkIncrement(fields);
    // One script: numbers by HINCRBYFLOAT (which keeps integers exact: Redis formats integral results
    // without a decimal point), vectors added in place, all or nothing.
    await this.io(this.script('rcIncrementCounters')(this.k.ctr(bucket), ...incrementArgs(fields, ttlSeconds)));
  }

  async readCounters(bucket: string): Promise<CounterFields> {
    return decodeCounterHash(await this.io(this.redis.hgetallBuffer(this.k.ctr(bucket))));
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
    // As Buffers: after the JSON, the reply holds packed vectors, not text.
    return decodeSums((await this.io(this.script('rcSumCountersBuffer')(keyList.length, ...keyList, JSON.stringify(plan)))) as Buffer[]);
  }

  // Bottom-k samples: redis-samples.ts (async, so a bad argument rejects like any other failure, unwrapped).
  addToSamples = async (adds: SampleAdd[], keep: number, ttl: number) => this.io(samples.addToSamples(this.redis, this.k.smp, adds, keep, ttl));
  mergeSamples = async (to: string, from: string[], keep: number, ttl: number) => this.io(samples.mergeSamples(this.redis, this.k.smp, to, from, keep, ttl));
  readSamples = async (groups: string[][], keep: number) => this.io(samples.readSamples(this.redis, this.k.smp, groups, keep));

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    // Confirmed like a commit: a fencing token a failover could take back might be handed out twice.
    const token = await this.writeScript<number | null>(
      'rcAcquire',
      [this.k.lease(name), this.k.fence(name), holder, Math.max(1, Math.ceil(ttlMs))],
      (t) => t !== null,
    );
    return token === null ? null : { holder, token: Number(token) };
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.io(this.script('rcRelease', this.writer)(this.k.lease(name), holder));
  }

  async ping(): Promise<void> {
    // Readiness must flip quickly when Redis is away, not after the offline queue gives up.
    if (this.redis.status !== 'ready') throw new StoreUnavailableError(`the redis connection is ${this.redis.status}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError(`redis did not answer within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.io(this.redis.get(this.k.feedseq)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const stop of [...this.followers]) stop();
    await Promise.all([...new Set([this.redis, this.writer])].map(closeClient));
  }
}

/** Opens the store and waits for its first connection; a failure closes it again and rejects. */
export async function createRedisStore(url: string, prefix: string, opts: Omit<RedisStoreOptions, 'url' | 'prefix'> = {}): Promise<RedisStore> {
  const store = new RedisStore({ url, prefix, ...opts });
  try {
    return await store.connect();
  } catch (err) {
    await store.close();
    throw err;
  }
}
