import { DEFAULT_BATCH_SIZE } from '../src/rollouts/rollout-loop.js';
import type { LoadResult } from './http-load.js';
import type { KillLatencyResult } from './kill-latency.js';
import type { RolloutTickResult, TickFigures } from './rollout-tick.js';
import type { BreachLatencyResult } from './breach-latency.js';
import { evaluationChecks, renderEvaluationSection, type EvaluationLoadResult } from './evaluation-load.js';

export interface Check {
  name: string;
  target: string;
  measured: string;
  pass: boolean;
}

export interface Report {
  generatedAt: string;
  git: { commit: string; dirty: boolean };
  setup: {
    node: string;
    platform: string;
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    loadGenerator: string;
    connections: number;
    durationsS: Record<string, number>;
    fixture: { flags: number; segments: number; gzipBytes?: number; identityBytes?: number; etag?: string };
    fdLimits: { bench?: { soft: string; hard: string }; server?: { soft: string; hard: string } };
    baseline: string;
    pinning?: string;
  };
  features: Array<LoadResult & { store: string; encoding: string; disturbed?: boolean; repeatsRps?: number[] }>;
  kill?: KillLatencyResult;
  rolloutTick?: RolloutTickResult;
  /** The same tick with per-user counts in every outcome report. */
  rolloutTickUnits?: RolloutTickResult;
  breach?: BreachLatencyResult;
  evaluation?: EvaluationLoadResult;
  /** Sections that failed (the others still ran): section → first line of the error. */
  sectionErrors?: { rolloutTick?: string; rolloutTickUnits?: string; breach?: string; evaluation?: string };
  checks: Check[];
  notes: string[];
  error?: string;
}

const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? '—' : `${n} ms`);
const num = (n: number) => n.toLocaleString('en-US');

export function buildChecks(report: Report, targets: { rps: number; p99Ms: number; killP99Ms: number }): Check[] {
  const checks: Check[] = [];
  const full = report.features.find((f) => f.store === 'redis' && f.label === 'full');
  if (full) {
    const note = full.disturbed ? ' (disturbed)' : '';
    checks.push({
      name: `features, full gzip body, req/s (200 flags, 32 conns)${note}`,
      target: `≥ ${num(targets.rps)}/s`,
      measured: `${num(full.rps)}/s`,
      pass: full.rps >= targets.rps && full.unexpected === 0 && full.errors === 0,
    });
    checks.push({
      name: `features, full gzip body, p99 latency${note}`,
      target: `< ${targets.p99Ms} ms`,
      measured: ms(full.latency.p99),
      pass: full.latency.p99 < targets.p99Ms,
    });
    if (full.serverCpuUsPerRequest !== undefined) {
      // Independent of the shared cores: what one dedicated core could serve at this CPU cost per response.
      const budget = Math.floor(1e6 / targets.rps);
      checks.push({
        name: 'controller CPU per full gzip response (harness-independent)',
        target: `≤ ${budget} µs (${num(targets.rps)}/s on one core)`,
        measured: `${full.serverCpuUsPerRequest} µs (≈ ${num(full.projectedRpsPerCore ?? 0)}/s per core)`,
        pass: full.serverCpuUsPerRequest <= budget,
      });
    }
  }
  const k = report.kill;
  if (k) {
    checks.push({
      name: `kill → raw SSE stream (${num(k.streams)} streams), p99`,
      target: `< ${targets.killP99Ms} ms`,
      measured: ms(k.raw.p99),
      pass: k.raw.p99 < targets.killP99Ms,
    });
    checks.push({
      name: `kill → stock SDK \`changed\` (${k.sdks} SDKs), p99`,
      target: `< ${targets.killP99Ms} ms`,
      measured: ms(k.sdk.p99),
      pass: k.sdk.p99 < targets.killP99Ms,
    });
    const expected = (k.streams + k.sdks) * k.ops;
    const missing = k.raw.missing + k.sdk.missing + k.connect.failed * k.ops;
    checks.push({
      name: 'every stream and SDK got every update',
      target: `0 missing of ${num(expected)}`,
      measured: `${num(missing)} missing`,
      pass: missing === 0 && k.raw.unexpected + k.sdk.unexpected === 0,
    });
  }
  checks.push(...tickChecks(report.rolloutTick, report.sectionErrors?.rolloutTick, ''));
  checks.push(...tickChecks(report.rolloutTickUnits, report.sectionErrors?.rolloutTickUnits, ', outcomes with per-user counts'));
  const b = report.breach;
  if (b) {
    const problems = b.missed + b.early > 0 ? `; ${b.missed} never disabled, ${b.early} false alarms` : '';
    checks.push({
      name: `breach → flag served disabled on an SSE stream (analysis every ${num(b.analysisIntervalMs)} ms, ${b.latency.samples} breaches), p99`,
      target: `≤ ${num(b.targetMs)} ms (interval + ${num(b.targetMs - b.analysisIntervalMs)} ms)`,
      measured: `${ms(b.latency.p99)} (p50 ${ms(b.latency.p50)}, max ${ms(b.latency.max)})${problems}`,
      pass: b.pass,
    });
  } else if (report.sectionErrors?.breach) {
    checks.push({
      name: 'breach → flag served disabled on an SSE stream, p99',
      target: 'analysis interval + 100 ms',
      measured: `did not complete: ${report.sectionErrors.breach}`,
      pass: false,
    });
  }
  if (report.evaluation) checks.push(...evaluationChecks(report.evaluation));
  else if (report.sectionErrors?.evaluation)
    checks.push({
      name: 'server-side evaluation (frontend API, OFREP bulk)',
      target: 'recorded',
      measured: `did not complete: ${report.sectionErrors.evaluation}`,
      pass: false,
    });
  return checks;
}

export function summaryTable(checks: Check[]): string {
  const rows = checks.map((c) => `| ${c.name} | ${c.target} | ${c.measured} | ${c.pass ? 'PASS' : '**FAIL**'} |`);
  return ['| Check | Target | Measured | Result |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function renderMarkdown(r: Report): string {
  const s = r.setup;
  const out: string[] = [];
  out.push('# Controller bench report', '');
  out.push(`Generated ${r.generatedAt} at commit \`${r.git.commit}\`${r.git.dirty ? ' (work tree has uncommitted changes)' : ''}.`, '');
  if (r.error) out.push(`> **The bench did not complete:** ${r.error}`, '');
  out.push('## Summary', '', summaryTable(r.checks), '');
  out.push('## Setup', '');
  out.push(`- Node ${s.node} on ${s.platform}, ${s.cpus} cores (${s.cpuModel}), ${s.memoryGiB} GiB RAM.`);
  out.push(
    `- Everything on 127.0.0.1. The controller runs as its own process (\`node --import tsx src/main.ts\`, LOG_LEVEL=info); the load generator (${s.loadGenerator}), the SSE readers and the SDKs run in the bench process on the same ${s.cpus}-core machine.`,
  );
  out.push(`- CPU pinning: ${s.pinning ?? 'none'}.`);
  out.push(
    `- ${s.connections} connections, no pipelining; run lengths (s): ${Object.entries(s.durationsS)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ', ',
      )}; full-body runs are repeated 3 times and the median reported. Each run starts once the machine is idle; a run during which other processes used > 30% of a core is repeated.`,
  );
  out.push(
    `- Fixture: ${s.fixture.flags} flags, ${s.fixture.segments} segments (flexibleRollout with constraints, segments, strategy and flag variants with payloads); body ${s.fixture.gzipBytes ?? '?'} B gzip / ${s.fixture.identityBytes ?? '?'} B identity.`,
  );
  out.push(`- Open-file limit (soft/hard): bench ${fd(s.fdLimits.bench)}, controller ${fd(s.fdLimits.server)}.`);
  out.push(`- Baseline: ${s.baseline}`, '');
  if (r.features.length > 0) {
    out.push('## GET /api/client/features', '');
    out.push(
      '| Run | Store | Encoding | Body B | req/s | p50 | p90 | p99 | max | Statuses | Errors | Server CPU | µs CPU/req | req/s per server core | Load-gen CPU | Rest of machine |',
    );
    out.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const f of r.features) {
      const statuses = Object.entries(f.statusCodes)
        .map(([c, n]) => `${c}×${num(n)}`)
        .join(' ');
      const repeats = f.repeatsRps ? ` (median of ${f.repeatsRps.map(num).join(' / ')})` : '';
      out.push(
        `| ${f.label}${f.disturbed ? ' (disturbed)' : ''} | ${f.store} | ${f.encoding} | ${num(f.bodyBytesPerRequest)} | ${num(f.rps)}${repeats} | ${ms(f.latency.p50)} | ${ms(f.latency.p90)} | ${ms(f.latency.p99)} | ${ms(f.latency.max)} | ${statuses} | ${f.errors + f.timeouts} | ${f.serverCpuPct ?? '?'}% | ${f.serverCpuUsPerRequest ?? '?'} | ${f.projectedRpsPerCore === undefined ? '?' : num(f.projectedRpsPerCore)} | ${f.loadGenCpuPct}% | ${f.otherCpuPct ?? '?'}% |`,
      );
    }
    out.push(
      '',
      `CPU is in % of one core over the run (the machine has ${s.cpus * 100}%); "rest of machine" is everything else (other processes, kernel softirq): a high figure means the run was disturbed. Latency resolution is 1 ms with autocannon ("0 ms" means under 1 ms), 10 µs with wrk. The "reference" rows serve the controller's exact bytes from a bare node:http process (no framework, no auth): the ceiling this machine and load generator allow.`,
      '',
    );
  }
  if (r.kill) {
    const k = r.kill;
    out.push('## Kill-to-SDK latency', '');
    out.push(
      `${num(k.streams)} raw SSE streams + ${k.sdks} stock \`unleash-client\` SDKs (streaming mode, with a client token of their own, as separate applications have) on \`GET /api/client/streaming\`; ${k.ops} kill/restore operations ${k.spacingMs} ms apart. Latency is from sending the admin request to the stream receiving \`unleash-updated\` with the new state (raw) or the SDK emitting \`changed\` with \`isEnabled\` flipped.`,
      '',
    );
    const c = k.connect;
    out.push(
      `Opening the ${num(k.streams)} streams (50 at a time) took ${num(c.ms)} ms (${c.failed} failed), ${c.serverCpuMsPerStream ?? '?'} ms of controller CPU per stream (each gets a full hydration). Meanwhile GET /healthz took p50 ${ms(c.healthzDuringConnect.p50)}, p99 ${ms(c.healthzDuringConnect.p99)}, max ${ms(c.healthzDuringConnect.max)} (${c.healthzDuringConnect.samples} probes). With the streams open the controller held ${c.serverFds ?? '?'} file descriptors and the bench process ${c.benchFds ?? '?'}.`,
      '',
    );
    out.push('| Receiver | Samples | p50 | p99 | max | Missing | Unexpected |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    out.push(`| raw SSE stream | ${num(k.raw.samples)} | ${ms(k.raw.p50)} | ${ms(k.raw.p99)} | ${ms(k.raw.max)} | ${k.raw.missing} | ${k.raw.unexpected} |`);
    out.push(
      `| stock SDK \`changed\` | ${num(k.sdk.samples)} | ${ms(k.sdk.p50)} | ${ms(k.sdk.p99)} | ${ms(k.sdk.max)} | ${k.sdk.missing} | ${k.sdk.unexpected} |`,
    );
    out.push(
      `| admin kill/restore round trip | ${k.adminRoundTrip.samples} | ${ms(k.adminRoundTrip.p50)} | ${ms(k.adminRoundTrip.p99)} | ${ms(k.adminRoundTrip.max)} | ${k.adminRoundTrip.failed} failed | |`,
      '',
    );
    out.push(
      `CPU during the kill/restore phase (% of one core): controller ${k.cpu.serverPct ?? '?'}% (≈ ${k.cpu.serverMsPerOp ?? '?'} ms of controller CPU per kill or restore, i.e. commit + fan-out to every stream), bench process (readers + SDKs) ${k.cpu.benchPct}%, rest of machine ${k.cpu.otherPct ?? '?'}%. The readers share the machine with the controller, so each latency includes the reader's own wait for CPU. Streams are written in the order they connected and the SDKs connected last, so SDK latencies sit at the tail of the raw ones.`,
      '',
    );
    if (k.raw.closedDuringRun > 0) out.push(`${k.raw.closedDuringRun} raw streams were closed by the server during the run.`, '');
    if (k.sdk.warnings.length > 0) out.push('SDK warnings:', '', ...k.sdk.warnings.map((w) => `- ${w}`), '');
  }
  if (r.rolloutTick) out.push(...renderRolloutTick(r.rolloutTick));
  if (r.rolloutTickUnits) out.push(...renderRolloutTick(r.rolloutTickUnits));
  if (r.breach) out.push(...renderBreach(r.breach, r.rolloutTick));
  if (r.evaluation) out.push(...renderEvaluationSection(r.evaluation));
  if (r.notes.length > 0) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

/** The tick's check line (or its failure to complete); `what` tells the variants apart. */
function tickChecks(t: RolloutTickResult | undefined, error: string | undefined, what: string): Check[] {
  if (t) {
    const errors = t.main.ticks.reduce((n, x) => n + x.errors, 0);
    return [
      {
        name: `rollout loop: one tick over ${num(t.rollouts)} active rollouts${what} (concurrency ${t.concurrency}, ${t.main.ticks.length} tick${t.main.ticks.length > 1 ? 's' : ''})`,
        target: `< ${num(t.targetMs)} ms (≥ ${num(Math.ceil((t.rollouts / t.targetMs) * 1000))} rollouts/s)`,
        measured: `${num(t.tickMs.p50)} ms p50, ${num(t.tickMs.max)} ms max (${num(t.rolloutsPerSecond)} rollouts/s)${errors ? `, ${errors} errors` : ''}`,
        pass: t.pass,
      },
    ];
  }
  if (!error) return [];
  return [{ name: `rollout loop: one tick over 10,000 active rollouts${what}`, target: '< 2,000 ms', measured: `did not complete: ${error}`, pass: false }];
}

function fd(l: { soft: string; hard: string } | undefined): string {
  return l ? `${l.soft}/${l.hard}` : 'unknown';
}

function tickRow(label: string, t: TickFigures): string {
  const rps = t.analysed > 0 && t.wallMs > 0 ? num(Math.round((t.analysed / t.wallMs) * 1000)) : '—';
  return `| ${label} | ${t.concurrency} | ${num(t.analysed)} | ${num(t.wallMs)} | ${rps} | ${t.bucketsRead} | ${num(t.controllerCpuMs)} | ${t.redisCpuMs === undefined ? '?' : num(t.redisCpuMs)} | ${num(t.leaseAndListMs)} | ${t.changed} | ${t.errors} |`;
}

function renderRolloutTick(t: RolloutTickResult): string[] {
  const m = t.main;
  const out: string[] = [`## Rollout loop: one tick over many active rollouts${t.units ? ', outcomes with per-user counts' : ''}`, ''];
  out.push(
    `\`RolloutLoop.tick()\` runs in a fresh process of its own (not pinned, as a controller process is not; its garbage collector works on helper threads), built as \`src/controller.ts\` builds it (RedisStore → RolloutService, StoreOutcomeSource → RolloutLoop), with an injected clock, against its own redis-server${m.redisPinned ? ' pinned to CPU 1' : ''}. ` +
      `${num(m.rollouts)} flags and running rollouts (policy: steps 1/10/50/100 %, gates error_rate ≤ 0.01 and latency_p99 ≤ 500 ms, rollback rule error_rate > 0.05 for 1m; analysis every ${m.analysisIntervalMs / 1000} s): one made through PolicyService/FlagService/RolloutService.start, the rest copies of its documents written with \`store.commit\` (${num(m.seed.docsMs)} ms). ` +
      `Every flag has outcome counters (both cohorts, 5-bound latency histogram: 16 fields${t.units ? "; and per-user counts as the SDK helper sends them, treatment's in the 16 of the 64 hashed user buckets that a 1 % step fills, control's in all 64: one vector field each for requests and, where there were any, errors" : ''}) recorded with \`StoreOutcomeSource.record\` in every ${m.bucketMs / 1000} s bucket its windows read (${num(m.seed.counterBuckets)} buckets in ${num(m.seed.outcomesMs)} ms). ` +
      `Each step began one analysis interval before the first tick; the clock moves on one interval before each tick, so every rollout is due every time. Lease TTL 30 s.`,
    '',
  );
  out.push(
    '| Tick | Concurrency | Rollouts analysed | Wall ms | Rollouts/s | Counter buckets read per rollout | Controller CPU ms | Redis CPU ms | Lease + list ms | Changed | Errors |',
  );
  out.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  m.ticks.forEach((x, i) => out.push(tickRow(`${i + 1}${i === 0 ? ' (includes warm-up)' : ''}`, x)));
  if (m.readsStubbed) out.push(tickRow('outcome reads answered from memory', m.readsStubbed));
  if (m.idle) out.push(tickRow('nothing due', m.idle));
  out.push('');
  out.push(
    `Controller CPU ${t.cpuMsPerRollout} ms per rollout analysed (includes GC threads, so it can exceed wall time); the budget for ${num(t.rollouts)} in ${num(t.targetMs)} ms on one core is ${Math.round((t.targetMs / t.rollouts) * 1000) / 1000} ms.`,
    '',
  );
  if (t.split) {
    const total = t.split.leaseAndListMs + t.split.outcomeReadsMs + t.split.restMs;
    const pct = (n: number) => `${Math.round((n / total) * 100)}%`;
    out.push(
      `Where the median tick's ${num(total)} ms go: lease + listing the rollout records (versions, and the records that changed since this process last read or wrote them) ${num(t.split.leaseAndListMs)} ms (${pct(t.split.leaseAndListMs)}); outcome counter reads and sums ${num(t.split.outcomeReadsMs)} ms (${pct(t.split.outcomeReadsMs)}: the tick minus the same tick with \`OutcomeSource.sum\` answered from memory); the rest ${num(t.split.restMs)} ms (${pct(t.split.restMs)}: \`decide\` for each rollout and one fenced compare-and-set commit per batch of ${DEFAULT_BATCH_SIZE}). Outcome reads are batched too (one store call per batch), so answering them from memory saves little and can cost more.`,
      '',
    );
  }
  const median = m.ticks.find((x) => x.wallMs === t.tickMs.p50) ?? m.ticks[0];
  if (median) {
    out.push(
      'Store calls per rollout in the median tick, and the average time each was in flight (calls overlap: up to the concurrency at once, so these are waits, not CPU):',
      '',
    );
    out.push('| Call | Per rollout | Avg in flight |', '| --- | ---: | ---: |');
    for (const [kind, v] of Object.entries(median.perRollout).filter(([, v]) => v.calls > 0)) out.push(`| ${kind} | ${v.calls} | ${v.ms} ms |`);
    out.push('');
    const perRollout = Object.values(median.redisCommandsPerRollout).reduce((a, b) => a + b, 0);
    out.push(
      `redis-server executed ${num(median.redisCommandsTotal)} commands in that tick, ${Math.round(perRollout * 10) / 10} per rollout (those inside the commit script included): ${Object.entries(
        median.redisCommandsPerRollout,
      )
        .map(([cmd, n]) => `${cmd.toUpperCase()} ${n}`)
        .join(
          ', ',
        )}. Each analysis rewrites the rollout's record (${num(m.rolloutDocBytes)} B of JSON; its plan and history are kept apart and written only with a transition).`,
      '',
    );
  }
  if (t.sweep) {
    const s = t.sweep;
    out.push(
      `Concurrency sweep on ${num(s.rollouts)} rollouts (same setup, one tick each; the first warms up): ${s.ticks.map((x, i) => `${x.concurrency} → ${num(x.wallMs)} ms${i === 0 ? ' (warm-up)' : ''}`).join(', ')}.`,
      '',
    );
  }
  return out;
}

function renderBreach(b: BreachLatencyResult, tick?: RolloutTickResult): string[] {
  const out: string[] = ['## Breach → flag served disabled', ''];
  out.push(
    `A controller process of its own on its own redis-server${b.pinned ? ' (both pinned to CPU 1)' : ''}, ROLLOUT_TICK_MS=${b.tickMs}, OUTCOME_BUCKET_MS=${b.bucketMs}; policy analysed every ${num(b.analysisIntervalMs)} ms with the rollback rule error_rate > 0.05 for 0s (min 10 samples). ` +
      `Healthy outcomes (20 treatment + 180 control requests, no errors, per flag) are posted every 100 ms throughout. Each breach: a fresh rollout (on one of a few flags in turn, its kill switch restored first), then, at a delay spread evenly over one analysis interval, one POST /api/metrics/outcomes of 200 treatment requests with 100 errors. ` +
      `Latency runs from that POST's 202 (the breach is in the counters) to a raw SSE stream receiving the flag with \`enabled: false\`; "decided" is the rolled_back transition's timestamp (controller clock, same machine).`,
    '',
  );
  out.push('| Interval | Samples | p50 | p99 | max |', '| --- | ---: | ---: | ---: | ---: |');
  out.push(`| 202 → SSE \`enabled: false\` | ${b.latency.samples} | ${ms(b.latency.p50)} | ${ms(b.latency.p99)} | ${ms(b.latency.max)} |`);
  out.push(`| 202 → loop decides rolled_back | ${b.detect.samples} | ${ms(b.detect.p50)} | ${ms(b.detect.p99)} | ${ms(b.detect.max)} |`);
  out.push(`| decision → SSE | ${b.propagate.samples} | ${ms(b.propagate.p50)} | ${ms(b.propagate.p99)} | ${ms(b.propagate.max)} |`);
  out.push(`| outcome POST round trip | ${b.post.samples} | ${ms(b.post.p50)} | ${ms(b.post.p99)} | ${ms(b.post.max)} |`, '');
  out.push(
    `Target ≤ ${num(b.targetMs)} ms; ${b.missed} breaches never disabled the flag, ${b.early} rollouts were rolled back before their breach. Per breach (delay after the rollout's start → latency): ${b.samples.map((x) => `${num(x.offsetMs)} → ${x.latencyMs}`).join(', ')} ms. The wait for the next analysis dominates: latency ≈ time to the rollout's next due analysis, so it spreads over 0 … one interval.`,
    '',
  );
  if (tick) {
    out.push(
      `This ran with one active rollout. The loop analyses the rollouts due in one pass and the next pass starts after it, so a breach also waits for the pass in progress: at the ${num(tick.rolloutsPerSecond)} rollouts/s measured above, a pass over ${num(tick.rollouts)} due rollouts takes ≈ ${num(tick.tickMs.p50)} ms, which a breach on any of them can add to the figures here.`,
      '',
    );
  }
  return out;
}
