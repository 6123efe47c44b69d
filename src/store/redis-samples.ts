import type { RedisClient } from './redis-connection.js';
import type { SampleAdd } from './port.js';
import { execResults, ttlArg } from './redis-encoding.js';
import { bottomOf, checkKeep } from './sample-merge.js';

/**
 * Bottom-k samples on Redis (Store.addToSamples, mergeSamples, readSamples): a sorted set per sample
 * whose members all score 0, so Redis orders them by their bytes (text order for the hex hashes
 * callers keep), and trimming by rank keeps the smallest. Each call is one MULTI or one pipeline.
 * Arguments are checked before anything is sent (a bad one throws at once, not as an outage).
 */

type Key = (sample: string) => string;

export function addToSamples(redis: RedisClient, key: Key, adds: SampleAdd[], keep: number, ttlSeconds: number): Promise<void> {
  checkKeep(keep);
  const m = redis.multi();
  let writes = 0;
  for (const add of adds) {
    if (add.members.length === 0) continue;
    const k = key(add.key);
    m.zadd(k, ...add.members.flatMap((member) => [0, member]));
    // Ranks from `keep` on are the members past the smallest `keep`.
    m.zremrangebyrank(k, keep, -1);
    m.expire(k, ttlArg(ttlSeconds));
    writes++;
  }
  if (writes === 0) return Promise.resolve();
  return m.exec().then((res) => void execResults(res));
}

export function mergeSamples(redis: RedisClient, key: Key, dest: string, sources: string[], keep: number, ttlSeconds: number): Promise<void> {
  checkKeep(keep);
  if (sources.length === 0) return Promise.resolve();
  const d = key(dest);
  return (
    redis
      .multi()
      // Every score is 0, so MIN keeps it 0 and the union stays in text order.
      .zunionstore(d, sources.length + 1, d, ...sources.map(key), 'AGGREGATE', 'MIN')
      .zremrangebyrank(d, keep, -1)
      .expire(d, ttlArg(ttlSeconds))
      .exec()
      .then((res) => void execResults(res))
  );
}

export function readSamples(redis: RedisClient, key: Key, groups: string[][], keep: number): Promise<string[][]> {
  checkKeep(keep);
  const distinct = [...new Set(groups.flat())];
  if (distinct.length === 0) return Promise.resolve(groups.map(() => []));
  const p = redis.pipeline();
  for (const sample of distinct) p.zrange(key(sample), 0, String(keep - 1));
  return p.exec().then((res) => {
    const read = execResults(res) as string[][];
    const bySample = new Map(distinct.map((sample, i) => [sample, read[i]!]));
    return groups.map((group) =>
      bottomOf(
        group.map((sample) => bySample.get(sample)!),
        keep,
      ),
    );
  });
}
