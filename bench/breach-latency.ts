/**
 * Breach-to-disabled latency: from a breach becoming visible in the metrics (the 202 of the
 * POST /api/metrics/outcomes that carries it) to a streaming client seeing the flag served disabled.
 *
 * A controller process of its own (on its own redis-server), with a short tick (ROLLOUT_TICK_MS) and
 * small outcome buckets (OUTCOME_BUCKET_MS); a policy analysed every `analysisIntervalMs` with the
 * rollback rule error_rate > 0.05 for 0s. Healthy outcomes are posted for every flag every 100 ms
 * throughout. Each repetition starts a fresh rollout on one of a few flags (restoring that flag's
 * kill switch from its previous use first), waits a while (spread evenly over one analysis interval,
 * so the breach lands at every phase of the loop's schedule), posts one unhealthy batch and times
 * until a raw SSE stream (`bench/sse-reader.ts`) receives the flag with `enabled: false`.
 */
import { randomBytes } from 'node:crypto';
import { startRedisServer, type RedisServer } from '../test/support/redis-server.js';
import type { ControllerProcess } from '../test/support/controller-process.js';
import { openStream, type RawStream } from './sse-reader.js';
import { percentiles, type Percentiles } from './kill-latency.js';
import { adminCaller, benchDirs, pinToCpu, spawnBenchController } from './stack.js';

export interface BreachLatencyOptions {
  reps: number;
  analysisIntervalMs: number;
  tickMs: number;
  bucketMs: number;
  /** Flags used in turn: a flag is reused (restored, new rollout) only after the others, long after its last breach left the window. */
  flags: number;
  /** Target: within one analysis interval plus this (ms). */
  slackMs: number;
  /** Pin the controller and its redis-server to this CPU (the bench process stays where it is). */
  serverCpu?: number;
  /** Processes started here are added while they run (so the caller can stop them on SIGINT). */
  running?: Set<{ stop(): Promise<void> }>;
}

export interface BreachSample {
  flag: string;
  /** Delay from the rollout's start to the unhealthy POST. */
  offsetMs: number;
  /** POST sent → 202 received. */
  postMs: number;
  /** 202 → SSE `enabled: false` (the measure). */
  latencyMs: number;
  /** 202 → the loop's decision (the rolled_back transition's timestamp, controller clock = bench clock). */
  detectMs?: number;
  /** Decision → SSE. */
  propagateMs?: number;
  reason?: string;
}

export interface BreachLatencyResult {
  reps: number;
  analysisIntervalMs: number;
  tickMs: number;
  bucketMs: number;
  targetMs: number;
  latency: Percentiles;
  detect: Percentiles;
  propagate: Percentiles;
  post: Percentiles;
  /** Repetitions where the disable never arrived (within 3 intervals), or came before the breach (a false rollback). */
  missed: number;
  early: number;
  samples: BreachSample[];
  pass: boolean;
  pinned: boolean;
}

const ENV = 'production';
const POLICY = 'bench-breach';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const flagName = (i: number) => `bench.breach-${i}`;

export async function measureBreachLatency(opts: BreachLatencyOptions, log: (line: string) => void = () => {}): Promise<BreachLatencyResult> {
  const dirs = benchDirs('bench-breach');
  let redis: RedisServer | undefined;
  let controller: ControllerProcess | undefined;
  const streams: RawStream[] = [];
  let feeding = true;
  let feeder: Promise<void> | undefined;
  const stopController = { stop: async () => void (await controller?.stop()) };
  try {
    redis = await startRedisServer();
    opts.running?.add(redis);
    const adminToken = `bench-admin-${randomBytes(16).toString('hex')}`;
    controller = await spawnBenchController(dirs, {
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'bench-breach',
      ADMIN_TOKEN: adminToken,
      LOG_LEVEL: 'warn',
      ROLLOUT_TICK_MS: String(opts.tickMs),
      OUTCOME_BUCKET_MS: String(opts.bucketMs),
    });
    opts.running?.add(stopController);
    const pinned = opts.serverCpu !== undefined && pinToCpu(controller.child.pid!, opts.serverCpu) && pinToCpu(redis.process.pid!, opts.serverCpu);
    const url = controller.url;
    const call = (method: string, route: string, body: unknown, token: string) => adminCaller(url, token)(method, route, body);
    const admin = async (method: string, route: string, body: unknown, expect: number) => {
      const res = await call(method, route, body, adminToken);
      if (res.status !== expect) throw new Error(`${method} ${route}: expected ${expect}, got ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      return res.body;
    };

    // Flags, a client token, the policy.
    const flags = Array.from({ length: opts.flags }, (_, i) => flagName(i));
    await admin(
      'POST',
      `/api/admin/environments/${ENV}/import`,
      {
        version: 2,
        features: flags.map((name) => ({
          name,
          type: 'release',
          enabled: true,
          strategies: [{ name: 'flexibleRollout', parameters: { rollout: '0', stickiness: 'default', groupId: name }, constraints: [] }],
          variants: [],
        })),
        segments: [],
      },
      200,
    );
    const secret = (await admin('POST', '/api/admin/tokens', { kind: 'client', environment: ENV, name: 'bench-breach' }, 201)).secret as string;
    await admin(
      'PUT',
      `/api/admin/policies/${POLICY}`,
      {
        name: POLICY,
        steps: [10, 50, 100],
        // Steps never complete during the bench: only the rollback rule acts.
        stepDefaults: { minDuration: '1h', minSamples: 1_000_000, approval: { required: 0 } },
        analysisInterval: opts.analysisIntervalMs,
        rollback: [{ metric: 'error_rate', above: 0.05, for: 0, minSamples: 10 }],
      },
      201,
    );

    // One raw SSE stream per flag; each event for the flag goes to whoever waits for it.
    const waiters = new Map<string, (enabled: boolean, at: number) => void>();
    for (const flag of flags) {
      streams.push(await openStream(url, secret, flag, `bench-breach-${flag}`, (_s, enabled, at) => waiters.get(flag)?.(enabled, at)));
    }
    const nextUpdate = (flag: string, enabled: boolean, timeoutMs: number) =>
      new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => (waiters.delete(flag), resolve(undefined)), timeoutMs);
        waiters.set(flag, (e, at) => {
          if (e !== enabled) return;
          clearTimeout(timer);
          waiters.delete(flag);
          resolve(at);
        });
      });

    // Healthy traffic for every flag, every 100 ms: 20 treatment requests (flag on) and 180 control, no errors.
    feeder = (async () => {
      while (feeding) {
        const started = performance.now();
        await call(
          'POST',
          '/api/metrics/outcomes',
          {
            appName: 'bench-breach-app',
            records: flags.flatMap((flag) => [
              { flag, cohort: 'treatment', requests: 20, errors: 0 },
              { flag, cohort: 'control', requests: 180, errors: 0 },
            ]),
          },
          secret,
        ).catch(() => undefined);
        await sleep(Math.max(0, 100 - (performance.now() - started)));
      }
    })();
    await sleep(opts.analysisIntervalMs + 2 * opts.bucketMs); // a full window of healthy data before the first rollout

    const samples: BreachSample[] = [];
    let missed = 0;
    let early = 0;
    const killed = new Set<string>();
    for (let i = 0; i < opts.reps; i++) {
      const flag = flags[i % flags.length]!;
      if (killed.has(flag)) {
        const restored = nextUpdate(flag, true, 5_000);
        await admin(
          'POST',
          `/api/admin/flags/${encodeURIComponent(flag)}/environments/${ENV}/restore`,
          { reason: 'breach-latency bench: next repetition' },
          200,
        );
        if ((await restored) === undefined) throw new Error(`${flag}: the stream never saw the restore`);
        killed.delete(flag);
      }
      const rollout = await admin('POST', '/api/admin/rollouts', { flag, environment: ENV, policy: POLICY }, 201);
      if (rollout.state !== 'running') throw new Error(`rollout of ${flag} is ${rollout.state}, expected running`);
      const startedAt = performance.now();
      // Past the first analysis, then at a phase spread evenly over one interval (stratified, so few repetitions cover it).
      const offsetMs = opts.analysisIntervalMs + 100 + ((i + 0.5) / opts.reps) * opts.analysisIntervalMs;
      const before = await nextUpdate(flag, false, offsetMs - (performance.now() - startedAt));
      if (before !== undefined) {
        early++;
        killed.add(flag);
        log(`    ${flag}: rolled back before the breach was posted (false alarm)`);
        continue;
      }
      const disabled = nextUpdate(flag, false, 3 * opts.analysisIntervalMs + 1_000);
      const sent = performance.now();
      const res = await call(
        'POST',
        '/api/metrics/outcomes',
        { appName: 'bench-breach-app', records: [{ flag, cohort: 'treatment', requests: 200, errors: 100 }] },
        secret,
      );
      const t = performance.now();
      const tWall = Date.now();
      if (res.status !== 202) throw new Error(`unhealthy outcome POST: ${res.status}`);
      const at = await disabled;
      killed.add(flag);
      if (at === undefined) {
        missed++;
        log(`    ${flag}: never served disabled`);
        continue;
      }
      const after = await admin('GET', `/api/admin/rollouts/${rollout.id}`, undefined, 200);
      const transition = (after.history as Array<{ at: string; to: string; reason: string }>).findLast((h) => h.to === 'rolled_back');
      const latencyMs = at - t;
      const detectMs = transition ? Date.parse(transition.at) - tWall : undefined;
      samples.push({
        flag,
        offsetMs: Math.round(sent - startedAt),
        postMs: round(t - sent),
        latencyMs: round(latencyMs),
        detectMs,
        propagateMs: detectMs === undefined ? undefined : round(latencyMs - detectMs),
        reason: transition?.reason,
      });
      log(`    rep ${i + 1}: ${flag} disabled ${round(latencyMs)} ms after the breach (decided after ${detectMs ?? '?'} ms)`);
    }
    const target = opts.analysisIntervalMs + opts.slackMs;
    const latency = percentiles(samples.map((s) => s.latencyMs));
    return {
      reps: opts.reps,
      analysisIntervalMs: opts.analysisIntervalMs,
      tickMs: opts.tickMs,
      bucketMs: opts.bucketMs,
      targetMs: target,
      latency,
      detect: percentiles(samples.flatMap((s) => (s.detectMs === undefined ? [] : [s.detectMs]))),
      propagate: percentiles(samples.flatMap((s) => (s.propagateMs === undefined ? [] : [s.propagateMs]))),
      post: percentiles(samples.map((s) => s.postMs)),
      missed,
      early,
      samples,
      pass: samples.length > 0 && missed === 0 && early === 0 && latency.p99 <= target,
      pinned,
    };
  } catch (err) {
    const output = controller?.output().slice(-2000);
    throw output ? new Error(`${(err as Error).message}\ncontroller output:\n${output}`) : err;
  } finally {
    feeding = false;
    await feeder;
    for (const s of streams) s.close();
    await controller?.stop().catch(() => undefined);
    await redis?.stop().catch(() => undefined);
    if (redis) opts.running?.delete(redis);
    opts.running?.delete(stopController);
    dirs.remove();
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

if (process.argv[1] && import.meta.filename === (await import('node:fs')).realpathSync(process.argv[1])) {
  const reps = Number(process.argv[2] ?? 15);
  const result = await measureBreachLatency({ reps, analysisIntervalMs: 1_000, tickMs: 50, bucketMs: 200, flags: 4, slackMs: 100, serverCpu: 1 }, (l) =>
    console.error(l),
  );
  console.log(JSON.stringify({ ...result, samples: result.samples.length }, null, 2));
  process.exit(0);
}
