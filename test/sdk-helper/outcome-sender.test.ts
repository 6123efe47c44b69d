import { describe, expect, it } from 'vitest';
import type { OutcomeRecord } from '../../src/sdk/outcome-batch.js';
import { configSchema } from '../../src/config/config.js';
import { BYTES_PER_VALUE, MAX_JSON_DEPTH } from '../../src/http/body-limits.js';
import { checkJsonShape } from '../../src/validation/json-shape.js';
import { OutcomeSender, RECORDS_PER_POST, type SenderOptions } from '../../src/sdk/outcome-sender.js';

/** The retry buffer's rules, with a scripted fetch standing in for the controller. */

type Reply = number | 'network';

function scripted(replies: Reply[]) {
  const bodies: Array<{ appName: string; records: OutcomeRecord[] }> = [];
  const fetchFake = (async (_url: string, init: RequestInit) => {
    bodies.push(JSON.parse(String(init.body)));
    const reply = replies.shift() ?? 202;
    if (reply === 'network') throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
    return new Response(reply === 202 ? null : '{"error":"x"}', { status: reply });
  }) as typeof fetch;
  return { fetchFake, bodies };
}

function sender(replies: Reply[], options: Partial<SenderOptions> = {}) {
  const { fetchFake, bodies } = scripted(replies);
  const errors: string[] = [];
  const s = new OutcomeSender({
    endpoint: 'http://controller.invalid/api/metrics/outcomes',
    token: 'client-secret',
    appName: 'shop',
    timeoutMs: 1000,
    maxAttempts: 3,
    maxPendingBatches: 2,
    fetch: fetchFake,
    onError: (e) => errors.push(e.message),
    ...options,
  });
  return { s, bodies, errors };
}

const rec = (flag: string, requests: number): OutcomeRecord => ({ flag, cohort: 'treatment', requests, errors: 0 });

describe('outcome sender', () => {
  it('keeps a failed batch and sends it first at the next flush', async () => {
    const { s, bodies, errors } = sender(['network', 202, 202]);
    await s.send([rec('a', 5)]);
    expect(s.stats()).toMatchObject({ pendingBatches: 1, sentRequests: 0, lastError: expect.stringContaining('ECONNREFUSED') });
    expect(errors).toHaveLength(1);
    await s.send([rec('b', 2)]);
    expect(bodies.map((b) => b.records.map((r) => r.flag))).toEqual([['a'], ['a'], ['b']]);
    expect(bodies[0]!.appName).toBe('shop');
    expect(s.stats()).toMatchObject({ pendingBatches: 0, sentRecords: 2, sentRequests: 7, droppedRequests: 0 });
  });

  it('stops a flush at the first failure instead of hammering a controller that is down', async () => {
    const { s, bodies } = sender(['network', 503]);
    await s.send([rec('a', 1)]);
    await s.send([rec('b', 1)]);
    expect(bodies).toHaveLength(2); // a, then a again; b waits
    expect(s.stats().pendingBatches).toBe(2);
  });

  it('drops a batch after its last attempt, and the oldest beyond the buffer, counting what was lost', async () => {
    const { s } = sender(['network', 'network', 'network', 'network', 'network'], { maxPendingBatches: 5 });
    await s.send([rec('a', 10)]);
    await s.send([rec('b', 20)]);
    expect(s.stats()).toMatchObject({ pendingBatches: 2, droppedRequests: 0 });
    await s.send([]); // a's third attempt fails: dropped
    expect(s.stats()).toMatchObject({ pendingBatches: 1, droppedRecords: 1, droppedRequests: 10 });

    const small = sender(Array(10).fill(500), { maxPendingBatches: 2, maxAttempts: 10 });
    for (const [flag, n] of [
      ['a', 1],
      ['b', 2],
      ['c', 4],
    ] as const)
      await small.s.send([rec(flag, n)]);
    expect(small.s.stats()).toMatchObject({ pendingBatches: 2, droppedRequests: 1 });
  });

  it('drops at once what the controller refuses for good, but retries 429', async () => {
    const { s } = sender([400, 429, 202]);
    await s.send([rec('a', 3)]);
    expect(s.stats()).toMatchObject({ pendingBatches: 0, droppedRequests: 3 });
    await s.send([rec('b', 4)]);
    expect(s.stats()).toMatchObject({ pendingBatches: 1 });
    await s.send([]);
    expect(s.stats()).toMatchObject({ pendingBatches: 0, sentRequests: 4 });
  });

  it('splits large flushes into posts of at most RECORDS_PER_POST records', async () => {
    const { s, bodies } = sender([]);
    await s.send(Array.from({ length: 600 }, (_, i) => rec(`f${i}`, 1)));
    expect(bodies.map((b) => b.records.length)).toEqual(
      Array.from({ length: Math.ceil(600 / RECORDS_PER_POST) }, (_, i) => Math.min(RECORDS_PER_POST, 600 - i * RECORDS_PER_POST)),
    );
    expect(s.stats().sentRequests).toBe(600);
  });

  it('keeps a post of the largest records under the controller’s default limit for outcome reports', async () => {
    // Every record as large as the helper makes one: 99 latency bounds and +Inf, every user bucket.
    const buckets = Object.fromEntries([...Array.from({ length: 99 }, (_, i) => [String((i + 1) * 1000), 123_456]), ['+Inf', 123_456]]);
    const units = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [String(i), { requests: 123_456, errors: 12_345 }]));
    const big = (i: number): OutcomeRecord => ({
      flag: `a-rather-long-flag-name-for-a-feature-${i}`,
      cohort: 'treatment',
      requests: 9_999_999,
      errors: 99_999,
      latencyMs: { buckets, sum: 123_456_789.123 },
      units,
    });
    const { s, bodies } = sender([]);
    await s.send(Array.from({ length: RECORDS_PER_POST }, (_, i) => big(i)));
    expect(bodies).toHaveLength(1);
    const limit = configSchema.parse({}).BODY_LIMIT_OUTCOMES;
    expect(Buffer.byteLength(JSON.stringify(bodies[0]))).toBeLessThan(limit);
    // And within the budget of JSON values the controller holds a body of that limit to.
    expect(checkJsonShape(bodies[0], { maxValues: limit / BYTES_PER_VALUE, maxDepth: MAX_JSON_DEPTH })).toBeUndefined();
  });
});
