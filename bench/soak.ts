/**
 * `npm run soak`: a long run under steady load against controller process(es) on a real redis-server,
 * judged on what goes wrong slowly: memory that creeps, streams that drop updates, latencies that
 * drift, errors. Not part of CI. Writes bench/reports/soak-latest.{md,json}.
 *
 *   npm run soak                                             # 30 min, 1,000 streams, 3,000 polls/s, 100 rollouts
 *   npm run soak -- --minutes 3 --streams 300 --rps 500      # a short run
 *   npm run soak -- --replicas 2                             # two replicas: streams, polls and calls split between them
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { buildFixture, KILL_FLAG } from './fixture.js';
import { openFileLimits } from './stack.js';
import { percentiles } from './kill-latency.js';
import { summaryTable } from './report.js';
import { matchDeliveries, rolloutChanges, type FlagChange } from './soak-deliveries.js';
import { killLoop, outcomeFeeder, rolloutKeeper, type Timed } from './soak-changes.js';
import { openStreamPool, type StreamPool } from './soak-streams.js';
import { createPoller, type PollMinute, type Poller } from './soak-polls.js';
import { startSampler, type Sampler } from './soak-samples.js';
import { startSoakStack, withRolloutFlags, type SoakStack } from './soak-stack.js';
import { groupOf, memoryVerdicts, minuteOf, minuteRows, overallLatency, soakChecks, type SoakOptions } from './soak-report.js';
import { renderSoakMarkdown, type SoakReport } from './soak-markdown.js';
import { controllerLogSummary } from './soak-log.js';
import { wrkVersion } from './wrk-load.js';

const POLICY = 'soak';
const GRACE_MS = 5_000;
const REPORT_DIR = path.resolve(import.meta.dirname, 'reports');

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a positive number');
  return n;
};
const program = new Command('soak')
  .description('Soak test: steady streams, polls, kill flips and ticking rollouts against controller process(es) on a real redis-server.')
  .option('--minutes <n>', 'length of the soak, whole minutes', (v) => Math.max(2, Math.round(positive(v))), 30)
  .option('--streams <n>', 'SSE streams held open', (v) => Math.round(positive(v)), 1000)
  .option('--rps <n>', 'polls of /api/client/features per second', positive, 3000)
  .option('--rollouts <n>', 'rollouts kept ticking', (v) => Math.round(positive(v)), 100)
  .option('--replicas <n>', 'controller replicas (1 or 2)', (v) => Math.min(2, Math.round(positive(v))), 1)
  .option('--warmup-minutes <n>', 'minutes left out of the memory verdict (default: a sixth of the run, 1 to 5)', positive)
  .option('--kill-every-seconds <n>', 'seconds between kill-switch flips', positive, 3)
  .option('--step-seconds <n>', 'minimum duration of each rollout step', positive, 60)
  .option('--analysis-seconds <n>', 'analysis interval of the rollouts', positive, 5)
  .option('--poll-connections <n>', 'polling connections per replica', (v) => Math.round(positive(v)), 50)
  .option('--sample-seconds <n>', 'seconds between resource samples', positive, 5)
  .option('--no-pin', 'do not pin processes to CPUs with taskset')
  .option('--render <json>', 'only write the Markdown report again from a JSON report (after the renderer changed)');
program.parse();
const cli = program.opts();
if (cli.render) {
  const report = JSON.parse(readFileSync(cli.render, 'utf8')) as SoakReport;
  writeFileSync(cli.render.replace(/\.json$/, '.md'), renderSoakMarkdown(report));
  process.exit(0);
}
const options: SoakOptions = {
  minutes: cli.minutes,
  streams: cli.streams,
  rps: cli.rps,
  rollouts: cli.rollouts,
  replicas: cli.replicas,
  warmupMinutes: Math.min(cli.warmupMinutes ?? Math.min(5, Math.max(1, Math.round(cli.minutes / 6))), cli.minutes - 1),
  killEverySeconds: cli.killEverySeconds,
  stepSeconds: cli.stepSeconds,
  analysisSeconds: cli.analysisSeconds,
  pollConnections: cli.pollConnections,
  sampleSeconds: cli.sampleSeconds,
  pin: cli.pin,
};

const log = (line: string) => console.error(`[soak ${new Date().toISOString().slice(11, 19)}] ${line}`);
const rolloutFlags = Array.from({ length: options.rollouts }, (_, i) => `soak.rollout-${i}`);
const fixture = withRolloutFlags(buildFixture(200), rolloutFlags);

let stack: SoakStack | undefined;
let pool: StreamPool | undefined;
let poller: Poller | undefined;
let sampler: Sampler | undefined;

async function soak(): Promise<SoakReport> {
  log(`starting ${options.replicas} replica(s) on redis-server, ${fixture.features.length} flags`);
  stack = await startSoakStack({ replicas: options.replicas, fixture, env: {}, pin: options.pin });
  const s = stack;
  const policy = await s.admin('PUT', `/api/admin/policies/${POLICY}`, {
    name: POLICY,
    description: 'Soak test: short analysis interval, long steps, no approvals',
    steps: [1, 5, 10, 25, 50, 100],
    stepDefaults: { minDuration: options.stepSeconds * 1000, minSamples: 300, maxDuration: '1h', approval: { required: 0 } },
    analysisInterval: options.analysisSeconds * 1000,
    gates: [
      { metric: 'error_rate', cohort: 'treatment', max: 0.01, confidence: 0.95 },
      { metric: 'latency_p99_ms', cohort: 'treatment', max: 500 },
    ],
    rollback: [{ metric: 'error_rate', above: 0.05, for: '1m', confidence: 0.95 }],
  });
  if (policy.status !== 201 && policy.status !== 200) throw new Error(`policy: ${policy.status} ${JSON.stringify(policy.body).slice(0, 300)}`);

  const watched = new Set([KILL_FLAG, ...rolloutFlags]);
  const urls = s.replicas.map((r) => r.url);
  log(`opening ${options.streams} streams`);
  pool = await openStreamPool({ urls, secret: s.clientSecret, count: options.streams, watch: (name) => watched.has(name) });
  log(`${options.streams - pool.failedToOpen} streams open in ${pool.connectMs} ms; calibrating ${options.rps} polls/s`);
  poller = await createPoller({ targets: urls, secret: s.clientSecret, rps: options.rps, connections: options.pollConnections });

  const startedAt = performance.now();
  const openPool = pool;
  sampler = startSampler({
    replicaPids: s.replicas.map((r) => r.pid),
    replicaUrls: urls,
    redisPid: s.redis.process.pid!,
    redisUrl: s.redis.url,
    everyMs: options.sampleSeconds * 1000,
    startedAt,
    openStreams: () => openPool.openCount(),
  });
  const killChanges: FlagChange[] = [];
  const kills: Timed[] = [];
  const outcomes: Timed[] = [];
  const post = async (body: unknown, replica: number) =>
    (
      await fetch(`${urls[replica % urls.length]}/api/metrics/outcomes`, {
        method: 'POST',
        headers: { Authorization: s.clientSecret, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      })
    ).status;
  const feeder = outcomeFeeder(post, urls.length, rolloutFlags, 1_000, outcomes);
  const keeper = rolloutKeeper(s.admin, urls.length, rolloutFlags, POLICY, options.stepSeconds * 1000, 10_000);
  const flipper = killLoop(s.admin, urls.length, KILL_FLAG, options.killEverySeconds * 1000, killChanges, kills);
  log(`soaking for ${options.minutes} min`);
  const polls: PollMinute[] = await poller.run(options.minutes, (m) => {
    const rss = sampler!.samples.at(-1)?.rssMiB.join('+');
    log(
      `minute ${m.minute + 1}: ${m.rps} polls/s p99 ${m.p99} ms, ${killChanges.length} flips, ${keeper.active()} rollouts active, RSS ${rss} MiB, ${openPool.openCount()} streams open`,
    );
  });
  await Promise.all([flipper.stop(), feeder.stop(), keeper.stop()]);
  const endedAt = performance.now();
  log(`changes stopped; waiting ${GRACE_MS / 1000} s for the last deliveries`);
  await new Promise((r) => setTimeout(r, GRACE_MS));
  await sampler.stop();

  // Step changes come from the rollouts' histories (controller clock), turned into this process's clock.
  const clockOffset = Date.now() - performance.now();
  const rollouts = [...keeper.rollouts.values()];
  const stepChanges = rolloutChanges(rollouts, '0', (iso) => Date.parse(iso) - clockOffset);
  const changes = [...killChanges, ...stepChanges];
  const tally = matchDeliveries(changes, pool.logs, endedAt + GRACE_MS, groupOf(minuteOf(startedAt, options.minutes)));
  const samples = sampler.samples;
  const warmupS = options.warmupMinutes * 60;
  const memory = memoryVerdicts(samples, warmupS, (endedAt - startedAt) / 1000);
  const run = {
    options,
    startedAt,
    endedAt,
    samples,
    polls,
    tally,
    changes: { kill: killChanges.length, rollout: stepChanges.length },
    kills,
    outcomes,
    rolloutStarts: keeper.started,
  };
  const pollFailures = polls.reduce((a, p) => ({ errors: a.errors + p.errors, timeouts: a.timeouts + p.timeouts, unexpected: a.unexpected + p.unexpected }), {
    errors: 0,
    timeouts: 0,
    unexpected: 0,
  });
  const failed = (logged: Timed[]) => logged.filter((x) => !x.ok).length;
  const controllerLog = s.replicas.flatMap((r, i) => controllerLogSummary(r.process.output()).map((l) => ({ replica: i, ...l })));
  const errorCount =
    pollFailures.errors + pollFailures.timeouts + pollFailures.unexpected + failed(kills) + failed(outcomes) + failed(keeper.started) + pool.disconnects;
  const killLatency = overallLatency(tally, 'kill');
  const byState: Record<string, number> = {};
  for (const r of rollouts) byState[r.state] = (byState[r.state] ?? 0) + 1;
  const first = samples[0];
  const last = samples.at(-1);
  const killCall = percentiles(kills.filter((k) => k.ok).map((k) => k.ms));
  const killAnswered = overallLatency(tally, 'answered-kill');
  return {
    generatedAt: new Date().toISOString(),
    git: gitState(),
    shortRun: options.minutes < 30 || options.streams < 1000 || options.rps < 2000 || options.rollouts < 100,
    options,
    setup: {
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      pinning: s.pinned ? 'replicas and redis-server pinned to CPU 1, the soak process and wrk to CPU 0 (taskset)' : 'no CPU pinning',
      loadGenerator: `wrk${/^\d/.test(wrkVersion() ?? '') ? ` ${wrkVersion()}` : ''} with a Lua script, one process per replica`,
      fdHardLimit: openFileLimits(s.replicas[0]!.pid)?.hard,
      fixtureFlags: fixture.features.length,
    },
    durationS: Math.round((endedAt - startedAt) / 1000),
    checks: soakChecks({
      memory,
      tally,
      errors: errorCount,
      streams: options.streams,
      killLatency,
      unexpectedRollouts: keeper.unexpected.size,
      changes: changes.length,
    }),
    memory,
    deliveries: {
      expected: tally.expected,
      delivered: tally.delivered,
      missed: tally.missed,
      missedWhileDisconnected: tally.missedWhileDisconnected,
      changes: run.changes,
      killLatency,
      killCall,
      killAnsweredLatency: killAnswered,
      rolloutLatency: overallLatency(tally, 'rollout'),
      examples: tally.examples.map((e) => ({ stream: e.stream, flag: e.flag, key: e.key, atS: Math.round((e.at - startedAt) / 100) / 10 })),
    },
    streams: {
      requested: options.streams,
      failedToOpen: pool.failedToOpen,
      connectMs: pool.connectMs,
      disconnects: pool.disconnects,
      reconnectFailures: pool.reconnectFailures,
      events: pool.events,
    },
    rollouts: {
      started: keeper.started.length - failed(keeper.started),
      startFailures: failed(keeper.started),
      byState,
      unexpected: [...keeper.unexpected].map(([id, state]) => ({ id, state })),
    },
    errors: { polls: pollFailures, failedKills: failed(kills), failedOutcomePosts: failed(outcomes), controllerLog },
    redis: { usedMiB: { start: first?.redisUsedMiB, end: last?.redisUsedMiB }, rssMiB: { start: first?.redisRssMiB, end: last?.redisRssMiB } },
    minutes: minuteRows(run),
    samples,
    notes: [],
  };
}

function gitState(): SoakReport['git'] {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    return { commit, dirty: execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], { encoding: 'utf8' }).trim() !== '' };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

async function cleanup(): Promise<void> {
  poller?.stop();
  pool?.close();
  await sampler?.stop().catch(() => undefined);
  poller?.close();
  await stack?.stop();
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));

const deadline = setTimeout(
  () => {
    log('the soak overran its time by 10 minutes; stopping');
    void cleanup().finally(() => process.exit(1));
  },
  (options.minutes + 10) * 60_000,
);

let exitCode = 0;
try {
  const report = await soak();
  mkdirSync(REPORT_DIR, { recursive: true });
  writeFileSync(path.join(REPORT_DIR, 'soak-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(REPORT_DIR, 'soak-latest.md'), renderSoakMarkdown(report));
  console.log(`\n${summaryTable(report.checks)}\n\nReport: bench/reports/soak-latest.md`);
  exitCode = report.checks.every((c) => c.pass) ? 0 : 1;
} catch (err) {
  log(`soak failed: ${err instanceof Error ? err.stack : String(err)}`);
  exitCode = 1;
} finally {
  clearTimeout(deadline);
  await cleanup();
}
// Nothing of ours may keep the process alive (stream sockets, timers); exit once the report is written.
process.exit(exitCode);
