import type { Unleash } from 'unleash-client';
import { emptyDir, startTestController, uniquePrefix, type TestController } from '../support/controller.js';
import { destroyAllSdks } from '../sdk/sdk-helpers.js';

/**
 * Helpers for the rollout scenario tests: short policies, named admin people, a background traffic
 * generator reporting outcomes through the real HTTP route, polling waits, and the served percentage
 * as a stock SDK sees it.
 */

/** Controller settings that make a rollout move in hundreds of milliseconds instead of minutes. */
export const FAST_ENV = {
  OUTCOME_BUCKET_MS: '100',
  ROLLOUT_TICK_MS: '50',
  STREAM_HEARTBEAT_MS: '500',
} as const;

export const ENV = 'production';

// ---------------------------------------------------------------------------------------------
// Policies

export const MIN_SAMPLES = 50;
export const MIN_DURATION_MS = 400;
export const ANALYSIS_INTERVAL_MS = 250;
export const ROLLBACK_ABOVE = 0.2;
export const ROLLBACK_FOR_MS = 500;

/**
 * A policy of the standard shape (1 → 10 → 50 → 100, a release manager per widening) with short
 * durations. Its first step asks for no Go/No-Go, so each scenario starts serving 1 % at once; the
 * Go/No-Go has tests of its own (test/api/approvals.test.ts).
 */
export function shortPolicy(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    description: `scenario policy ${name}`,
    steps: [{ percentage: 1, approval: { required: 0 } }, 10, 50, 100],
    stepDefaults: {
      minDuration: `${MIN_DURATION_MS}ms`,
      minSamples: MIN_SAMPLES,
      maxDuration: '4s',
      approval: { required: 1, roles: ['release-manager'] },
    },
    analysisInterval: `${ANALYSIS_INTERVAL_MS}ms`,
    gates: [
      { metric: 'error_rate', cohort: 'treatment', max: 0.05 },
      { metric: 'latency_p95_ms', cohort: 'treatment', max: 250 },
      { metric: 'error_rate', compare: 'control', maxRelativeIncrease: 1, minControlSamples: MIN_SAMPLES },
    ],
    rollback: [{ metric: 'error_rate', cohort: 'treatment', above: ROLLBACK_ABOVE, for: `${ROLLBACK_FOR_MS}ms`, minSamples: 20 }],
    killSwitches: [],
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// People

export interface AdminPerson {
  id: string;
  name: string;
  role: string;
  secret: string;
}

/** An admin token with a person's name, so history and audit say who did what. */
export async function adminPerson(t: TestController, role: string, name: string): Promise<AdminPerson> {
  const res = await t.api('POST', '/api/admin/tokens', { kind: 'admin', role, name });
  if (res.status !== 201) throw new Error(`token creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, name, role, secret: res.body.secret };
}

/** Calls the admin API and fails with the response when it is not the expected status. */
export async function expectStatus(t: TestController, status: number, method: string, route: string, body?: unknown, token?: string) {
  const res = await t.api(method, route, body, token);
  if (res.status !== status) throw new Error(`${method} ${route}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

// ---------------------------------------------------------------------------------------------
// Traffic

export interface CohortProfile {
  requests: number;
  errors: number;
  /** Latency histogram per batch: upper bound (ms) → count; counts should add up to `requests`. */
  latency?: Record<string, number>;
}

export interface TrafficProfile {
  name: string;
  treatment: CohortProfile;
  control: CohortProfile;
}

const HEALTHY_LATENCY = { '25': 60, '50': 30, '100': 9, '250': 1 };

function latencySum(buckets: Record<string, number>): number {
  // Each request counted at its bucket's midpoint: enough for a plausible mean.
  let lower = 0;
  let sum = 0;
  for (const [bound, n] of Object.entries(buckets).sort((a, b) => Number(a[0]) - Number(b[0]))) {
    sum += n * ((lower + Number(bound)) / 2);
    lower = Number(bound);
  }
  return sum;
}

/** 1% errors in both cohorts, p95 well under 250 ms. */
export const HEALTHY: TrafficProfile = {
  name: 'healthy',
  treatment: { requests: 100, errors: 1, latency: HEALTHY_LATENCY },
  control: { requests: 100, errors: 1, latency: HEALTHY_LATENCY },
};

/** Half of the treatment requests fail (well above a 20% rollback threshold); control stays healthy. */
export const UNHEALTHY: TrafficProfile = {
  name: 'unhealthy',
  treatment: { requests: 100, errors: 50, latency: HEALTHY_LATENCY },
  control: { requests: 100, errors: 1, latency: HEALTHY_LATENCY },
};

/** 15% of treatment requests fail: above a 5% gate, below a 20% rollback threshold. */
export const DEGRADED: TrafficProfile = {
  name: 'degraded',
  treatment: { requests: 100, errors: 15, latency: HEALTHY_LATENCY },
  control: { requests: 100, errors: 1, latency: HEALTHY_LATENCY },
};

/** A healthy trickle: one request per cohort per batch, far too little for a 50-sample gate. */
export const TRICKLE: TrafficProfile = {
  name: 'trickle',
  treatment: { requests: 1, errors: 0, latency: { '25': 1 } },
  control: { requests: 1, errors: 0, latency: { '25': 1 } },
};

export interface TrafficGenerator {
  /** Switches what the following batches report. */
  set(profile: TrafficProfile): void;
  readonly profile: TrafficProfile;
  /** Batches accepted (202) so far. */
  readonly batches: number;
  /** Anything other than a 202, or a network error: the tests expect none. */
  readonly failures: string[];
  /** Resolves once the next batch after this call has been accepted. */
  nextBatch(timeoutMs?: number): Promise<void>;
  /** Stops and waits for the batch in flight. Idempotent. */
  stop(): Promise<void>;
}

const generators = new Set<TrafficGenerator>();

/**
 * Posts outcome batches for `flag` (treatment and control) to POST /api/metrics/outcomes with a
 * client token every `intervalMs`, until stopped. Batches never overlap.
 */
export function startTraffic(
  t: TestController,
  clientSecret: string,
  flag: string,
  profile: TrafficProfile,
  options: { intervalMs?: number; appName?: string } = {},
): TrafficGenerator {
  const intervalMs = options.intervalMs ?? 50;
  let current = profile;
  let batches = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const failures: string[] = [];
  const waiters: Array<() => void> = [];

  const record = (cohort: 'treatment' | 'control', c: CohortProfile) => ({
    flag,
    cohort,
    requests: c.requests,
    errors: c.errors,
    ...(c.latency ? { latencyMs: { buckets: c.latency, sum: latencySum(c.latency) } } : {}),
  });

  const post = async () => {
    const body = { appName: options.appName ?? 'scenario-traffic', records: [record('treatment', current.treatment), record('control', current.control)] };
    try {
      const res = await fetch(`${t.url}/api/metrics/outcomes`, {
        method: 'POST',
        headers: { Authorization: clientSecret, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      await res.arrayBuffer();
      if (res.status === 202) {
        batches++;
        waiters.splice(0).forEach((resolve) => resolve());
      } else failures.push(`${res.status}`);
    } catch (err) {
      if (!stopped) failures.push(String(err));
    }
  };

  const loop = () => {
    if (stopped) return;
    inFlight = post().finally(() => {
      if (!stopped) timer = setTimeout(loop, intervalMs);
    });
  };
  loop();

  const generator: TrafficGenerator = {
    set(profile) {
      current = profile;
    },
    get profile() {
      return current;
    },
    get batches() {
      return batches;
    },
    failures,
    nextBatch(timeoutMs = 2_000) {
      return new Promise((resolve, reject) => {
        const timeout = setTimeout(() => reject(new Error(`no outcome batch accepted within ${timeoutMs} ms; failures: ${failures.join(', ')}`)), timeoutMs);
        waiters.push(() => {
          clearTimeout(timeout);
          resolve();
        });
      });
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      generators.delete(generator);
      await inFlight.catch(() => {});
    },
  };
  generators.add(generator);
  return generator;
}

/** Stops every traffic generator still running (for afterEach). */
export async function stopAllTraffic(): Promise<void> {
  await Promise.all([...generators].map((g) => g.stop()));
}

// ---------------------------------------------------------------------------------------------
// Waiting

/** Polls `read` until `predicate` holds; on timeout, fails naming what it waited for and the last value. */
export async function pollUntil<T>(read: () => Promise<T>, predicate: (value: T) => boolean, label: string, timeoutMs = 5_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await read();
    if (predicate(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${label}; last: ${JSON.stringify(last, null, 1)?.slice(0, 3000)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function getRollout(t: TestController, id: string): Promise<any> {
  return expectStatus(t, 200, 'GET', `/api/admin/rollouts/${id}`);
}

export function waitForRollout(t: TestController, id: string, predicate: (r: any) => boolean, label: string, timeoutMs = 5_000): Promise<any> {
  return pollUntil(() => getRollout(t, id), predicate, label, timeoutMs);
}

/**
 * Resolves after the loop has analysed the rollout `n` more times (each analysis stamps
 * lastEvaluatedAt), handing every snapshot seen to `each`: a wait on events, not on the clock.
 */
export async function waitForAnalyses(t: TestController, id: string, n: number, each: (r: any) => void = () => {}, timeoutMs = 5_000): Promise<any> {
  const stamps = new Set<string>();
  const first = await getRollout(t, id);
  each(first);
  const start = first.lastEvaluatedAt;
  return pollUntil(
    () => getRollout(t, id),
    (r) => {
      each(r);
      if (r.lastEvaluatedAt && r.lastEvaluatedAt !== start) stamps.add(r.lastEvaluatedAt);
      return stamps.size >= n;
    },
    `${n} more analyses of rollout ${id}`,
    timeoutMs,
  );
}

// ---------------------------------------------------------------------------------------------
// What an SDK sees

/** The flexibleRollout percentage the SDK holds for `flag` (undefined when it has none). */
export function servedPercentage(sdk: Unleash, flag: string): number | undefined {
  const strategy = sdk.getFeatureToggleDefinition(flag)?.strategies?.find((s) => s.name === 'flexibleRollout');
  return strategy ? Number(strategy.parameters?.rollout) : undefined;
}

/** Records every distinct percentage the SDK holds for `flag`, in the order it saw them. */
export function recordPercentages(sdk: Unleash, flag: string): { seen: number[]; stop(): void } {
  const seen: number[] = [];
  const check = () => {
    const pct = servedPercentage(sdk, flag);
    if (pct !== undefined && seen.at(-1) !== pct) seen.push(pct);
  };
  sdk.on('changed', check);
  check();
  return { seen, stop: () => sdk.off('changed', check) };
}

/** A userId the SDK currently serves `flag` on for (searching a few thousand ids). */
export function findEnabledUser(sdk: Unleash, flag: string, properties: Record<string, string> = {}): string {
  for (let i = 0; i < 20_000; i++) {
    const userId = `user-${i}`;
    if (sdk.isEnabled(flag, { userId, properties })) return userId;
  }
  throw new Error(`no user among 20000 has ${flag} enabled`);
}

// ---------------------------------------------------------------------------------------------
// Audit

export async function auditEvents(t: TestController): Promise<any[]> {
  const events: any[] = [];
  for (let from = 1; ; ) {
    const page = (await expectStatus(t, 200, 'GET', `/api/admin/audit?from=${from}&limit=1000`)).events as any[];
    events.push(...page);
    if (page.length < 1000) return events;
    from = page.at(-1).seq + 1;
  }
}

// ---------------------------------------------------------------------------------------------
// A controller on a clock the test can move

export interface Clock {
  /** Added to the real time: the controller's `now` is Date.now() + offsetMs. */
  offsetMs: number;
  now(): Date;
}

export function shiftedClock(): Clock {
  const clock: Clock = {
    offsetMs: 0,
    now: () => new Date(Date.now() + clock.offsetMs),
  };
  return clock;
}

/**
 * Like startTestController (real Redis, fresh prefix, real HTTP port), but with the controller's
 * clock injected, so a test can put "now" just before a change window closes and let it run.
 */
export function startClockedController(clock: Clock, env: Record<string, string> = {}): Promise<TestController> {
  return startTestController({ prefix: uniquePrefix('clk'), env: { POLICIES_DIR: emptyDir(), ...env }, now: () => clock.now() });
}

/** YYYY-MM-DD of a time, in UTC. */
export function utcDate(at: number | Date): string {
  return new Date(at).toISOString().slice(0, 10);
}

/** The next UTC midnight after `at` (ms). */
export function nextUtcMidnight(at: number): number {
  const d = new Date(at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}

/** A clocked controller with a client token, an editor, a release manager and the `short` policy: the cast of a scenario. */
export interface Cast {
  t: TestController;
  clock: Clock;
  client: string;
  editor: AdminPerson;
  releaseManager: AdminPerson;
}

export async function startCast(env: Record<string, string> = {}): Promise<Cast> {
  const clock = shiftedClock();
  const t = await startClockedController(clock, { ...FAST_ENV, ...env });
  const cast: Cast = {
    t,
    clock,
    client: await t.token({ kind: 'client', environment: ENV }),
    editor: await adminPerson(t, 'editor', 'erin-editor'),
    releaseManager: await adminPerson(t, 'release-manager', 'rita-release-manager'),
  };
  await expectStatus(t, 201, 'PUT', '/api/admin/policies/short', shortPolicy('short'));
  return cast;
}

/** Stops what a scenario started: SDKs, traffic generators and the controller. */
export async function stopCast(cast: Cast | undefined): Promise<void> {
  destroyAllSdks();
  await stopAllTraffic();
  await cast?.t.stop();
}
