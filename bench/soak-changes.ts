import type { FlagChange } from './soak-deliveries.js';
import { ENV } from './stack.js';

/**
 * What keeps changing during the soak, each as a loop that runs until stopped: a kill switch flipped
 * and restored every few seconds, rollouts kept ticking (started staggered, started again on their
 * flag once completed), and healthy outcomes posted for every rollout flag so each analysis reads
 * data. Every admin call goes to the replicas in turn, so a change made on one must reach streams
 * held by the other.
 */
type Call = (method: string, route: string, body?: unknown, replica?: number) => Promise<{ status: number; body: any }>;

/** One timed request, kept for the per-minute tables: when it was sent (performance.now()), how long it took, whether it failed. */
export interface Timed {
  at: number;
  ms: number;
  ok: boolean;
}

export interface Loop {
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `body` every `everyMs` (measured from each start) until stopped; a slow body delays the next. Stopping cuts the wait short. */
function every(everyMs: number, body: (i: number) => Promise<void>): Loop {
  let running = true;
  let wake = () => {};
  const done = (async () => {
    for (let i = 0; running; i++) {
      const started = performance.now();
      await body(i);
      if (!running) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, everyMs - (performance.now() - started)));
        wake = () => (clearTimeout(timer), resolve());
      });
    }
  })();
  return { stop: async () => ((running = false), wake(), await done) };
}

async function timed(log: Timed[], call: () => Promise<boolean>): Promise<void> {
  const at = performance.now();
  const ok = await call().catch(() => false);
  log.push({ at, ms: performance.now() - at, ok });
}

/** Kill, restore, kill, … `flag` every `everyMs`; each acknowledged flip is a change every stream must see. */
export function killLoop(call: Call, replicas: number, flag: string, everyMs: number, changes: FlagChange[], log: Timed[]): Loop {
  return every(everyMs, (i) => {
    const kill = i % 2 === 0;
    const at = performance.now();
    return timed(log, async () => {
      const res = await call(
        'POST',
        `/api/admin/flags/${encodeURIComponent(flag)}/environments/${ENV}/${kill ? 'kill' : 'restore'}`,
        { reason: 'soak test' },
        i % replicas,
      );
      if (res.status !== 200 || res.body?.changed !== true) return false;
      changes.push({ flag, key: kill ? 'off' : 'on', at, source: 'kill', answeredAt: performance.now() });
      return true;
    });
  });
}

export interface RolloutDoc {
  id: string;
  flag: string;
  state: string;
  percentage: number;
  createdAt: string;
  history: Array<{ at: string; to: string; percentage: number }>;
}

export interface RolloutKeeper extends Loop {
  /** Every rollout started, as last read. */
  rollouts: Map<string, RolloutDoc>;
  started: Timed[];
  /** Rollouts that ended other than completed (rolled back, aborted) or that paused: not expected here, so counted. */
  unexpected: Map<string, string>;
  active(): number;
}

/**
 * Starts one rollout per flag, spread evenly over `staggerMs`, then every `checkMs` reads the active
 * ones (a few at a time) and starts a new rollout on the flag of each that completed.
 */
export function rolloutKeeper(call: Call, replicas: number, flags: string[], policy: string, staggerMs: number, checkMs: number): RolloutKeeper {
  const rollouts = new Map<string, RolloutDoc>();
  const activeByFlag = new Map<string, string>();
  const unexpected = new Map<string, string>();
  const started: Timed[] = [];
  let n = 0;
  const start = (flag: string) =>
    timed(started, async () => {
      const res = await call('POST', '/api/admin/rollouts', { flag, environment: ENV, policy }, n++ % replicas);
      if (res.status !== 201) return false;
      rollouts.set(res.body.id, res.body);
      activeByFlag.set(flag, res.body.id);
      return true;
    });
  let starting = true;
  const initial = (async () => {
    const t0 = performance.now();
    for (const [i, flag] of flags.entries()) {
      if (!starting) break;
      await start(flag);
      await sleep(t0 + ((i + 1) * staggerMs) / flags.length - performance.now());
    }
  })();
  const check = every(checkMs, async () => {
    const ids = [...activeByFlag.values()];
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids.slice(i, i + 10).map(async (id) => {
          const res = await call('GET', `/api/admin/rollouts/${id}`, undefined, n++ % replicas).catch(() => undefined);
          if (res?.status !== 200) return;
          const doc = res.body as RolloutDoc;
          rollouts.set(id, doc);
          if (doc.state === 'completed') {
            activeByFlag.delete(doc.flag);
            await start(doc.flag);
          } else if (doc.state === 'rolled_back' || doc.state === 'aborted' || doc.state === 'paused') {
            unexpected.set(id, doc.state);
            if (doc.state !== 'paused') activeByFlag.delete(doc.flag);
          }
        }),
      );
    }
  });
  return {
    rollouts,
    started,
    unexpected,
    active: () => activeByFlag.size,
    async stop() {
      starting = false;
      await initial;
      await check.stop();
      // A last read of every rollout still active, so the histories are complete up to the end.
      await Promise.all(
        [...activeByFlag.values()].map(async (id) => {
          const res = await call('GET', `/api/admin/rollouts/${id}`).catch(() => undefined);
          if (res?.status === 200) rollouts.set(id, res.body);
        }),
      );
    },
  };
}

/** Healthy outcomes (few errors, latencies well under the gate) for every flag, every `everyMs`, as an app's SDK helper would report. */
export function outcomeFeeder(
  post: (body: unknown, replica: number) => Promise<number>,
  replicas: number,
  flags: string[],
  everyMs: number,
  log: Timed[],
): Loop {
  const record = (flag: string, cohort: 'treatment' | 'control', requests: number) => {
    const fast = Math.round(requests * 0.7);
    const medium = Math.round(requests * 0.25);
    return {
      flag,
      cohort,
      requests,
      errors: Math.random() < 0.05 ? 1 : 0,
      latencyMs: {
        buckets: { '10': fast, '50': medium, '250': requests - fast - medium, '1000': 0, '+Inf': 0 },
        sum: fast * 6 + medium * 25 + (requests - fast - medium) * 120,
      },
    };
  };
  return every(everyMs, (i) =>
    timed(log, async () => {
      const records = flags.flatMap((flag) => [record(flag, 'treatment', 20), record(flag, 'control', 80)]);
      return (await post({ appName: 'soak-app', records }, i % replicas)) === 202;
    }),
  );
}
