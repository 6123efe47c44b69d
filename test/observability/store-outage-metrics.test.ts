import { afterAll, describe, expect, it } from 'vitest';
import { startTestController, type TestController } from '../support/controller.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { pollUntil } from '../rollouts/scenario-helpers.js';
import { scrape, type Scrape } from './scrape.js';

/**
 * The metrics an operator needs most are those of an outage: with Redis stopped (SIGSTOP, so its
 * sockets stay open and nothing answers) /metrics still answers, says the store is down, counts
 * the failed operations and shows the replica giving up the lease; all of it recovers by itself.
 */
describe('metrics while the store does not answer', () => {
  let redis: RedisServer;
  let t: TestController;
  afterAll(async () => {
    if (redis?.process.pid) process.kill(redis.process.pid, 'SIGCONT');
    await t?.stop();
    await redis?.stop();
  });

  it('/metrics keeps answering: store down, errors counted, leadership given up; all back once Redis is', async () => {
    redis = await startRedisServer();
    t = await startTestController({ env: { REDIS_URL: redis.url, LEADER_LEASE_MS: '1500', ROLLOUT_TICK_MS: '100' } });
    const until = (predicate: (s: Scrape) => boolean, label: string) => pollUntil(() => scrape(t.url), predicate, label, 20_000, 200);
    const healthy = await until(
      (s) => s.value('rollout_controller_leader') === 1 && s.value('rollout_controller_store_up') === 1,
      'leading on a healthy store',
    );
    const errorsBefore = healthy.sum('rollout_controller_store_errors_total');

    process.kill(redis.process.pid!, 'SIGSTOP');
    const down = await until(
      (s) => s.value('rollout_controller_store_up') === 0 && s.value('rollout_controller_leader') === 0,
      'the store reported down and the lease given up',
    );
    expect(down.sum('rollout_controller_store_errors_total')).toBeGreaterThan(errorsBefore);
    expect(down.value('rollout_controller_store_errors_total', { operation: 'ping' })).toBeGreaterThan(0);
    // The feed head cannot be read: the replica cannot know it is current.
    expect(down.value('rollout_controller_snapshot_stale_seconds')).toBeGreaterThan(1);
    // Scrapes do not wait on the store: each one answers in about the time it allows a store read.
    const started = performance.now();
    await scrape(t.url);
    expect(performance.now() - started).toBeLessThan(3_000);

    process.kill(redis.process.pid!, 'SIGCONT');
    const back = await until(
      (s) =>
        s.value('rollout_controller_store_up') === 1 && s.value('rollout_controller_leader') === 1 && s.value('rollout_controller_snapshot_stale_seconds') < 2,
      'the store and the lease back, the replica current again',
    );
    expect(back.value('rollout_controller_leader_acquisitions_total')).toBe(2);
  });
});
