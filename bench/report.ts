import type { LoadResult } from './http-load.js';
import type { KillLatencyResult } from './kill-latency.js';

export interface Check { name: string; target: string; measured: string; pass: boolean }

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
    checks.push({ name: `features, full gzip body, req/s (200 flags, 32 conns)${note}`, target: `≥ ${num(targets.rps)}/s`, measured: `${num(full.rps)}/s`, pass: full.rps >= targets.rps && full.unexpected === 0 && full.errors === 0 });
    checks.push({ name: `features, full gzip body, p99 latency${note}`, target: `< ${targets.p99Ms} ms`, measured: ms(full.latency.p99), pass: full.latency.p99 < targets.p99Ms });
    if (full.serverCpuUsPerRequest !== undefined) {
      // Independent of the shared cores: what one dedicated core could serve at this CPU cost per response.
      const budget = Math.floor(1e6 / targets.rps);
      checks.push({ name: 'controller CPU per full gzip response (harness-independent)', target: `≤ ${budget} µs (${num(targets.rps)}/s on one core)`, measured: `${full.serverCpuUsPerRequest} µs (≈ ${num(full.projectedRpsPerCore ?? 0)}/s per core)`, pass: full.serverCpuUsPerRequest <= budget });
    }
  }
  const k = report.kill;
  if (k) {
    checks.push({ name: `kill → raw SSE stream (${num(k.streams)} streams), p99`, target: `< ${targets.killP99Ms} ms`, measured: ms(k.raw.p99), pass: k.raw.p99 < targets.killP99Ms });
    checks.push({ name: `kill → stock SDK \`changed\` (${k.sdks} SDKs), p99`, target: `< ${targets.killP99Ms} ms`, measured: ms(k.sdk.p99), pass: k.sdk.p99 < targets.killP99Ms });
    const expected = (k.streams + k.sdks) * k.ops;
    const missing = k.raw.missing + k.sdk.missing + k.connect.failed * k.ops;
    checks.push({ name: 'every stream and SDK got every update', target: `0 missing of ${num(expected)}`, measured: `${num(missing)} missing`, pass: missing === 0 && k.raw.unexpected + k.sdk.unexpected === 0 });
  }
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
  out.push(`- Everything on 127.0.0.1. The controller runs as its own process (\`node --import tsx src/main.ts\`, LOG_LEVEL=info); the load generator (${s.loadGenerator}), the SSE readers and the SDKs run in the bench process on the same ${s.cpus}-core machine.`);
  out.push(`- CPU pinning: ${s.pinning ?? 'none'}.`);
  out.push(`- ${s.connections} connections, no pipelining; run lengths (s): ${Object.entries(s.durationsS).map(([k, v]) => `${k} ${v}`).join(', ')}; full-body runs are repeated 3 times and the median reported. Each run starts once the machine is idle; a run during which other processes used > 30% of a core is repeated.`);
  out.push(`- Fixture: ${s.fixture.flags} flags, ${s.fixture.segments} segments (flexibleRollout with constraints, segments, strategy and flag variants with payloads); body ${s.fixture.gzipBytes ?? '?'} B gzip / ${s.fixture.identityBytes ?? '?'} B identity.`);
  out.push(`- Open-file limit (soft/hard): bench ${fd(s.fdLimits.bench)}, controller ${fd(s.fdLimits.server)}.`);
  out.push(`- Baseline: ${s.baseline}`, '');
  if (r.features.length > 0) {
    out.push('## GET /api/client/features', '');
    out.push('| Run | Store | Encoding | Body B | req/s | p50 | p90 | p99 | max | Statuses | Errors | Server CPU | µs CPU/req | req/s per server core | Load-gen CPU | Rest of machine |');
    out.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const f of r.features) {
      const statuses = Object.entries(f.statusCodes).map(([c, n]) => `${c}×${num(n)}`).join(' ');
      const repeats = f.repeatsRps ? ` (median of ${f.repeatsRps.map(num).join(' / ')})` : '';
      out.push(`| ${f.label}${f.disturbed ? ' (disturbed)' : ''} | ${f.store} | ${f.encoding} | ${num(f.bodyBytesPerRequest)} | ${num(f.rps)}${repeats} | ${ms(f.latency.p50)} | ${ms(f.latency.p90)} | ${ms(f.latency.p99)} | ${ms(f.latency.max)} | ${statuses} | ${f.errors + f.timeouts} | ${f.serverCpuPct ?? '?'}% | ${f.serverCpuUsPerRequest ?? '?'} | ${f.projectedRpsPerCore === undefined ? '?' : num(f.projectedRpsPerCore)} | ${f.loadGenCpuPct}% | ${f.otherCpuPct ?? '?'}% |`);
    }
    out.push('', `CPU is in % of one core over the run (the machine has ${s.cpus * 100}%); "rest of machine" is everything else (other processes, kernel softirq): a high figure means the run was disturbed. Latency resolution is 1 ms with autocannon ("0 ms" means under 1 ms), 10 µs with wrk. The "reference" rows serve the controller's exact bytes from a bare node:http process (no framework, no auth): the ceiling this machine and load generator allow.`, '');
  }
  if (r.kill) {
    const k = r.kill;
    out.push('## Kill-to-SDK latency', '');
    out.push(`${num(k.streams)} raw SSE streams + ${k.sdks} stock \`unleash-client\` SDKs (streaming mode) on \`GET /api/client/streaming\`; ${k.ops} kill/restore operations ${k.spacingMs} ms apart. Latency is from sending the admin request to the stream receiving \`unleash-updated\` with the new state (raw) or the SDK emitting \`changed\` with \`isEnabled\` flipped.`, '');
    const c = k.connect;
    out.push(`Opening the ${num(k.streams)} streams (50 at a time) took ${num(c.ms)} ms (${c.failed} failed), ${c.serverCpuMsPerStream ?? '?'} ms of controller CPU per stream (each gets a full hydration). Meanwhile GET /healthz took p50 ${ms(c.healthzDuringConnect.p50)}, p99 ${ms(c.healthzDuringConnect.p99)}, max ${ms(c.healthzDuringConnect.max)} (${c.healthzDuringConnect.samples} probes). With the streams open the controller held ${c.serverFds ?? '?'} file descriptors and the bench process ${c.benchFds ?? '?'}.`, '');
    out.push('| Receiver | Samples | p50 | p99 | max | Missing | Unexpected |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    out.push(`| raw SSE stream | ${num(k.raw.samples)} | ${ms(k.raw.p50)} | ${ms(k.raw.p99)} | ${ms(k.raw.max)} | ${k.raw.missing} | ${k.raw.unexpected} |`);
    out.push(`| stock SDK \`changed\` | ${num(k.sdk.samples)} | ${ms(k.sdk.p50)} | ${ms(k.sdk.p99)} | ${ms(k.sdk.max)} | ${k.sdk.missing} | ${k.sdk.unexpected} |`);
    out.push(`| admin kill/restore round trip | ${k.adminRoundTrip.samples} | ${ms(k.adminRoundTrip.p50)} | ${ms(k.adminRoundTrip.p99)} | ${ms(k.adminRoundTrip.max)} | ${k.adminRoundTrip.failed} failed | |`, '');
    out.push(`CPU during the kill/restore phase (% of one core): controller ${k.cpu.serverPct ?? '?'}% (≈ ${k.cpu.serverMsPerOp ?? '?'} ms of controller CPU per kill or restore, i.e. commit + fan-out to every stream), bench process (readers + SDKs) ${k.cpu.benchPct}%, rest of machine ${k.cpu.otherPct ?? '?'}%. The readers share the machine with the controller, so each latency includes the reader's own wait for CPU. Streams are written in the order they connected and the SDKs connected last, so SDK latencies sit at the tail of the raw ones.`, '');
    if (k.raw.closedDuringRun > 0) out.push(`${k.raw.closedDuringRun} raw streams were closed by the server during the run.`, '');
    if (k.sdk.warnings.length > 0) out.push('SDK warnings:', '', ...k.sdk.warnings.map((w) => `- ${w}`), '');
  }
  if (r.notes.length > 0) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

function fd(l: { soft: string; hard: string } | undefined): string {
  return l ? `${l.soft}/${l.hard}` : 'unknown';
}
