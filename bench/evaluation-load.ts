/**
 * Server-side evaluation under load, side by side with the Unleash Proxy: the controller's frontend
 * API (GET /api/frontend, as unleash-proxy-client polls it) and OFREP bulk route (POST
 * /ofrep/v1/evaluate/flags), and the Unleash Proxy's frontend API (GET /proxy, @unleash/proxy on
 * the stock Node SDK) whose SDK reads the same 200 flags from the controller's client API. Every
 * target gets the same contexts in the same order, each request with a userId of its own, over the
 * same connections from the same load generator, each server process on the same core in turn.
 * Beside them, the in-process cost of one flag evaluation (evaluation-cost.ts).
 *
 * Standalone: `npx tsx bench/evaluation-load.ts` (BENCH_QUICK=1 for short runs) prints the section;
 * `npm run bench` runs it as one section of the report.
 */
import autocannon from 'autocannon';
import { type EvaluationCost, measureEvaluationCost } from './evaluation-cost.js';
import { renderEvaluationSection } from './evaluation-report.js';
import { type RequestPlan, realisticContexts, requestPlans } from './evaluation-requests.js';
import { buildFixture } from './fixture.js';
import { cpuFigures, machineBusySeconds, runLoad, WRK_VERSION, waitForQuiet, type LoadResult } from './http-load.js';
import { ENV, pinToCpu, processCpuSeconds, startPortPrinter, startStack } from './stack.js';

export { evaluationChecks, renderEvaluationSection } from './evaluation-report.js';

export interface EvaluationRun extends LoadResult {
  route: string;
  flagsPerRequest: number;
  evaluationsPerSecond: number;
  /** Bytes of the first answer's body (identity encoding: no target compresses for wrk). */
  bodyBytes: number;
  /** req/s of each repeat, when the least disturbed of several is reported. */
  repeatsRps?: number[];
}

export interface EvaluationLoadResult {
  flags: number;
  contexts: number;
  connections: number;
  pinned: boolean;
  loadGenerator: string;
  /** The Unleash Proxy first, then the frontend API and OFREP bulk. */
  runs: EvaluationRun[];
  /** Contexts for which the proxy's answer and the frontend API's had the same flags on with the same variants. */
  agreement: { compared: number; same: number };
  cost?: EvaluationCost;
}

export interface EvaluationLoadOptions {
  connections: number;
  durationS: number;
  warmupS: number;
  repeats: number;
  quick: boolean;
  /** Where the servers run when pinning is possible (the load generator stays where it is). */
  serverCpu?: number;
  running: Set<{ stop(): Promise<void> }>;
}

const PROXY_KEY = 'bench-proxy-client-key';

/** One run of a plan, with wrk (its Lua script fills in the users) or else autocannon (in this process). */
async function load(plan: RequestPlan, target: { url: string; pid: number }, connections: number, durationS: number): Promise<LoadResult> {
  if (WRK_VERSION) return runLoad({ ...plan, url: target.url, connections, durationS, expectStatus: 200, serverPid: target.pid, script: plan.wrkScript });
  let n = 0;
  const cpu0 = processCpuSeconds(target.pid);
  const machine0 = machineBusySeconds();
  const self0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await autocannon({
    url: target.url,
    connections,
    pipelining: 1,
    duration: durationS,
    timeout: 10,
    requests: [{ method: plan.method, headers: plan.headers, setupRequest: (request) => ({ ...request, ...plan.next(++n) }) }],
  });
  const wallS = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(self0);
  const cpu1 = processCpuSeconds(target.pid);
  const machine1 = machineBusySeconds();
  const statusCodes: Record<string, number> = {};
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = (stat as { count: number }).count;
  const total = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const seconds = result.duration || durationS;
  const { mean, p50, p90, p99, max } = result.latency;
  return {
    label: plan.label,
    path: plan.path,
    connections,
    durationS: Math.round(seconds * 100) / 100,
    requests: total,
    rps: Math.round(total / seconds),
    latency: { mean: Math.round(mean * 100) / 100, p50, p90, p99, max },
    statusCodes,
    unexpected: total - (statusCodes['200'] ?? 0),
    errors: result.errors,
    timeouts: result.timeouts,
    bodyBytesPerRequest: 0,
    throughputMBps: Math.round((result.throughput.total / seconds / 1e6) * 10) / 10,
    ...cpuFigures({
      requests: total,
      wallS,
      serverCpu: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
      loadGenCpu: (self.user + self.system) / 1e6,
      machineBusy: machine0 === undefined || machine1 === undefined ? undefined : machine1 - machine0,
    }),
  };
}

async function send(url: string, plan: RequestPlan, n: number): Promise<{ status: number; text: string }> {
  const request = plan.next(n);
  const res = await fetch(`${url}${request.path}`, { method: plan.method, headers: plan.headers, body: request.body });
  return { status: res.status, text: await res.text() };
}

/** Which flags are on, with which variant and payload: what the proxy and the frontend API must agree on. */
function answerKey(text: string): string {
  const { toggles } = JSON.parse(text) as { toggles: Array<{ name: string; variant: { name: string; payload?: unknown } }> };
  return JSON.stringify(toggles.map((t) => [t.name, t.variant.name, t.variant.payload ?? null]).sort());
}

async function waitForProxy(url: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const res = await fetch(`${url}/proxy/health`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`the Unleash Proxy did not fetch the flags within 20 s (health ${res?.status})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function measureEvaluationLoad(opts: EvaluationLoadOptions, log: (line: string) => void): Promise<EvaluationLoadResult> {
  const fixture = buildFixture(200);
  // The per-token rate limit would be what this measures otherwise: the bench process is one token.
  const stack = await withEnv({ EVALUATION_RATE_LIMIT: '0' }, () => startStack('redis', fixture));
  opts.running.add(stack);
  const cleanups: Array<() => Promise<void> | void> = [];
  try {
    const frontend = await stack.admin('POST', '/api/admin/tokens', { kind: 'frontend', environment: ENV, name: 'bench-frontend' });
    const upstream = await stack.admin('POST', '/api/admin/tokens', { kind: 'client', environment: ENV, name: 'bench-unleash-proxy' });
    if (frontend.status !== 201 || upstream.status !== 201) throw new Error(`tokens: ${frontend.status} ${upstream.status}`);
    const proxy = await startPortPrinter('unleash-proxy.ts', [], {
      UPSTREAM_URL: `${stack.url}/api`,
      UPSTREAM_TOKEN: upstream.body.secret,
      CLIENT_KEY: PROXY_KEY,
    });
    opts.running.add(proxy);
    cleanups.push(async () => {
      opts.running.delete(proxy);
      await proxy.stop();
    });
    await waitForProxy(proxy.url);
    const pinned = opts.serverCpu !== undefined && pinToCpu(stack.pid, opts.serverCpu) && pinToCpu(proxy.pid, opts.serverCpu);
    const contexts = realisticContexts(1_000);
    const { plans, remove } = requestPlans(contexts, { frontend: frontend.body.secret, client: stack.clientSecret, proxy: PROXY_KEY });
    cleanups.push(remove);
    const targets = [proxy, stack, stack];

    // Same flags, same answers: the proxy and the frontend API agree on every flag that is on, and its variant.
    const compared = opts.quick ? 20 : 100;
    let same = 0;
    for (let n = 1; n <= compared; n++) {
      const [theirs, ours] = await Promise.all([send(proxy.url, plans[0]!, n), send(stack.url, plans[1]!, n)]);
      if (theirs.status === 200 && ours.status === 200 && answerKey(theirs.text) === answerKey(ours.text)) same++;
    }
    log(`  evaluation: the Unleash Proxy and the frontend API agree on ${same} of ${compared} contexts`);

    const bodies = await Promise.all(plans.map((plan, i) => send(targets[i]!.url, plan, 1)));
    for (const [i, body] of bodies.entries()) if (body.status !== 200) throw new Error(`${plans[i]!.route}: expected 200, got ${body.status}`);
    for (const [i, plan] of plans.entries()) await load(plan, targets[i]!, opts.connections, opts.warmupS);
    const repeats: LoadResult[][] = plans.map(() => []);
    for (let r = 0; r < opts.repeats; r++) {
      for (const [i, plan] of plans.entries()) {
        await waitForQuiet(4_000);
        const result = await load(plan, targets[i]!, opts.connections, opts.durationS);
        log(
          `  evaluation: ${plan.route}: ${result.rps}/s p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms, ${result.serverCpuUsPerRequest} µs server CPU/request, rest of machine ${result.otherCpuPct}%`,
        );
        repeats[i]!.push(result);
      }
    }
    const runs = plans.map((plan, i): EvaluationRun => {
      // The machine is shared: the run least disturbed by other processes stands for the target.
      const chosen = [...repeats[i]!].sort((a, b) => (a.otherCpuPct ?? 0) - (b.otherCpuPct ?? 0) || b.rps - a.rps)[0]!;
      return {
        ...chosen,
        route: plan.route,
        flagsPerRequest: fixture.features.length,
        evaluationsPerSecond: chosen.rps * fixture.features.length,
        bodyBytes: Buffer.byteLength(bodies[i]!.text),
        ...(repeats[i]!.length > 1 ? { repeatsRps: repeats[i]!.map((x) => x.rps) } : {}),
      };
    });
    log('  evaluation: cost per flag in-process (compiled evaluator, stock engine)…');
    const cost = measureEvaluationCost(fixture, contexts, opts.quick);
    log(`  evaluation: ${cost.compiled.usPerFlag} µs per flag compiled, ${cost.stock.usPerFlag} µs per flag with the stock engine`);
    const loadGenerator = WRK_VERSION ? `wrk ${WRK_VERSION} (one thread, Lua script)` : 'autocannon (in the bench process)';
    return {
      flags: fixture.features.length,
      contexts: contexts.length,
      connections: opts.connections,
      pinned,
      loadGenerator,
      runs,
      agreement: { compared, same },
      cost,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
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

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const quick = process.env.BENCH_QUICK === '1';
  const running = new Set<{ stop(): Promise<void> }>();
  const pinnedSelf = pinToCpu(process.pid, 0);
  try {
    const result = await measureEvaluationLoad(
      { connections: 16, durationS: quick ? 3 : 6, warmupS: quick ? 1 : 3, repeats: quick ? 1 : 3, quick, serverCpu: pinnedSelf ? 1 : undefined, running },
      (line) => console.error(line),
    );
    console.log(renderEvaluationSection(result).join('\n'));
  } finally {
    await Promise.allSettled([...running].map((s) => s.stop()));
  }
  process.exit(0);
}
