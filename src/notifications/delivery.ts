import type { RolloutEvent } from './events.js';
import { renderPayload } from './payloads.js';
import { parseRetryAfter, type AttemptResult } from './retry-policy.js';
import { ATTEMPT_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';
import type { StoredWebhook } from './webhook-model.js';

export interface SendOptions {
  /** Signature timestamps come from here (the controller's clock). */
  now: () => Date;
  timeoutMs: number;
  /** Aborts the attempt at shutdown. */
  signal: AbortSignal;
  userAgent: string;
  fetch?: typeof fetch;
}

/**
 * One signed POST of `event` to `webhook`. Never throws: whatever happens is an AttemptResult.
 * Redirects are not followed, so a signed body only ever goes to the URL an admin configured.
 */
export async function sendWebhook(webhook: StoredWebhook, event: RolloutEvent, attempt: number, opts: SendOptions): Promise<AttemptResult> {
  const body = renderPayload(event, webhook.format);
  const timestamp = Math.floor(opts.now().getTime() / 1000);
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  try {
    const res = await (opts.fetch ?? fetch)(webhook.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.any([timeout, opts.signal]),
      headers: {
        'content-type': 'application/json',
        'user-agent': opts.userAgent,
        [SIGNATURE_HEADER]: signatureHeader(webhook.secret, timestamp, body),
        // The same id on every attempt: receivers use it to drop a repeat (delivery is at least once).
        [EVENT_ID_HEADER]: event.id,
        [EVENT_TYPE_HEADER]: event.type,
        [ATTEMPT_HEADER]: String(attempt),
      },
      body,
    });
    // Only the status matters; the answer's body is not read (and not kept: it could hold anything).
    await res.body?.cancel().catch(() => {});
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), opts.now().getTime());
    return { status: res.status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
  } catch (err) {
    if (timeout.aborted) return { error: `no answer within ${opts.timeoutMs} ms` };
    if (opts.signal.aborted) return { error: 'interrupted by shutdown' };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { error: cause?.code ?? cause?.message ?? (err as Error).message };
  }
}
