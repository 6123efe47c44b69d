/**
 * `npm run bench`: serves a 200-flag fixture from a controller process on 127.0.0.1 and measures
 * (1) GET /api/client/features under autocannon (gzip, 304, identity; Redis and embedded store) and
 * (2) kill-to-SDK latency with 1,000 SSE streams and a few stock SDKs. Writes bench/reports/latest.{md,json}.
 * BENCH_QUICK=1 shortens every run (for iterating on the bench itself, not for figures).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { createRequire } from 'node:module';
import path from 'node:path';
import { buildFixture, KILL_FLAG } from './fixture.js';
import { fetchRaw, runLoad, sdkHeaders } from './http-load.js';
import { measureKillLatency } from './kill-latency.js';
import { buildChecks, renderMarkdown, summaryTable, type Report } from './report.js';
import { ENV, openFileLimits, startStack, type Stack } from './stack.js';

const QUICK = process.env.BENCH_QUICK === '1';
const CONNECTIONS = 32;
const DURATIONS = QUICK
  ? { warmup: 1, full: 3, notModified: 2, identity: 2, embedded: 2 }
  : { warmup: 3, full: 15, notModified: 10, identity: 8, embedded: 8 };
const KILL = { streams: 1000, sdks: 5, ops: QUICK ? 10 : 50, spacingMs: 200 };
const TARGETS = { rps: 12_500, p99Ms: 10, killP99Ms: 100 };
const DEADLINE_MS = 5 * 60_000;
const PATH = '/api/client/features';
const REPORT_DIR = path.resolve(import.meta.dirname, 'reports');

const fixture = buildFixture(200);
const stacks = new Set<Stack>();

const report: Report = {
  generatedAt: new Date().toISOString(),
  git: gitState(),
  setup: {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadGenerator: `autocannon ${autocannonVersion()} in the bench process`,
    connections: CONNECTIONS,
    durationsS: DURATIONS,
    fixture: { flags: fixture.features.length, segments: fixture.segments.length },
    fdLimits: { bench: openFileLimits('self') },
    baseline: 'Unleash 8.2 on this machine class served about 2,500 full 50-flag responses/s at 32 connections; target is 5× that at 200 flags.',
  },
  features: [],
  checks: [],
  notes: QUICK ? ['BENCH_QUICK=1: shortened runs, figures are indicative only.'] : [],
};

async function start(store: 'redis' | 'embedded'): Promise<Stack> {
  const stack = await startStack(store, fixture);
  stacks.add(stack);
  return stack;
}

async function stop(stack: Stack): Promise<void> {
  stacks.delete(stack);
  await stack.stop();
}

/** Checks one request of each kind by hand (status, encoding, size), then loads each for a fixed time. */
async function benchFeatures(stack: Stack, runs: Array<'full' | 'notModified' | 'identity'>, durations: Record<string, number>): Promise<void> {
  const gzipHeaders = sdkHeaders(stack.clientSecret, { 'Accept-Encoding': 'gzip, deflate' });
  const gz = await fetchRaw(stack.url, PATH, gzipHeaders);
  if (gz.status !== 200 || gz.headers['content-encoding'] !== 'gzip') throw new Error(`${stack.store}: expected a 200 gzip body, got ${gz.status} ${gz.headers['content-encoding']}`);
  const identityHeaders = sdkHeaders(stack.clientSecret, { 'Accept-Encoding': 'identity' });
  const identity = await fetchRaw(stack.url, PATH, identityHeaders);
  if (identity.status !== 200 || identity.headers['content-encoding']) throw new Error(`${stack.store}: expected a 200 identity body, got ${identity.status}`);
  const etag = String(gz.headers.etag);
  const notModifiedHeaders = { ...gzipHeaders, 'If-None-Match': etag };
  const nm = await fetchRaw(stack.url, PATH, notModifiedHeaders);
  if (nm.status !== 304) throw new Error(`${stack.store}: expected 304 for If-None-Match ${etag}, got ${nm.status}`);
  if (stack.store === 'redis') Object.assign(report.setup.fixture, { gzipBytes: gz.bytes, identityBytes: identity.bytes, etag });

  const common = { url: stack.url, path: PATH, connections: CONNECTIONS, serverPid: stack.pid };
  await runLoad({ ...common, label: 'warmup', headers: gzipHeaders, durationS: durations.warmup!, expectStatus: 200 });
  const variants = {
    full: { headers: gzipHeaders, encoding: 'gzip', status: 200, bytes: gz.bytes },
    notModified: { headers: notModifiedHeaders, encoding: 'gzip (304)', status: 304, bytes: nm.bytes },
    identity: { headers: identityHeaders, encoding: 'identity', status: 200, bytes: identity.bytes },
  };
  for (const run of runs) {
    const v = variants[run];
    const result = await runLoad({ ...common, label: run, headers: v.headers, durationS: durations[run]!, expectStatus: v.status });
    report.features.push({ ...result, store: stack.store, encoding: v.encoding, bodyBytesPerRequest: v.bytes });
    console.error(`  ${stack.store} ${run}: ${result.rps}/s p50 ${result.latency.p50} ms p99 ${result.latency.p99} ms (${JSON.stringify(result.statusCodes)}, server CPU ${result.serverCpuPct}%)`);
  }
}

async function main(): Promise<void> {
  console.error(`bench: ${fixture.features.length} flags, ${CONNECTIONS} connections${QUICK ? ' (quick)' : ''}`);
  const redis = await start('redis');
  report.setup.fdLimits.server = openFileLimits(redis.pid);
  await benchFeatures(redis, ['full', 'notModified', 'identity'], DURATIONS);

  console.error(`  kill latency: opening ${KILL.streams} streams + ${KILL.sdks} SDKs…`);
  report.kill = await measureKillLatency({ ...KILL, url: redis.url, adminToken: redis.adminToken, clientSecret: redis.clientSecret, env: ENV, flag: KILL_FLAG, serverPid: redis.pid });
  console.error(`  kill latency: raw p99 ${report.kill.raw.p99} ms, SDK p99 ${report.kill.sdk.p99} ms, missing ${report.kill.raw.missing + report.kill.sdk.missing}`);
  await stop(redis);

  const embedded = await start('embedded');
  await benchFeatures(embedded, ['full'], { warmup: DURATIONS.warmup, full: DURATIONS.embedded });
  await stop(embedded);
}

function finish(error?: unknown): void {
  if (error) report.error = error instanceof Error ? error.message.split('\n')[0]! : String(error);
  const limits = report.setup.fdLimits;
  const soft = Number(limits.server?.soft ?? limits.bench?.soft);
  if (Number.isFinite(soft) && soft < KILL.streams + 200) {
    report.notes.push(`The open-file soft limit (${soft}) is below what ${KILL.streams} streams need (≈ ${KILL.streams + 100} descriptors per process): raise it with \`ulimit -n\` or LimitNOFILE before running this, and in production.`);
  } else {
    report.notes.push(`The open-file soft limit (${limits.server?.soft ?? '?'}) covers ${KILL.streams} streams here; with the common default of 1024 a replica could not hold 1,000 SDK streams, so deployments must raise it (LimitNOFILE / ulimit -n).`);
  }
  report.checks = buildChecks(report, TARGETS);
  mkdirSync(REPORT_DIR, { recursive: true });
  writeFileSync(path.join(REPORT_DIR, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(REPORT_DIR, 'latest.md'), renderMarkdown(report));
  console.log(`\n${summaryTable(report.checks)}\n`);
  console.log(`Node ${report.setup.node}, ${report.setup.cpus} cores shared by server and load generator, ${CONNECTIONS} connections. Report: bench/reports/latest.md`);
  if (error) console.error(`bench failed: ${error instanceof Error ? error.stack : String(error)}`);
}

async function cleanup(): Promise<void> {
  await Promise.allSettled([...stacks].map((s) => stop(s)));
}

let deadline: NodeJS.Timeout | undefined;
const timedOut = new Promise<never>((_, reject) => {
  deadline = setTimeout(() => reject(new Error(`bench exceeded ${DEADLINE_MS / 1000} s`)), DEADLINE_MS);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  await Promise.race([main(), timedOut]);
  finish();
} catch (err) {
  finish(err);
  process.exitCode = 1;
} finally {
  clearTimeout(deadline);
  await cleanup();
}
// Nothing of ours may keep the process alive (SDK timers, sockets); exit once the report is written.
process.exit(process.exitCode ?? 0);

function gitState(): Report['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

function autocannonVersion(): string {
  try {
    return (createRequire(import.meta.url)('autocannon/package.json') as { version: string }).version;
  } catch {
    return '?';
  }
}
