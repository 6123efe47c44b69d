import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_RETRY_POLICY, judgeAttempt, parseRetryAfter, type AttemptResult } from '../../src/notifications/retry-policy.js';

const policy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000 };
const half = () => 0.5;

describe('retry policy', () => {
  it.each<[string, AttemptResult, number, string]>([
    ['200 delivers', { status: 200 }, 1, 'delivered'],
    ['204 delivers', { status: 204 }, 3, 'delivered'],
    ['500 is retried', { status: 500 }, 1, 'retry'],
    ['503 is retried', { status: 503 }, 2, 'retry'],
    ['408 (request timeout) is retried', { status: 408 }, 1, 'retry'],
    ['429 (too many requests) is retried', { status: 429 }, 1, 'retry'],
    ['no answer (refused, timed out) is retried', { error: 'ECONNREFUSED' }, 1, 'retry'],
    ['400 gives up at once', { status: 400 }, 1, 'give-up'],
    ['401 gives up at once (wrong secret on their side)', { status: 401 }, 1, 'give-up'],
    ['404 gives up at once', { status: 404 }, 1, 'give-up'],
    ['410 gives up at once', { status: 410 }, 1, 'give-up'],
    ['a redirect gives up (it is not followed)', { status: 302 }, 1, 'give-up'],
    ['500 on the last attempt gives up', { status: 500 }, 6, 'give-up'],
    ['no answer on the last attempt gives up', { error: 'no answer within 10000 ms' }, 6, 'give-up'],
  ])('%s', (_name, result, attempt, kind) => {
    expect(judgeAttempt(result, attempt, policy, half).kind).toBe(kind);
  });

  it('says why it gave up', () => {
    expect(judgeAttempt({ status: 404 }, 1, policy, half)).toEqual({ kind: 'give-up', reason: 'refused with HTTP 404' });
    expect(judgeAttempt({ error: 'ECONNRESET' }, 6, policy, half)).toEqual({ kind: 'give-up', reason: '6 attempts failed, the last: ECONNRESET' });
  });

  it('backs off exponentially (×3) with jitter between half and all of each delay, capped', () => {
    const low = [1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, policy, () => 0));
    const high = [1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, policy, () => 1));
    expect(high).toEqual([1000, 3000, 9000, 27_000, 60_000, 60_000]);
    expect(low).toEqual([500, 1500, 4500, 13_500, 30_000, 30_000]);
  });

  it('by default spreads 6 attempts over a few minutes', () => {
    const total = [1, 2, 3, 4, 5].reduce((sum, n) => sum + backoffMs(n, DEFAULT_RETRY_POLICY, () => 1), 0);
    expect(total).toBeGreaterThan(2 * 60_000);
    expect(total).toBeLessThan(10 * 60_000);
  });

  it('waits at least as long as a Retry-After asks, within the cap', () => {
    expect(judgeAttempt({ status: 429, retryAfterMs: 20_000 }, 1, policy, half)).toEqual({ kind: 'retry', delayMs: 20_000 });
    expect(judgeAttempt({ status: 503, retryAfterMs: 3_600_000 }, 1, policy, half)).toEqual({ kind: 'retry', delayMs: 60_000 });
    expect(judgeAttempt({ status: 503, retryAfterMs: 10 }, 1, policy, half)).toEqual({ kind: 'retry', delayMs: 750 });
  });

  it('reads Retry-After in seconds or as a date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
