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
  };
  features: Array<LoadResult & { store: string; encoding: string }>;
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
    checks.push({ name: 'features, full gzip body, req/s (200 flags, 32 conns)', target: `≥ ${num(targets.rps)}/s`, measured: `${num(full.rps)}/s`, pass: full.rps >= targets.rps && full.unexpected === 0 && full.errors === 0 });
    checks.push({ name: 'features, full gzip body, p99 latency', target: `< ${targets.p99Ms} ms`, measured: ms(full.latency.p99), pass: full.latency.p99 < targets.p99Ms });
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
  out.push(`- Everything on 127.0.0.1. The controller runs as its own process (\`node --import tsx src/main.ts\`, LOG_LEVEL=info); the load generator (${s.loadGenerator}), the SSE readers and the SDKs share the same ${s.cpus} cores, so figures are lower bounds for a dedicated server core.`);
  out.push(`- ${s.connections} connections, no pipelining; run lengths (s): ${Object.entries(s.durationsS).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  out.push(`- Fixture: ${s.fixture.flags} flags, ${s.fixture.segments} segments (flexibleRollout with constraints, segments, strategy and flag variants with payloads); body ${s.fixture.gzipBytes ?? '?'} B gzip / ${s.fixture.identityBytes ?? '?'} B identity.`);
  out.push(`- Open-file limit (soft/hard): bench ${fd(s.fdLimits.bench)}, controller ${fd(s.fdLimits.server)}.`);
  out.push(`- Baseline: ${s.baseline}`, '');
  if (r.features.length > 0) {
    out.push('## GET /api/client/features', '');
    out.push('| Run | Store | Encoding | Body B | req/s | p50 | p90 | p99 | max | Statuses | Errors | Server CPU | Load-gen CPU |');
    out.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |');
    for (const f of r.features) {
      const statuses = Object.entries(f.statusCodes).map(([c, n]) => `${c}×${num(n)}`).join(' ');
      out.push(`| ${f.label} | ${f.store} | ${f.encoding} | ${num(f.bodyBytesPerRequest)} | ${num(f.rps)} | ${ms(f.latency.p50)} | ${ms(f.latency.p90)} | ${ms(f.latency.p99)} | ${ms(f.latency.max)} | ${statuses} | ${f.errors + f.timeouts} | ${f.serverCpuPct ?? '?'}% | ${f.loadGenCpuPct}% |`);
    }
    out.push('', 'CPU is the share of one core used during the run (100% = one core saturated). Latency resolution is 1 ms (autocannon).', '');
  }
  if (r.kill) {
    const k = r.kill;
    out.push('## Kill-to-SDK latency', '');
    out.push(`${num(k.streams)} raw SSE streams + ${k.sdks} stock \`unleash-client\` SDKs (streaming mode) on \`GET /api/client/streaming\`; ${k.ops} kill/restore operations ${k.spacingMs} ms apart. Latency is from sending the admin request to the stream receiving \`unleash-updated\` with the new state (raw) or the SDK emitting \`changed\` with \`isEnabled\` flipped.`, '');
    out.push(`Opening the ${num(k.streams)} streams took ${num(k.connect.ms)} ms (${k.connect.failed} failed); the controller then held ${k.connect.serverFds ?? '?'} file descriptors.`, '');
    out.push('| Receiver | Samples | p50 | p99 | max | Missing | Unexpected |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
    out.push(`| raw SSE stream | ${num(k.raw.samples)} | ${ms(k.raw.p50)} | ${ms(k.raw.p99)} | ${ms(k.raw.max)} | ${k.raw.missing} | ${k.raw.unexpected} |`);
    out.push(`| stock SDK \`changed\` | ${num(k.sdk.samples)} | ${ms(k.sdk.p50)} | ${ms(k.sdk.p99)} | ${ms(k.sdk.max)} | ${k.sdk.missing} | ${k.sdk.unexpected} |`);
    out.push(`| admin kill/restore round trip | ${k.adminRoundTrip.samples} | ${ms(k.adminRoundTrip.p50)} | ${ms(k.adminRoundTrip.p99)} | ${ms(k.adminRoundTrip.max)} | ${k.adminRoundTrip.failed} failed | |`, '');
    if (k.raw.closedDuringRun > 0) out.push(`${k.raw.closedDuringRun} raw streams were closed by the server during the run.`, '');
    if (k.sdk.warnings.length > 0) out.push('SDK warnings:', '', ...k.sdk.warnings.map((w) => `- ${w}`), '');
  }
  if (r.notes.length > 0) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}

function fd(l: { soft: string; hard: string } | undefined): string {
  return l ? `${l.soft}/${l.hard}` : 'unknown';
}
