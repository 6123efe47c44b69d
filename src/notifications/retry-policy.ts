/**
 * When a delivery counts as done, when to try again and when to stop. Pure: the attempt's result,
 * the attempt number and a random number in, a verdict out.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Delay before the second attempt; each later one is three times the one before, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** 6 attempts with delays of about 3 s, 9 s, 27 s, 81 s and 4 min: a receiver has some 6 minutes to come back. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 3_000, maxDelayMs: 5 * 60_000 };

/** What one attempt came to. */
export interface AttemptResult {
  /** HTTP status (an e-mail's: the SMTP server's reply code), absent when no answer came (refused, reset, timed out). */
  status?: number;
  error?: string;
  /** From a Retry-After header (429, 503). */
  retryAfterMs?: number;
  /**
   * What the answer's content said, when that, not an HTTP status, decides: chat robots answer 200
   * with an error code in the body (see formats/vendor-answers.ts), SMTP servers with their own codes.
   */
  answer?: 'accepted' | 'refused' | 'unavailable';
}

export type AttemptVerdict = { kind: 'delivered' } | { kind: 'retry'; delayMs: number } | { kind: 'give-up'; reason: string };

export function judgeAttempt(result: AttemptResult, attempt: number, policy: RetryPolicy, random: () => number): AttemptVerdict {
  const { status } = result;
  if (result.answer === 'accepted') return { kind: 'delivered' };
  if (result.answer === 'refused') return { kind: 'give-up', reason: `refused: ${result.error ?? 'no reason given'}` };
  if (result.answer === undefined && status !== undefined && status >= 200 && status < 300) return { kind: 'delivered' };
  // A 4xx says the request itself is refused (bad URL, wrong secret, gone): sending it again will not
  // change that. 408 and 429 are the exceptions that mean "not now".
  if (result.answer === undefined && status !== undefined && status < 500 && status !== 408 && status !== 429)
    return { kind: 'give-up', reason: `refused with HTTP ${status}` };
  if (attempt >= policy.maxAttempts)
    return { kind: 'give-up', reason: `${attempt} attempts failed, the last: ${result.error ?? (status !== undefined ? `HTTP ${status}` : 'no answer')}` };
  const delayMs = Math.min(policy.maxDelayMs, Math.max(backoffMs(attempt, policy, random), result.retryAfterMs ?? 0));
  return { kind: 'retry', delayMs };
}

/**
 * Exponential backoff with jitter: the delay after attempt n is drawn between half and all of
 * base × 3^(n-1) (capped), so receivers that failed together are not all retried in the same instant.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 3 ** (attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from `now` (undefined when absent or unreadable). */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
