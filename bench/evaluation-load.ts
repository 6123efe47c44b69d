/**
 * Server-side evaluation under load: the frontend API (GET /api/frontend, as unleash-proxy-client
 * polls it) and OFREP's bulk route (POST /ofrep/v1/evaluate/flags), each evaluating the 200-flag
 * bench fixture for a rotating set of realistic contexts (every request a different user).
 * Reports requests/s, flag evaluations/s (requests × flags evaluated per request), latency
 * percentiles and the controller's CPU per request.
 *
 * Standalone: `npx tsx bench/evaluation-load.ts` (BENCH_QUICK=1 for short runs) prints the figures;
 * `npm run bench` runs it as one section of the report.
 */
import autocannon from 'autocannon';
import { buildFixture } from './fixture.js';
import { cpuFigures, machineBusySeconds, waitForQuiet, type LoadResult } from './http-load.js';
import type { Check } from './report.js';
import { ENV, pinToCpu, processCpuSeconds, startStack } from './stack.js';

export interface EvaluationRun extends LoadResult {
  route: string;
  flagsPerRequest: number;
  evaluationsPerSecond: number;
}

export interface EvaluationLoadResult {
  flags: number;
  contexts: number;
  connections: number;
  pinned: boolean;
  runs: EvaluationRun[];
}

export interface EvaluationLoadOptions {
  connections: number;
  durationS: number;
  warmupS: number;
  /** Where the controller runs when pinning is possible (the load generator stays where it is). */
  serverCpu?: number;
  running: Set<{ stop(): Promise<void> }>;
}

const APPS = ['web-frontend', 'mobile-ios', 'mobile-android', 'admin-portal'];
const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-1'];
const PLANS = ['free', 'pro', 'team', 'enterprise'];
const DOMAINS = ['example.com', 'example.org', 'mail.test'];

/** Contexts like the ones the fixture's constraints look at: app, user, session, address, region, plan, version… */
export function realisticContexts(count: number): Array<Record<string, string | Record<string, string>>> {
  return Array.from({ length: count }, (_, i) => ({
    appName: APPS[i % APPS.length]!,
    userId: String(1 + ((i * 7919) % 99_999)),
    sessionId: `sess-${(i * 104_729) % 1_000_000}`,
    remoteAddress: i % 3 === 0 ? `10.${i % 255}.${(i * 7) % 255}.${(i * 13) % 255}` : `192.168.${i % 3}.${(i * 11) % 255}`,
    properties: {
      region: REGIONS[i % REGIONS.length]!,
      plan: PLANS[(i * 3) % PLANS.length]!,
      email: `user${i}@${DOMAINS[i % DOMAINS.length]}`,
      appVersion: `${1 + (i % 5)}.${i % 20}.${i % 10}`,
      accountAgeDays: String((i * 37) % 400),
    },
  }));
}

function frontendQuery(context: Record<string, string | Record<string, string>>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(context)) {
    if (typeof value === 'string') params.append(key, value);
    else for (const [p, v] of Object.entries(value)) params.append(`properties[${p}]`, v);
  }
  return `/api/frontend?${params}`;
}

function ofrepBody(context: Record<string, string | Record<string, string>>): string {
  const { userId, properties, ...rest } = context as Record<string, string> & { properties: Record<string, string> };
  return JSON.stringify({ context: { targetingKey: userId, ...rest, ...properties } });
}

/** One autocannon run whose every request carries the next context of the rotation. */
async function load(opts: {
  url: string;
  pid: number;
  label: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  next: (i: number) => { path: string; body?: string };
  connections: number;
  durationS: number;
}): Promise<LoadResult> {
  let i = 0;
  const cpu0 = processCpuSeconds(opts.pid);
  const machine0 = machineBusySeconds();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    pipelining: 1,
    duration: opts.durationS,
    timeout: 10,
    requests: [
      {
        method: opts.method,
        headers: opts.headers,
        setupRequest: (request) => ({ ...request, ...opts.next(i++) }),
      },
    ],
  });
  const wallS = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  const cpu1 = processCpuSeconds(opts.pid);
  const machine1 = machineBusySeconds();
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (stat as { count: number }).count;
  const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const durationS = result.duration || opts.durationS;
  const serverCpu = cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0;
  return {
    label: opts.label,
    path: opts.next(0).path.split('?')[0]!,
    connections: opts.connections,
    durationS: Math.round(durationS * 100) / 100,
    requests: total,
    rps: Math.round(total / durationS),
    latency: {
      mean: Math.round(result.latency.mean * 100) / 100,
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    statusCodes,
    unexpected: total - (statusCodes['200'] ?? 0),
    errors: result.errors,
    timeouts: result.timeouts,
    bodyBytesPerRequest: 0,
    throughputMBps: Math.round((result.throughput.total / durationS / 1e6) * 10) / 10,
    ...cpuFigures({
      requests: total,
      wallS,
      serverCpu,
      loadGenCpu: (self.user + self.system) / 1e6,
      machineBusy: machine0 === undefined || machine1 === undefined ? undefined : machine1 - machine0,
    }),
  };
}

export async function measureEvaluationLoad(opts: EvaluationLoadOptions, log: (line: string) => void): Promise<EvaluationLoadResult> {
  const fixture = buildFixture(200);
  // The per-token rate limit would be what this measures otherwise: the bench process is one token.
  const stack = await withEnv({ EVALUATION_RATE_LIMIT: '0' }, () => startStack('redis', fixture));
  opts.running.add(stack);
  try {
    const pinned = opts.serverCpu !== undefined && pinToCpu(stack.pid, opts.serverCpu);
    const frontend = await stack.admin('POST', '/api/admin/tokens', { kind: 'frontend', environment: ENV, name: 'bench-frontend' });
    if (frontend.status !== 201) throw new Error(`frontend token: ${frontend.status}`);
    const contexts = realisticContexts(1_000);
    const target = { url: stack.url, pid: stack.pid, connections: opts.connections };
    const routes: Array<{
      label: string;
      route: string;
      method: 'GET' | 'POST';
      headers: Record<string, string>;
      next: (i: number) => { path: string; body?: string };
    }> = [
      {
        label: 'frontend API (GET, query-string context)',
        route: 'GET /api/frontend',
        method: 'GET',
        headers: { Authorization: frontend.body.secret as string, 'unleash-appname': 'bench-web', 'unleash-sdk': 'unleash-client-js:3.8.2' },
        next: (i: number) => ({ path: frontendQuery(contexts[i % contexts.length]!) }),
      },
      {
        label: 'OFREP bulk (POST, JSON context)',
        route: 'POST /ofrep/v1/evaluate/flags',
        method: 'POST',
        headers: { Authorization: stack.clientSecret, 'Content-Type': 'application/json' },
        next: (i: number) => ({ path: '/ofrep/v1/evaluate/flags', body: ofrepBody(contexts[i % contexts.length]!) }),
      },
    ];
    const runs: EvaluationRun[] = [];
    for (const r of routes) {
      const first = r.next(0);
      const probe = await fetch(`${stack.url}${first.path}`, { method: r.method, headers: r.headers, body: first.body });
      const body = (await probe.json()) as { toggles?: unknown[]; flags?: unknown[] };
      if (probe.status !== 200) throw new Error(`${r.route}: expected 200, got ${probe.status}`);
      log(`  evaluation: ${r.route} answers ${(body.toggles ?? body.flags)!.length} entries for the first context`);
      await load({ ...target, ...r, durationS: opts.warmupS });
      await waitForQuiet(4_000);
      const result = await load({ ...target, ...r, durationS: opts.durationS });
      const run: EvaluationRun = {
        ...result,
        route: r.route,
        flagsPerRequest: fixture.features.length,
        evaluationsPerSecond: result.rps * fixture.features.length,
      };
      log(
        `  evaluation: ${r.route}: ${run.rps}/s (${run.evaluationsPerSecond.toLocaleString('en-US')} evaluations/s) p50 ${run.latency.p50} ms p99 ${run.latency.p99} ms, ${run.serverCpuUsPerRequest} µs server CPU/request, statuses ${JSON.stringify(run.statusCodes)}`,
      );
      runs.push(run);
    }
    return { flags: fixture.features.length, contexts: contexts.length, connections: opts.connections, pinned, runs };
  } finally {
    opts.running.delete(stack);
    await stack.stop();
  }
}

/** Sets environment variables for what starts inside `fn` (the controller process inherits them), then restores them. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

/** Report rows: evaluations/s and p99 per route (no target was set for these; they are recorded as measured). */
export function evaluationChecks(result: EvaluationLoadResult): Check[] {
  return result.runs.map((r) => ({
    name: `${r.route}: ${result.flags} flags per request, ${r.connections} connections`,
    target: 'recorded (no target)',
    measured: `${r.evaluationsPerSecond.toLocaleString('en-US')} evaluations/s (${r.rps.toLocaleString('en-US')} req/s), p99 ${r.latency.p99} ms`,
    pass: r.errors + r.timeouts + r.unexpected === 0,
  }));
}

export function renderEvaluationSection(result: EvaluationLoadResult): string[] {
  const out = ['## Server-side evaluation (frontend API, OFREP)', ''];
  out.push(
    `A controller process on its own redis-server${result.pinned ? ' (pinned to CPU 1)' : ''} with the ${result.flags}-flag fixture, EVALUATION_RATE_LIMIT=0. ` +
      `Each request carries the next of ${result.contexts.toLocaleString('en-US')} realistic contexts (app, user, session, address, region, plan, email, app version, account age), so every answer is evaluated, never served from a cache; ` +
      `each evaluates all ${result.flags} flags with the stock SDK's engine. autocannon, ${result.connections} connections, no pipelining.`,
    '',
  );
  out.push('| Route | req/s | evaluations/s | p50 | p90 | p99 | max | Statuses | Server CPU | µs CPU/req | req/s per server core |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |');
  for (const r of result.runs) {
    const statuses = Object.entries(r.statusCodes)
      .map(([c, n]) => `${c}×${n.toLocaleString('en-US')}`)
      .join(' ');
    out.push(
      `| ${r.label} | ${r.rps.toLocaleString('en-US')} | ${r.evaluationsPerSecond.toLocaleString('en-US')} | ${r.latency.p50} ms | ${r.latency.p90} ms | ${r.latency.p99} ms | ${r.latency.max} ms | ${statuses} | ${r.serverCpuPct ?? '?'}% | ${r.serverCpuUsPerRequest ?? '?'} | ${r.projectedRpsPerCore?.toLocaleString('en-US') ?? '?'} |`,
    );
  }
  out.push('');
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const quick = process.env.BENCH_QUICK === '1';
  const running = new Set<{ stop(): Promise<void> }>();
  const pinnedSelf = pinToCpu(process.pid, 0);
  try {
    const result = await measureEvaluationLoad(
      { connections: 16, durationS: quick ? 3 : 8, warmupS: quick ? 1 : 3, serverCpu: pinnedSelf ? 1 : undefined, running },
      (line) => console.error(line),
    );
    console.log(renderEvaluationSection(result).join('\n'));
  } finally {
    await Promise.allSettled([...running].map((s) => s.stop()));
  }
  process.exit(0);
}
