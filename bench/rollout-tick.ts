/**
 * How many active rollouts one `RolloutLoop.tick()` analyses per second, on a real redis-server.
 *
 * The controller code runs in this (the bench) process, built as the controller builds it
 * (RedisStore, RolloutService, StoreOutcomeSource, RolloutLoop), with an injected clock. One rollout
 * and its flag are made through the real services (PolicyService.put, FlagService.put,
 * RolloutService.start); the other N - 1 are copies of those documents with their own id, flag and
 * owned strategy id, written straight through `store.commit` in batches. Every flag gets outcome
 * counters through StoreOutcomeSource.record in every bucket its step window and analysis windows
 * read, so each evaluation reads and sums real data. Before each tick the clock moves on by the
 * analysis interval, so every rollout is due again.
 *
 * Three runs, each on its own redis-server: the target (N rollouts whose step started one interval
 * before the first tick: the fewest counter buckets an evaluation can read), a concurrency sweep on
 * fewer rollouts, and an older step (more buckets per evaluation) on fewer rollouts still.
 *
 * `npm run bench` measures the target twice: with outcomes as a stock SDK's application reports them,
 * and with per-user counts as the SDK helper adds them (TickRunOptions.units).
 *
 * On its own: `npx tsx bench/rollout-tick.ts [rollouts] [stepAgeSeconds] [ticks]` prints one run as JSON;
 * BENCH_TICK_UNITS=1 adds per-user counts; BENCH_TICK_PROFILE=file.cpuprofile also writes a CPU profile of one extra tick (with BENCH_TICK_PROFILE_STUB=1,
 * of a tick whose outcome reads are answered from memory).
 */
import { writeFileSync } from 'node:fs';
import { EnvironmentService } from '../src/environments/environment-service.js';
import { Redis } from 'ioredis';
import { createLogger } from '../src/logger.js';
import { createRedisStore, type Store } from '../src/store/index.js';
import type { Commit, CommitResult, CounterFields, FeedEntry, Lease, PutOp, SampleAdd, Versioned } from '../src/store/port.js';
import { PolicyService } from '../src/policies/policy-service.js';
import { policySchema } from '../src/policies/policy-schema.js';
import { FlagService } from '../src/flags/flag-service.js';
import { FLAGS } from '../src/flags/collections.js';
import { flagDefinitionSchema, type StoredFlag } from '../src/flags/schema.js';
import { RolloutService } from '../src/rollouts/rollout-service.js';
import { DEFAULT_BATCH_SIZE, DEFAULT_BATCHES_IN_FLIGHT, RolloutLoop, type TickReport } from '../src/rollouts/rollout-loop.js';
import { ROLLOUTS, type Rollout } from '../src/rollouts/rollout-model.js';
import { ownedStrategyId } from '../src/rollouts/flag-actions.js';
import { ROLLOUT_HISTORIES, type RolloutRecord } from '../src/rollouts/rollout-docs.js';
import { DEFAULT_OUTCOME_BUCKET_MS, StoreOutcomeSource, type OutcomeReport } from '../src/metrics/outcomes.js';
import { fieldsOf, totalsOf } from '../src/metrics/outcome-fields.js';
import type { OutcomeSource, OutcomeTotals } from '../src/metrics/outcome-model.js';
import type { Actor } from '../src/audit/chain.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { pinToCpu, processCpuSeconds } from './stack.js';

export interface TickRunOptions {
  label: string;
  rollouts: number;
  /** One timed tick per entry, at that concurrency (RolloutLoop's `concurrency`). */
  concurrencies: number[];
  /** How long the rollouts' current step has run at the first tick: the step window an evaluation reads grows with it. */
  stepAgeMs: number;
  /** Outcome records also carry per-user counts, as the SDK helper sends them (see unitsOf). */
  units?: boolean;
  /** Pin redis-server to this CPU (the bench process, which runs the controller code, stays where it is). */
  redisCpu?: number;
  /** Write a CPU profile of one extra tick here (not part of the figures). */
  profilePath?: string;
  /**
   * After the timed ticks: one tick whose outcome reads are replaced by a constant (a real sum, read
   * once), to split the tick into outcome reads and the rest; and one tick with nothing due (the
   * cost every tick pays, due or not: lease + listing every rollout document).
   */
  splitTicks?: boolean;
  /** Processes started here are added while they run (so the caller can stop them on SIGINT). */
  running?: Set<{ stop(): Promise<void> }>;
}

export interface TickFigures extends TickReport {
  concurrency: number;
  wallMs: number;
  /** Counter buckets (HGETALLs) each evaluation read, on average: step window (new buckets only, once the step totals are kept) + recent window. */
  bucketsRead: number;
  /** CPU over the tick, ms: this process (the controller code; includes GC threads) and redis-server. */
  controllerCpuMs: number;
  redisCpuMs?: number;
  /** The sequential start of the tick: lease, then list (and parse) every rollout document. */
  leaseAndListMs: number;
  /** Store calls during the tick per rollout, and the average rollout's time waiting on each kind (calls overlap, so these add up to more than wall / rollouts). */
  perRollout: Record<string, { calls: number; ms: number }>;
  /** Commands redis-server executed during the tick per rollout (INFO commandstats), and their total. */
  redisCommandsPerRollout: Record<string, number>;
  redisCommandsTotal: number;
}

export interface TickRunResult {
  label: string;
  rollouts: number;
  /** Whether outcomes carried per-user counts. */
  units: boolean;
  stepAgeMs: number;
  analysisIntervalMs: number;
  bucketMs: number;
  seed: { docsMs: number; outcomesMs: number; counterBuckets: number };
  /** Size of one rollout record (JSON) after the last timed tick: what each analysis rewrites (the plan and history are kept apart). */
  rolloutDocBytes: number;
  ticks: TickFigures[];
  /** The same tick with every OutcomeSource.sum answered from memory (no counter reads). */
  readsStubbed?: TickFigures;
  /** A tick with nothing due. */
  idle?: TickFigures;
  redisPinned: boolean;
}

export interface RolloutTickResult {
  targetMs: number;
  rollouts: number;
  /** Whether outcomes carried per-user counts. */
  units: boolean;
  concurrency: number;
  main: TickRunResult;
  /** One tick per concurrency on fewer rollouts (the first, at the main concurrency, warms up). */
  sweep?: TickRunResult;
  /** Over the main run's ticks. */
  tickMs: { p50: number; max: number };
  rolloutsPerSecond: number;
  /** Controller CPU per rollout analysed (ms). */
  cpuMsPerRollout: number;
  /** Where a main tick's time goes (ms): lease + list, outcome reads (tick − the same tick with reads answered from memory), the rest (get, decide, commit). */
  split?: { leaseAndListMs: number; outcomeReadsMs: number; restMs: number };
  pass: boolean;
  durationS: number;
}

const ENV = 'production';
const POLICY = 'bench-tick';
const ANALYSIS_INTERVAL_MS = 30_000;
const ACTIVE = 'active-rollouts'; // RolloutService's (unexported) one-active-rollout-per-flag collection
const BENCH_ACTOR: Actor = { type: 'system', id: 'bench', name: 'bench' };
const BENCH_PERSON = { id: 'bench', name: 'bench' };

/** The default step plan with two gates and a rollback rule, so an analysis evaluates every kind of check. Steps last an hour: nothing advances during the bench. */
const policy = policySchema.parse({
  name: POLICY,
  steps: [1, 10, 50, 100],
  stepDefaults: { minDuration: '1h', minSamples: 1000, approval: { required: 0 } },
  analysisInterval: ANALYSIS_INTERVAL_MS,
  gates: [
    { metric: 'error_rate', max: 0.01 },
    { metric: 'latency_p99_ms', max: 500 },
  ],
  rollback: [{ metric: 'error_rate', above: 0.05, for: '1m', minSamples: 20 }],
});

const flagName = (i: number) => `bench.tick-${String(i).padStart(5, '0')}`;

/**
 * With per-user counts (TickRunOptions.units), records carry them as the SDK helper sends them,
 * filling the buckets real users would: a user's bucket (hash % 64) and rollout position
 * (hash % 100 + 1) agree modulo 4 (see unit-bucket.ts), so at a 1 % step the treated users all sit in
 * the 16 buckets 0, 4, …, 60, while control's users fill all 64.
 */

/** `requests` and `errors` spread over the hashed user buckets `first`, `first + stride`, … below 64. */
function unitsOf(requests: number, errors: number, first: number, stride: number): Record<string, { requests: number; errors: number }> {
  const units: Record<string, { requests: number; errors: number }> = {};
  const spread = Math.ceil((64 - first) / stride);
  for (let k = 0; k < spread; k++) {
    const n = Math.floor(requests / spread) + (k < requests % spread ? 1 : 0);
    if (n > 0) units[String(first + k * stride)] = { requests: n, errors: k < errors ? 1 : 0 };
  }
  return units;
}

/**
 * What an app reports per flag and bucket: both cohorts, with a 5-bound latency histogram (16 counter
 * fields) and, with `units`, per-user counts (two or three vector fields more).
 */
function outcomeRecords(flags: string[], seed: number, units: boolean): OutcomeReport['records'] {
  return flags.flatMap((flag, i) => {
    const n = 40 + ((i + seed) % 20);
    const errors = (i + seed) % 7 === 0 ? 1 : 0;
    const fast = Math.floor(n * 0.5);
    const mid = Math.floor(n * 0.3);
    const slow = Math.floor(n * 0.15);
    const buckets = { '10': fast, '50': mid, '100': slow, '250': n - fast - mid - slow - 1, '1000': 1 };
    const times9 = Object.fromEntries(Object.entries(buckets).map(([k, v]) => [k, v * 9]));
    return [
      {
        flag,
        cohort: 'treatment' as const,
        requests: n,
        errors,
        latencyMs: { buckets, sum: n * 30 },
        ...(units ? { units: unitsOf(n, errors, 0, 4) } : {}),
      },
      {
        flag,
        cohort: 'control' as const,
        requests: n * 9,
        errors,
        latencyMs: { buckets: times9, sum: n * 9 * 30 },
        ...(units ? { units: unitsOf(n * 9, errors, 0, 1) } : {}),
      },
    ];
  });
}

/** Answers every outcome read with one real sum (the loop never changes what it is given): the tick without its counter reads. */
function constantOutcomes(bucketMs: number, sample: OutcomeTotals): OutcomeSource {
  const fields = fieldsOf(sample);
  return {
    bucketMs,
    sum: async () => totalsOf(fields),
    sumWindowsMany: async (queries) => queries.map((q) => q.windows.map(() => fields)),
  };
}

/** Delegates to a Store and adds up, per kind of call, how many there were and how long each was in flight. */
class TimedStore implements Store {
  readonly stats = new Map<string, { calls: number; ms: number }>();
  constructor(private readonly inner: Store) {}
  get kind() {
    return this.inner.kind;
  }
  private async timed<T>(kind: string, call: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await call;
    } finally {
      const s = this.stats.get(kind);
      if (s) {
        s.calls++;
        s.ms += performance.now() - start;
      } else this.stats.set(kind, { calls: 1, ms: performance.now() - start });
    }
  }
  get<T>(collection: string, id: string): Promise<Versioned<T> | null> {
    return this.timed(`get ${collection}`, this.inner.get<T>(collection, id));
  }
  list<T>(collection: string): Promise<Versioned<T>[]> {
    return this.timed(`list ${collection}`, this.inner.list<T>(collection));
  }
  versions(collection: string): Promise<Map<string, number>> {
    return this.timed(`list ${collection}`, this.inner.versions(collection));
  }
  getMany<T>(collection: string, ids: string[]): Promise<Versioned<T>[]> {
    return this.timed(`getMany ${collection}`, this.inner.getMany<T>(collection, ids));
  }
  commit(commit: Commit): Promise<CommitResult> {
    return this.timed('commit', this.inner.commit(commit));
  }
  readCounters(bucket: string): Promise<CounterFields> {
    return this.timed('readCounters', this.inner.readCounters(bucket));
  }
  /** Counter buckets asked for through sumCounters. */
  bucketsRead = 0;
  sumCounters(groups: string[][]): Promise<CounterFields[]> {
    for (const group of groups) this.bucketsRead += group.length; // the loop's windows are disjoint, so no bucket is counted twice
    return this.timed('sumCounters', this.inner.sumCounters(groups));
  }
  acquireLease(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    return this.timed('acquireLease', this.inner.acquireLease(name, holder, ttlMs));
  }
  feedHead(): Promise<number> {
    return this.inner.feedHead();
  }
  readFeed(afterSeq: number, limit: number): Promise<FeedEntry[] | null> {
    return this.inner.readFeed(afterSeq, limit);
  }
  follow(afterSeq: number, onEntries: (entries: FeedEntry[]) => void, onGap: () => void): () => void {
    return this.inner.follow(afterSeq, onEntries, onGap);
  }
  readLog<T>(log: string, fromSeq: number, limit: number): Promise<Array<{ seq: number; entry: T }>> {
    return this.inner.readLog<T>(log, fromSeq, limit);
  }
  incrementCounters(bucket: string, fields: CounterFields, ttlSeconds: number): Promise<void> {
    return this.inner.incrementCounters(bucket, fields, ttlSeconds);
  }
  addToSamples(adds: SampleAdd[], keep: number, ttlSeconds: number): Promise<void> {
    return this.timed('addToSamples', this.inner.addToSamples(adds, keep, ttlSeconds));
  }
  mergeSamples(dest: string, sources: string[], keep: number, ttlSeconds: number): Promise<void> {
    return this.timed('mergeSamples', this.inner.mergeSamples(dest, sources, keep, ttlSeconds));
  }
  readSamples(groups: string[][], keep: number): Promise<string[][]> {
    return this.timed('readSamples', this.inner.readSamples(groups, keep));
  }
  releaseLease(name: string, holder: string): Promise<void> {
    return this.inner.releaseLease(name, holder);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** One dataset on its own redis-server, and one timed tick per entry of `concurrencies`. */
export async function runTicks(opts: TickRunOptions, log: (line: string) => void = () => {}): Promise<TickRunResult> {
  const redis = await startRedisServer();
  opts.running?.add(redis);
  const redisPid = redis.process.pid!;
  const redisPinned = opts.redisCpu !== undefined && pinToCpu(redisPid, opts.redisCpu);
  const raw = await createRedisStore(redis.url, 'bench-tick');
  const store = new TimedStore(raw);
  const logger = createLogger('error');
  const stats = new Redis(redis.url, { lazyConnect: true, protocol: 2 });
  stats.on('error', () => {});
  /** Calls per command since redis-server started (INFO commandstats). */
  const commandCalls = async () => {
    const info = await stats.info('commandstats');
    return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
  };
  try {
    await stats.connect();
    const bucketMs = DEFAULT_OUTCOME_BUCKET_MS;
    const t0 = Math.floor(Date.now() / bucketMs) * bucketMs + 1234; // first tick; not on a bucket edge
    let clock = t0 - opts.stepAgeMs; // the step (and the rollout) started here
    const now = () => new Date(clock);

    // 1. One policy, flag and rollout through the real services: the template for the rest.
    const docsStart = performance.now();
    const environments = new EnvironmentService(raw, now);
    await environments.put({ name: ENV }, BENCH_ACTOR);
    await new PolicyService(raw, now).put(policy, BENCH_ACTOR);
    const definition = flagDefinitionSchema.parse({
      name: flagName(0),
      description: 'rollout-tick bench',
      environments: {
        [ENV]: {
          enabled: true,
          strategies: [
            {
              name: 'flexibleRollout',
              parameters: { rollout: '0', stickiness: 'userId', groupId: flagName(0) },
              constraints: [{ contextName: 'region', operator: 'IN', values: ['eu-west-1', 'us-east-1'] }],
            },
          ],
        },
      },
    });
    await new FlagService(raw, now).put(definition, BENCH_ACTOR);
    const started = await new RolloutService(raw, now, environments).start({ flag: flagName(0), environment: ENV, policy: POLICY }, BENCH_PERSON, BENCH_ACTOR);
    if (started.state !== 'running') throw new Error(`template rollout is ${started.state}, expected running`);
    // The stored record (the rollout without its plan, which all share, and its history, kept apart).
    const templateRecord = (await raw.get<RolloutRecord>(ROLLOUTS, started.id))!.value;
    const templateHistory = (await raw.get(ROLLOUT_HISTORIES, started.id))!.value;
    const templateFlag = JSON.stringify((await raw.get<StoredFlag>(FLAGS, flagName(0)))!.value);
    const templateStrategy = ownedStrategyId(started.id);

    // 2. The other N - 1: copies with their own id, flag and owned strategy, 500 rollouts per commit.
    for (let from = 1; from < opts.rollouts; from += 500) {
      const puts: PutOp[] = [];
      for (let i = from; i < Math.min(opts.rollouts, from + 500); i++) {
        const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        const flag = JSON.parse(templateFlag.replaceAll(flagName(0), flagName(i)).replaceAll(templateStrategy, ownedStrategyId(id))) as StoredFlag;
        const record: RolloutRecord = { ...templateRecord, id, flag: flagName(i), strategyId: ownedStrategyId(id) };
        puts.push({ collection: FLAGS, id: flagName(i), value: flag, expectVersion: 0 });
        puts.push({ collection: ROLLOUTS, id, value: record, expectVersion: 0, quiet: true });
        puts.push({ collection: ROLLOUT_HISTORIES, id, value: templateHistory, expectVersion: 0, quiet: true });
        puts.push({ collection: ACTIVE, id: `${ENV}:${flagName(i)}`, value: { id }, expectVersion: 0, quiet: true });
      }
      await raw.commit({ puts });
    }
    const docsMs = performance.now() - docsStart;

    // 3. Outcomes for every flag in every bucket from the step's start to the last tick, as
    //    1000-record reports (the API's maximum; 200 with per-user counts, which make each record's
    //    write several times larger), four in flight, so no command waits out the store's 5 s
    //    command timeout on a busy machine.
    const outcomesStart = performance.now();
    const outcomes = new StoreOutcomeSource(raw, bucketMs);
    const lastTick = t0 + (opts.concurrencies.length - 1 + (opts.profilePath ? 1 + (opts.splitTicks ? 1 : 0) : 0)) * ANALYSIS_INTERVAL_MS;
    const bucketTimes: number[] = [];
    for (let t = Math.floor(clock / bucketMs) * bucketMs; t <= lastTick; t += bucketMs) bucketTimes.push(t);
    const names = Array.from({ length: opts.rollouts }, (_, i) => flagName(i));
    const chunks: string[][] = [];
    const flagsPerReport = opts.units ? 100 : 500;
    for (let i = 0; i < names.length; i += flagsPerReport) chunks.push(names.slice(i, i + flagsPerReport));
    const jobs = bucketTimes.flatMap((t) =>
      chunks.map((flags, c) => () => outcomes.record(ENV, { appName: 'bench', records: outcomeRecords(flags, t / bucketMs + c, opts.units ?? false) }, t)),
    );
    let nextJob = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (nextJob < jobs.length) await jobs[nextJob++]!();
      }),
    );
    const outcomesMs = performance.now() - outcomesStart;
    const counterBuckets = bucketTimes.length * opts.rollouts;
    log(
      `    ${opts.label}: ${opts.rollouts.toLocaleString('en-US')} flags + rollouts written in ${Math.round(docsMs)} ms, ${counterBuckets.toLocaleString('en-US')} outcome buckets recorded in ${Math.round(outcomesMs)} ms`,
    );

    // 4. Timed ticks.
    clock = t0;
    // One service for every tick, as a controller has for its lifetime (it remembers the records it wrote).
    const rollouts = new RolloutService(store, now, new EnvironmentService(store, now));
    const loopAt = (concurrency: number, source: OutcomeSource) =>
      new RolloutLoop(store, rollouts, source, logger, {
        replicaId: 'bench',
        tickMs: 1_000,
        leaseTtlMs: 30_000,
        batchSize: DEFAULT_BATCH_SIZE,
        concurrency,
        now,
      });
    const tick = async (concurrency: number, source: OutcomeSource = new StoreOutcomeSource(store, bucketMs), expect = opts.rollouts): Promise<TickFigures> => {
      const loop = loopAt(concurrency, source);
      store.stats.clear();
      store.bucketsRead = 0;
      const calls0 = await commandCalls();
      const cpu0 = process.cpuUsage();
      const redis0 = processCpuSeconds(redisPid);
      const start = performance.now();
      const report = await loop.tick();
      const wallMs = performance.now() - start;
      const cpu = process.cpuUsage(cpu0);
      const redis1 = processCpuSeconds(redisPid);
      const calls1 = await commandCalls();
      const perCommand = [...calls1].map(([cmd, n]) => [cmd, n - (calls0.get(cmd) ?? 0) - (cmd === 'info' ? 1 : 0)] as const).filter(([, n]) => n > 0);
      if (!report.leader || report.analysed !== expect)
        throw new Error(`${opts.label}: a tick analysed ${report.analysed} of ${opts.rollouts} rollouts (leader: ${report.leader})`);
      const lease = store.stats.get('acquireLease')?.ms ?? 0;
      const list = store.stats.get(`list ${ROLLOUTS}`)?.ms ?? 0;
      const perRollout = Object.fromEntries(
        [...store.stats]
          .filter(([kind]) => kind !== 'acquireLease' && !kind.startsWith('list'))
          .map(([kind, s]) => [kind, { calls: Math.round((s.calls / opts.rollouts) * 100) / 100, ms: Math.round((s.ms / opts.rollouts) * 100) / 100 }]),
      );
      const figures: TickFigures = {
        ...report,
        concurrency,
        wallMs: Math.round(wallMs),
        bucketsRead: Math.round((store.bucketsRead / Math.max(1, report.analysed)) * 10) / 10,
        controllerCpuMs: Math.round((cpu.user + cpu.system) / 1000),
        redisCpuMs: redis0 === undefined || redis1 === undefined ? undefined : Math.round((redis1 - redis0) * 1000),
        leaseAndListMs: Math.round(lease + list),
        perRollout,
        redisCommandsPerRollout: Object.fromEntries(
          perCommand
            .filter(([, n]) => n >= report.analysed / 20)
            .sort((a, b) => b[1] - a[1])
            .map(([cmd, n]) => [cmd, Math.round((n / Math.max(1, report.analysed)) * 100) / 100]),
        ),
        redisCommandsTotal: perCommand.reduce((sum, [, n]) => sum + n, 0),
      };
      if (expect > 0) clock += ANALYSIS_INTERVAL_MS;
      return figures;
    };
    const ticks: TickFigures[] = [];
    let rolloutDocBytes = 0;
    for (const concurrency of opts.concurrencies) {
      const t = await tick(concurrency);
      ticks.push(t);
      rolloutDocBytes = JSON.stringify((await raw.get<Rollout>(ROLLOUTS, started.id))!.value).length;
      const waits = Object.entries(t.perRollout)
        .map(([k, v]) => `${k} ${v.calls}×/${v.ms} ms`)
        .join(', ');
      log(
        `    ${opts.label}: ${t.analysed} rollouts in ${t.wallMs} ms at concurrency ${concurrency} (${t.bucketsRead} buckets each; changed ${t.changed}, errors ${t.errors}; CPU: controller ${t.controllerCpuMs} ms, redis ${t.redisCpuMs ?? '?'} ms; lease + list ${t.leaseAndListMs} ms; per rollout: ${waits})`,
      );
    }
    let readsStubbed: TickFigures | undefined;
    let idle: TickFigures | undefined;
    if (opts.splitTicks) {
      const sample = await outcomes.sum(ENV, flagName(0), clock - ANALYSIS_INTERVAL_MS, clock);
      const constant = constantOutcomes(bucketMs, sample);
      readsStubbed = await tick(opts.concurrencies.at(-1) ?? DEFAULT_BATCHES_IN_FLIGHT, constant);
      log(
        `    ${opts.label}: ${readsStubbed.analysed} rollouts in ${readsStubbed.wallMs} ms with outcome reads answered from memory (CPU: controller ${readsStubbed.controllerCpuMs} ms, redis ${readsStubbed.redisCpuMs ?? '?'} ms)`,
      );
      clock -= 1; // nothing is due a moment before the next interval ends
      idle = await tick(opts.concurrencies.at(-1) ?? DEFAULT_BATCHES_IN_FLIGHT, constant, 0);
      clock += 1;
      log(
        `    ${opts.label}: a tick with nothing due took ${idle.wallMs} ms (lease + listing ${opts.rollouts.toLocaleString('en-US')} rollouts' versions ${idle.leaseAndListMs} ms, controller CPU ${idle.controllerCpuMs} ms)`,
      );
    }
    if (opts.profilePath) {
      const { Session } = await import('node:inspector/promises');
      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      const sample = await outcomes.sum(ENV, flagName(0), clock - ANALYSIS_INTERVAL_MS, clock);
      const source: OutcomeSource = process.env.BENCH_TICK_PROFILE_STUB ? constantOutcomes(bucketMs, sample) : new StoreOutcomeSource(store, bucketMs);
      const t = await tick(opts.concurrencies.at(-1) ?? DEFAULT_BATCHES_IN_FLIGHT, source);
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      writeFileSync(opts.profilePath, JSON.stringify(profile));
      log(`    profiled tick: ${t.wallMs} ms; profile in ${opts.profilePath}`);
    }
    return {
      label: opts.label,
      rollouts: opts.rollouts,
      units: opts.units ?? false,
      stepAgeMs: opts.stepAgeMs,
      analysisIntervalMs: ANALYSIS_INTERVAL_MS,
      bucketMs,
      seed: { docsMs: Math.round(docsMs), outcomesMs: Math.round(outcomesMs), counterBuckets },
      rolloutDocBytes,
      ticks,
      readsStubbed,
      idle,
      redisPinned,
    };
  } finally {
    stats.disconnect();
    await raw.close().catch(() => undefined);
    await redis.stop().catch(() => undefined);
    opts.running?.delete(redis);
  }
}

export interface RolloutTickOptions {
  rollouts: number;
  /** Outcomes with per-user counts (see TickRunOptions.units). */
  units?: boolean;
  ticks: number;
  concurrency: number;
  targetMs: number;
  /** Also a concurrency sweep on 1,000 rollouts. */
  sweep: boolean;
  redisCpu?: number;
  running?: Set<{ stop(): Promise<void> }>;
}

export async function measureRolloutTick(opts: RolloutTickOptions, log: (line: string) => void = () => {}): Promise<RolloutTickResult> {
  const started = performance.now();
  // The step began one analysis interval before the first tick (each evaluation then reads as few buckets as any later one does).
  const main = await runTicks(
    {
      label: 'target',
      rollouts: opts.rollouts,
      concurrencies: Array(opts.ticks).fill(opts.concurrency),
      stepAgeMs: ANALYSIS_INTERVAL_MS,
      units: opts.units,
      redisCpu: opts.redisCpu,
      splitTicks: true,
      running: opts.running,
    },
    log,
  );
  const sweep = opts.sweep
    ? await runTicks(
        {
          label: 'sweep',
          rollouts: 1_000,
          concurrencies: [opts.concurrency, 1, 2, 4, 8],
          stepAgeMs: ANALYSIS_INTERVAL_MS,
          units: opts.units,
          redisCpu: opts.redisCpu,
          running: opts.running,
        },
        log,
      )
    : undefined;
  const walls = main.ticks.map((t) => t.wallMs).sort((a, b) => a - b);
  const p50 = walls[Math.ceil(walls.length / 2) - 1]!;
  const median = main.ticks.find((t) => t.wallMs === p50)!;
  const stub = main.readsStubbed;
  return {
    targetMs: opts.targetMs,
    rollouts: opts.rollouts,
    units: opts.units ?? false,
    concurrency: opts.concurrency,
    main,
    sweep,
    tickMs: { p50, max: walls.at(-1)! },
    rolloutsPerSecond: Math.round((opts.rollouts / p50) * 1000),
    cpuMsPerRollout: Math.round((main.ticks.reduce((n, t) => n + t.controllerCpuMs, 0) / (main.ticks.length * opts.rollouts)) * 1000) / 1000,
    split: stub && {
      leaseAndListMs: median.leaseAndListMs,
      outcomeReadsMs: Math.max(0, median.wallMs - stub.wallMs),
      restMs: Math.max(0, stub.wallMs - median.leaseAndListMs),
    },
    pass: walls.at(-1)! < opts.targetMs && main.ticks.every((t) => t.errors === 0),
    durationS: Math.round((performance.now() - started) / 1000),
  };
}

/**
 * Runs measureRolloutTick in a process of its own and returns its result: the tick then runs on a
 * fresh heap, as a controller's loop does, not in a bench process that has held a thousand streams,
 * and free to use every core the way an unpinned controller process would (its garbage collector
 * works on helper threads). `npm run bench` measures it so.
 */
export async function measureRolloutTickInChild(
  opts: Omit<RolloutTickOptions, 'running'>,
  log: (line: string) => void,
  running?: Set<{ stop(): Promise<void> }>,
): Promise<RolloutTickResult> {
  const { spawn } = await import('node:child_process');
  const os = await import('node:os');
  const node = [process.execPath, '--import', 'tsx', import.meta.filename, '--measure', JSON.stringify(opts)];
  // A child inherits the bench process's CPU affinity: give it every core back.
  const [cmd, ...args] = os.cpus().length > 1 ? ['taskset', '-c', `0-${os.cpus().length - 1}`, ...node] : node;
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const handle = { stop: async () => void child.kill('SIGINT') };
  running?.add(handle);
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk));
  let partial = '';
  child.stderr.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) log(line);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  running?.delete(handle);
  if (code !== 0) throw new Error(`the rollout tick measurement exited with ${code}`);
  return JSON.parse(out) as RolloutTickResult;
}

const measureArg = process.argv.indexOf('--measure');
if (measureArg > 0) {
  const result = await measureRolloutTick(JSON.parse(process.argv[measureArg + 1]!) as RolloutTickOptions, (l) => console.error(l));
  process.stdout.write(JSON.stringify(result));
  process.exit(0);
} else if (process.argv[1] && import.meta.filename === (await import('node:fs')).realpathSync(process.argv[1])) {
  const rollouts = Number(process.argv[2] ?? 10_000);
  const stepAgeMs = Number(process.argv[3] ?? 30) * 1000;
  const ticks = Number(process.argv[4] ?? 3);
  const result = await runTicks(
    {
      label: 'run',
      rollouts,
      concurrencies: Array(ticks).fill(Number(process.env.BENCH_TICK_CONCURRENCY ?? DEFAULT_BATCHES_IN_FLIGHT)),
      stepAgeMs,
      units: process.env.BENCH_TICK_UNITS === '1',
      redisCpu: 1,
      profilePath: process.env.BENCH_TICK_PROFILE,
      splitTicks: true,
    },
    (l) => console.error(l),
  );
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
