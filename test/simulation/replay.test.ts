import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POLICIES } from '../../src/policies/policy-service.js';
import type { Rollout } from '../../src/rollouts/rollout-model.js';
import { renderReplayReport } from '../../src/simulation/replay/replay-report.js';
import { replayStored, selectRollouts, type ReplayResult } from '../../src/simulation/replay/replay-run.js';
import { openEmbeddedStore } from '../../src/store/embedded-store.js';
import { createRedisStore, openStoreReader } from '../../src/store/index.js';
import type { Store, StoreReader } from '../../src/store/port.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { APPROVER, BUCKET_MS, fixturePolicy, recordRollout } from './replay-fixtures.js';

/**
 * `npm run simulate -- --replay`: stored rollouts replayed, read-only, under a policy. The rollouts
 * here are recorded as the controller records them (replay-fixtures.ts): outcomes in the store's
 * buckets, the leader's Measure and decide(), a release manager's approvals, the documents committed.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const HOUR = 3_600_000;
const aligned = (t: number) => Math.floor(t / BUCKET_MS) * BUCKET_MS;
const now = Date.now();
const policy = fixturePolicy('fixture-plan');
/** Gates far too lenient to stop a tenfold regression, and no rollback rule. */
const lenient = fixturePolicy('lenient', {
  gates: [{ metric: 'error_rate', cohort: 'treatment', max: 0.5 }],
  rollback: [],
});
/** The fixture plan with a stricter absolute gate that fails on fewer samples. */
const strict = fixturePolicy('strict', {
  stepDefaults: { minDuration: '2m', minSamples: 50, maxDuration: '30m', approval: { required: 1, roles: ['release-manager'] } },
  gates: [{ metric: 'error_rate', cohort: 'treatment', max: 0.01, confidence: 0.9 }],
});

const replayed = (result: ReplayResult) => {
  if (result.kind !== 'replayed') throw new Error(`not replayed: ${result.reason}`);
  return result.outcome;
};
const report = (results: ReplayResult[]) =>
  renderReplayReport({ generatedAt: new Date(now).toISOString(), command: 'test', store: 'test', policy: 'test', outcomeBucketMs: BUCKET_MS, results });

/** Every file of a directory with a hash of its content and its modification time. */
function filesOf(dir: string): Record<string, string> {
  return Object.fromEntries(
    readdirSync(dir).map((f) => [
      f,
      `${createHash('sha256')
        .update(readFileSync(path.join(dir, f)))
        .digest('hex')} ${statSync(path.join(dir, f)).mtimeMs}`,
    ]),
  );
}

async function recordAll(store: Store): Promise<void> {
  await recordRollout({ store, policy, flag: 'healthy-flag', t0: aligned(now - 5 * HOUR) });
  await recordRollout({ store, policy, flag: 'broken-flag', t0: aligned(now - 4 * HOUR), errorFactor: 10 });
  // A person pauses the 1 % step and resumes it three minutes later (the step starts over).
  const t0 = aligned(now - 3 * HOUR);
  await recordRollout({
    store,
    policy,
    flag: 'paused-flag',
    t0,
    commands: [
      { at: t0 + 5 * 60_000, input: { kind: 'pause', by: APPROVER, comment: 'checking a dashboard' } },
      { at: t0 + 8 * 60_000, input: { kind: 'resume', by: APPROVER } },
    ],
  });
  // Started three days ago: its buckets are past the two days they are kept.
  await recordRollout({ store, policy, flag: 'old-flag', t0: aligned(now - 72 * HOUR), until: aligned(now - 71 * HOUR) });
}

describe('replaying recorded rollouts (embedded store)', () => {
  let dir: string;
  let reader: StoreReader;
  const one = async (flag: string) => (await selectRollouts(reader, { flag, limit: 5 }))[0]!;
  const replay = async (real: Rollout, under = real.plan, outcomeBucketMs = BUCKET_MS) => replayStored(reader, real, under, { outcomeBucketMs, now });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'rc-replay-'));
    const store = await openEmbeddedStore(dir);
    await recordAll(store);
    await store.close();
    reader = await openStoreReader({ dataDir: dir, prefix: 'unused' });
  });
  afterAll(async () => {
    await reader?.close();
  });

  it('under its own plan, each rollout is replayed exactly as it happened: the same transitions, times, verdicts and approvals', async () => {
    for (const flag of ['healthy-flag', 'broken-flag', 'paused-flag']) {
      const real = await one(flag);
      const outcome = replayed(await replay(real));
      // As stored: JSON leaves out the properties decide() sets to undefined.
      expect(JSON.parse(JSON.stringify(outcome.rollout.history)), flag).toEqual(real.history);
      expect(outcome.rollout.state).toBe(real.state);
      expect(outcome.divergence).toBeUndefined();
    }
    const broken = await one('broken-flag');
    expect(broken.history.at(-1)).toMatchObject({ to: 'rolled_back', percentage: 1 });
    const paused = await one('paused-flag');
    expect(paused.history.map((t) => t.reason)).toEqual(
      expect.arrayContaining(['paused by rita-release-manager: checking a dashboard', 'resumed by rita-release-manager']),
    );
  });

  it('under a lenient policy, a rollback that really happened is where the replay stops: the flag then served nobody', async () => {
    const real = await one('broken-flag');
    const killedAt = Date.parse(real.history.at(-1)!.at);
    const outcome = replayed(await replay(real, lenient));
    expect(outcome.ending).toBe('diverged');
    expect(outcome.divergence).toEqual({ at: killedAt, replayed: 1, real: 0 });
    // Healthy by its lenient gates, it waits for an approval of 10 % nobody gave: the real rollout never got there.
    expect(outcome.rollout.state).toBe('awaiting_approval');
    const md = report([{ kind: 'replayed', real, policy: lenient, outcome }]);
    expect(md).toContain('left the recorded traffic at 1 % (the flag served 0 %)');
    expect(md).toContain('this policy would have served 1 % where the flag served 0 %');
  });

  it('under a stricter policy, the regression is rolled back sooner, and the report says when and which check decided', async () => {
    const real = await one('broken-flag');
    const outcome = replayed(await replay(real, strict));
    expect(outcome.ending).toBe('rolled_back');
    expect(outcome.endedAt).toBeLessThan(Date.parse(real.history.at(-1)!.at));
    const cause = outcome.rollout.history.at(-1)!.cause!;
    expect(cause).toMatchObject({ kind: 'gate', rule: 'error_rate(treatment) <= 0.01 at 0.9 confidence', verdict: 'fail', confident: true });
    expect(cause.test!.method).toBe('always-valid-users');
    const md = report([{ kind: 'replayed', real, policy: strict, outcome }]);
    expect(md).toContain('| ended | rolled back at 1 % | rolled back at 1 % |');
    expect(md).toContain('gate error_rate(treatment) <= 0.01 at 0.9 confidence failed beyond doubt');
    expect(md).toContain('judged on users');
  });

  it('refuses a rollout whose buckets have expired, naming the missing windows', async () => {
    const real = await one('old-flag');
    const result = await replay(real);
    expect(result.kind).toBe('refused');
    if (result.kind !== 'refused') return;
    const start = Date.parse(real.createdAt);
    // The replay reads on for an analysis interval and a bucket after the rollout's end (20 s here).
    const end = Date.parse(real.updatedAt) + 20_000;
    expect(result.expired).toEqual([{ what: 'outcomes', from: start, to: end }]);
    expect(result.reason).toContain(`outcomes from ${real.createdAt} to ${new Date(end).toISOString()}`);
    expect(report([result])).toContain('**Not replayed:** buckets of its time have expired');
  });

  it('refuses when the store holds fewer outcomes than the rollout counted (buckets read under another OUTCOME_BUCKET_MS)', async () => {
    const result = await replay(await one('healthy-flag'), policy, 60_000);
    expect(result.kind).toBe('refused');
    if (result.kind === 'refused')
      expect(result.reason).toMatch(/^the store holds [\d,]+ treatment requests for the 1% step from .* where the rollout counted [\d,]+: buckets are missing/);
  });

  it('refuses a policy with PromQL checks: Prometheus’ answers are not in the store', async () => {
    const promql = fixturePolicy('promql', { gates: [{ name: 'http_errors', query: 'sum(rate(http_errors_total{flag="{{flag}}"}[{{window}}]))', max: 1 }] });
    const result = await replay(await one('healthy-flag'), promql);
    expect(result).toMatchObject({ kind: 'refused', reason: expect.stringContaining("the policy's PromQL checks (http_errors) read Prometheus") });
  });

  it('selects by flag, environment and start time, newest first', async () => {
    const all = await selectRollouts(reader, { limit: 10 });
    expect(all.map((r) => r.flag)).toEqual(['paused-flag', 'broken-flag', 'healthy-flag', 'old-flag']);
    expect((await selectRollouts(reader, { since: now - 4.5 * HOUR, limit: 10 })).map((r) => r.flag)).toEqual(['paused-flag', 'broken-flag']);
    expect(await selectRollouts(reader, { environment: 'staging', limit: 10 })).toEqual([]);
    expect((await selectRollouts(reader, { limit: 1 })).map((r) => r.flag)).toEqual(['paused-flag']);
  });

  it('writes nothing, and reads beside a controller that holds the directory', async () => {
    const store = await openEmbeddedStore(dir); // takes the lock (and compacts, as a starting controller does)
    try {
      const before = filesOf(dir);
      const beside = await openStoreReader({ dataDir: dir, prefix: 'unused' });
      const rollouts = await selectRollouts(beside, { limit: 10 });
      for (const real of rollouts) await replayStored(beside, real, strict, { outcomeBucketMs: BUCKET_MS, now });
      await beside.close();
      expect(rollouts).toHaveLength(4);
      expect(filesOf(dir)).toEqual(before);
      expect(Object.keys(before)).toContain('LOCK');
    } finally {
      await store.close();
    }
  });
});

describe('replaying recorded rollouts (Redis), from the command line', () => {
  let server: RedisServer;
  let redis: Redis;
  const prefix = 'replay-test';
  const changes = async () => Number(/rdb_changes_since_last_save:(\d+)/.exec(await redis.info('persistence'))![1]);
  const simulate = (args: string[], env: Record<string, string> = {}) =>
    promisify(execFile)(process.execPath, ['--import', 'tsx', 'src/simulation/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: server.url, REDIS_PREFIX: prefix, OUTCOME_BUCKET_MS: String(BUCKET_MS), ...env },
      timeout: 60_000,
    }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    );

  beforeAll(async () => {
    server = await startRedisServer();
    redis = new Redis(server.url);
    const store = await createRedisStore(server.url, prefix);
    await recordAll(store);
    await store.commit({ puts: [{ collection: POLICIES, id: 'strict', value: strict }] });
    await store.close();
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  it('replays under a stored policy named on the command line and writes nothing to Redis', async () => {
    const keys = await redis.dbsize();
    const before = await changes();
    const { code, stdout, stderr } = await simulate(['--replay', '--policy', 'strict', '--since', '6h']);
    expect(stderr).toContain('r-broken-flag (broken-flag in production): rolled back');
    expect(code).toBe(0);
    expect(stdout).toContain('# Replay of recorded rollouts');
    expect(stdout).toContain('read-only from the redis (prefix replay-test) store: 3 rollout(s), 3 replayed; policy: `strict` as stored.');
    expect(stdout).toContain('### `broken-flag` in production: rollout `r-broken-flag`');
    expect(await changes()).toBe(before);
    expect(await redis.dbsize()).toBe(keys);
  });

  it('replays every rollout under its own plan by default, and says which could not be', async () => {
    const before = await changes();
    const { code, stdout } = await simulate(['--replay', '--flag', 'old-flag']);
    expect(code).toBe(1); // nothing could be replayed
    expect(stdout).toContain('**Not replayed:** buckets of its time have expired');
    expect(await changes()).toBe(before);
  });

  it('refuses bad options in one line that names them', async () => {
    const since = await simulate(['--replay', '--since', 'yesterday']);
    expect(since.code).toBe(1);
    expect(since.stderr.trim()).toBe('--since yesterday: a date (2030-01-07), a date and time (2030-01-07T09:00:00Z) or a duration back from now (7d, 12h)');
    const policyName = await simulate(['--replay', '--policy', 'no-such-policy']);
    expect(policyName.code).toBe(1);
    expect(policyName.stderr.trim()).toBe('--policy no-such-policy: neither a policy file nor a policy stored under that name (stored: strict)');
    const limit = await simulate(['--replay', '--limit', '0']);
    expect(limit.stderr.trim()).toBe('--limit 0: a whole number from 1 to 200');
    const missing = path.join(os.tmpdir(), 'rc-replay-no-such-dir');
    const embedded = await simulate(['--replay'], { REDIS_URL: '', DATA_DIR: missing });
    expect(embedded.code).toBe(1);
    expect(embedded.stderr.trim()).toBe(`embedded store directory ${missing} does not exist (set DATA_DIR to the controller's)`);
    const help = await simulate(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--replay');
  });
});
