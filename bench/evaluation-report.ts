import type { EvaluationLoadResult, EvaluationRun } from './evaluation-load.js';
import type { Check } from './report.js';

/** The evaluation section's summary rows and its part of bench/reports/latest.md. */

/** The frontend API must serve at least this many times the Unleash Proxy's requests a second, side by side. */
export const PROXY_RATIO_TARGET = 10;
/** µs of CPU for one flag evaluation by the compiled evaluator (in-process). */
export const COST_PER_FLAG_TARGET_US = 0.4;

const num = (n: number) => n.toLocaleString('en-US');
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10) / 10 : Number.NaN);
const clean = (r: EvaluationRun) => r.errors + r.timeouts + r.unexpected === 0;

function runs(result: EvaluationLoadResult): { proxy?: EvaluationRun; frontend?: EvaluationRun; ofrep?: EvaluationRun } {
  const [proxy, frontend, ofrep] = result.runs;
  return { proxy, frontend, ofrep };
}

function versusProxy(run: EvaluationRun, proxy: EvaluationRun): string {
  const cpu =
    run.serverCpuUsPerRequest !== undefined && proxy.serverCpuUsPerRequest !== undefined
      ? `; CPU ${num(run.serverCpuUsPerRequest)} vs ${num(proxy.serverCpuUsPerRequest)} µs/request (${ratio(proxy.serverCpuUsPerRequest, run.serverCpuUsPerRequest)}× less)`
      : '';
  return `${ratio(run.rps, proxy.rps)}× (${num(run.rps)}/s vs ${num(proxy.rps)}/s${cpu})`;
}

export function evaluationChecks(result: EvaluationLoadResult): Check[] {
  const { proxy, frontend, ofrep } = runs(result);
  const checks: Check[] = [];
  if (proxy && frontend)
    checks.push({
      name: `frontend API requests/s ≥ ${PROXY_RATIO_TARGET}× the Unleash Proxy's (${result.flags} flags, a new user per request, ${result.connections} connections)`,
      target: `≥ ${PROXY_RATIO_TARGET}×`,
      measured: versusProxy(frontend, proxy),
      pass: frontend.rps >= PROXY_RATIO_TARGET * proxy.rps && clean(frontend) && clean(proxy),
    });
  if (proxy && ofrep)
    checks.push({
      name: 'OFREP bulk requests/s beside the Unleash Proxy’s frontend API (same contexts)',
      target: 'recorded (no target)',
      measured: versusProxy(ofrep, proxy),
      pass: clean(ofrep),
    });
  checks.push({
    name: 'the Unleash Proxy and the frontend API give the same flags and variants',
    target: `every context compared`,
    measured: `${result.agreement.same} of ${result.agreement.compared}`,
    pass: result.agreement.same === result.agreement.compared,
  });
  if (result.cost)
    checks.push({
      name: `evaluation cost per flag < ${COST_PER_FLAG_TARGET_US} µs (compiled evaluator, in-process, ${result.flags} flags)`,
      target: `< ${COST_PER_FLAG_TARGET_US} µs`,
      measured: `${result.cost.compiled.usPerFlag} µs (stock engine ${result.cost.stock.usPerFlag} µs, ${ratio(result.cost.stock.usPerFlag, result.cost.compiled.usPerFlag)}×)`,
      pass: result.cost.compiled.usPerFlag < COST_PER_FLAG_TARGET_US,
    });
  return checks;
}

export function renderEvaluationSection(result: EvaluationLoadResult): string[] {
  const { proxy } = runs(result);
  const out = ['## Server-side evaluation beside the Unleash Proxy (frontend API, OFREP bulk)', ''];
  out.push(
    `Three servers answer the same ${num(result.flags)} flags: the controller (its own process on its own redis-server, EVALUATION_RATE_LIMIT=0; the compiled evaluator), and the Unleash Proxy 1.4 (npm \`@unleash/proxy\`, its own process, the stock Node SDK's engine) whose SDK fetched them from the controller's \`GET /api/client/features\` with a client token of its own. ` +
      `Before the runs, ${result.agreement.compared} contexts were sent to both frontend APIs: ${result.agreement.same} came back with the same flags on and the same variants. ` +
      `Every target then gets the same requests in the same order: the next of ${num(result.contexts)} realistic contexts (app, session, address, region, plan, email, app version, account age) with a userId of its own (1, 2, 3, …), so no answer can come from a cache; ` +
      `${result.loadGenerator}, ${result.connections} connections, no pipelining, no compression asked for; ${result.pinned ? 'each server pinned to CPU 1 in turn and the load generator to CPU 0' : 'not pinned'}. ` +
      `Each target is warmed up, then run in turn (proxy, frontend API, OFREP) ${proxy?.repeatsRps ? `${proxy.repeatsRps.length} times; the run least disturbed by other processes (the lowest "rest of machine" CPU) is reported, all runs' req/s in brackets` : 'once'}; each run starts once the machine is idle (or after 4 s). ` +
      '"µs CPU/req" is the server process\'s CPU time (user + system, from /proc) over the run divided by its responses: it does not depend on the load generator.',
    '',
  );
  out.push('| Target | req/s | vs proxy | p50 | p99 | µs CPU/req | CPU vs proxy | evaluations/s | body B | Rest of machine | Statuses |');
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of result.runs) {
    const statuses = Object.entries(r.statusCodes)
      .map(([c, n]) => `${c}×${num(n)}`)
      .join(' ');
    const repeats = r.repeatsRps ? ` (${r.repeatsRps.map(num).join(' / ')})` : '';
    const rpsRatio = proxy && r !== proxy ? `${ratio(r.rps, proxy.rps)}×` : '—';
    const cpuRatio =
      proxy && r !== proxy && r.serverCpuUsPerRequest && proxy.serverCpuUsPerRequest
        ? `${ratio(proxy.serverCpuUsPerRequest, r.serverCpuUsPerRequest)}× less`
        : '—';
    out.push(
      `| ${r.label} | ${num(r.rps)}${repeats} | ${rpsRatio} | ${r.latency.p50} ms | ${r.latency.p99} ms | ${r.serverCpuUsPerRequest ?? '?'} | ${cpuRatio} | ${num(r.evaluationsPerSecond)} | ${num(r.bodyBytes)} | ${r.otherCpuPct ?? '?'}% | ${statuses} |`,
    );
  }
  out.push('');
  const cost = result.cost;
  if (cost) {
    out.push(
      `Evaluation cost in-process (bench process): \`evaluateAll\` over the ${cost.flags} flags for the same contexts, each as the frontend API builds it (validated, environment set, a userId of its own), CPU time in rounds of 0.3 s after a warm-up, median of ${cost.compiled.rounds} rounds.`,
      '',
      '| Engine | µs per flag | µs per request (all flags) | flag evaluations/s per core |',
      '| --- | ---: | ---: | ---: |',
    );
    for (const [name, c] of [
      ['compiled evaluator (src/evaluation/compiled)', cost.compiled],
      ['stock unleash-client engine (SnapshotEngine)', cost.stock],
    ] as const)
      out.push(`| ${name} | ${c.usPerFlag} | ${c.usPerRequest} | ${num(Math.round(1e6 / c.usPerFlag))} |`);
    out.push('');
  }
  return out;
}
