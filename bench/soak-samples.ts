import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { machineBusySeconds } from './http-load.js';
import { processCpuSeconds } from './stack.js';

/**
 * Resource samples taken every few seconds from outside the processes (/proc, INFO): the controller
 * replicas' resident size is what "memory stays flat" is judged on. CPU figures are cumulative
 * seconds, turned into per-minute shares by the report.
 */
export interface Sample {
  /** Seconds since the soak began. */
  t: number;
  /** Resident set size of each replica, MiB. */
  rssMiB: number[];
  /** Open file descriptors of each replica (≈ its sockets). */
  fds: number[];
  /** From each replica's GET /metrics (prom-client's default metrics), when it answers: V8 heap in use, and event-loop delay since the previous scrape. */
  heapUsedMiB: number[];
  loopLagP99Ms: number[];
  loopLagMaxMs: number[];
  /** Compare-and-set commits the store refused so far (rollout_controller_store_conflicts_total): writers racing, then retrying. */
  storeConflicts: number[];
  /** Garbage collection so far (prom-client's nodejs_gc_duration_seconds): seconds spent, and collections that took over 10 ms. */
  gcSeconds: number[];
  gcPausesOver10ms: number[];
  redisUsedMiB?: number;
  redisRssMiB?: number;
  /** Cumulative CPU seconds. */
  cpu: { replicas: number[]; redis?: number; bench: number; machine?: number };
  openStreams: number;
}

export interface Sampler {
  samples: Sample[];
  stop(): Promise<void>;
}

export function rssMiB(pid: number): number | undefined {
  try {
    const kb = Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m)?.[1]);
    return Number.isFinite(kb) ? Math.round((kb / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

/** One unlabelled sample from a Prometheus text exposition, or NaN. */
function promValue(text: string, name: string): number {
  return Number(text.match(new RegExp(`^${name} (\\S+)`, 'm'))?.[1] ?? Number.NaN);
}

/** The sum of a metric's samples over every label set that contains `labels` (e.g. le="0.01"), or NaN when it has none. */
function promSum(text: string, name: string, labels = ''): number {
  const values = [...text.matchAll(new RegExp(`^${name}\\{([^}]*)\\} (\\S+)`, 'gm'))].filter((m) => m[1]!.includes(labels)).map((m) => Number(m[2]));
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0);
}

type Scraped = Record<'heapUsedMiB' | 'loopLagP99Ms' | 'loopLagMaxMs' | 'storeConflicts' | 'gcSeconds' | 'gcPausesOver10ms', number>;

async function scrape(url: string): Promise<Scraped> {
  const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2_000) }).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const r1 = (n: number) => Math.round(n * 10) / 10;
  return {
    heapUsedMiB: r1(promValue(text, 'nodejs_heap_size_used_bytes') / 2 ** 20),
    loopLagP99Ms: r1(promValue(text, 'nodejs_eventloop_lag_p99_seconds') * 1000),
    loopLagMaxMs: r1(promValue(text, 'nodejs_eventloop_lag_max_seconds') * 1000),
    storeConflicts: promValue(text, 'rollout_controller_store_conflicts_total'),
    gcSeconds: promSum(text, 'nodejs_gc_duration_seconds_sum'),
    gcPausesOver10ms: promSum(text, 'nodejs_gc_duration_seconds_count') - promSum(text, 'nodejs_gc_duration_seconds_bucket', 'le="0.01"'),
  };
}

function infoField(info: string, field: string): number | undefined {
  const value = Number(info.match(new RegExp(`^${field}:(\\d+)`, 'm'))?.[1]);
  return Number.isFinite(value) ? Math.round((value / 2 ** 20) * 10) / 10 : undefined;
}

export function startSampler(opts: {
  replicaPids: number[];
  replicaUrls: string[];
  redisPid: number;
  redisUrl: string;
  everyMs: number;
  startedAt: number;
  openStreams: () => number;
}): Sampler {
  const redis = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  const samples: Sample[] = [];
  const take = async () => {
    const [info, ...scrapes] = await Promise.all([redis.info('memory').catch(() => ''), ...opts.replicaUrls.map(scrape)]);
    const self = process.cpuUsage();
    samples.push({
      t: Math.round((performance.now() - opts.startedAt) / 100) / 10,
      rssMiB: opts.replicaPids.map((pid) => rssMiB(pid) ?? Number.NaN),
      fds: opts.replicaPids.map(fdCount),
      heapUsedMiB: scrapes.map((x) => x.heapUsedMiB),
      loopLagP99Ms: scrapes.map((x) => x.loopLagP99Ms),
      loopLagMaxMs: scrapes.map((x) => x.loopLagMaxMs),
      storeConflicts: scrapes.map((x) => x.storeConflicts),
      gcSeconds: scrapes.map((x) => x.gcSeconds),
      gcPausesOver10ms: scrapes.map((x) => x.gcPausesOver10ms),
      redisUsedMiB: infoField(info, 'used_memory'),
      redisRssMiB: infoField(info, 'used_memory_rss'),
      cpu: {
        replicas: opts.replicaPids.map((pid) => processCpuSeconds(pid) ?? Number.NaN),
        redis: processCpuSeconds(opts.redisPid),
        bench: (self.user + self.system) / 1e6,
        machine: machineBusySeconds(),
      },
      openStreams: opts.openStreams(),
    });
  };
  let running = true;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    await redis.connect().catch(() => undefined);
    while (running) {
      await take();
      await new Promise<void>((r) => ((wake = r), setTimeout(r, opts.everyMs)));
    }
    await take(); // the last sample: the state at the very end
    redis.disconnect();
  })();
  return {
    samples,
    async stop() {
      running = false;
      wake?.();
      await loop;
    },
  };
}
