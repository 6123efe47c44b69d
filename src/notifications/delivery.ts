import http from 'node:http';
import https from 'node:https';
import type { NotificationEvent } from './events.js';
import { literalRefusal, publicOnlyLookup } from './address-guard.js';
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
  /** Let deliveries reach loopback, private and link-local addresses (see address-guard.ts). */
  allowPrivateNetworks: boolean;
}

/**
 * One signed POST of `event` to `webhook`. Never throws: whatever happens is an AttemptResult.
 * Redirects are not followed, so a signed body only ever goes to the URL an admin configured; and
 * unless private networks are allowed, only to a public address.
 */
export async function sendWebhook(webhook: StoredWebhook, event: NotificationEvent, attempt: number, opts: SendOptions): Promise<AttemptResult> {
  const body = renderPayload(event, webhook.format);
  const timestamp = Math.floor(opts.now().getTime() / 1000);
  const url = new URL(webhook.url);
  // Also checked when the webhook was saved; checked again for webhooks restored from a backup.
  const refused = opts.allowPrivateNetworks ? undefined : literalRefusal(url);
  if (refused) return { error: refused.message };
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  return new Promise<AttemptResult>((resolve) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: 'POST',
        signal: AbortSignal.any([timeout, opts.signal]),
        ...(opts.allowPrivateNetworks ? {} : { lookup: publicOnlyLookup }),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': opts.userAgent,
          [SIGNATURE_HEADER]: signatureHeader(webhook.secret, timestamp, body),
          // The same id on every attempt: receivers use it to drop a repeat (delivery is at least once).
          [EVENT_ID_HEADER]: event.id,
          [EVENT_TYPE_HEADER]: event.type,
          [ATTEMPT_HEADER]: String(attempt),
        },
      },
      (res) => {
        // Only the status matters; the answer's body is not read (and not kept: it could hold anything).
        res.destroy();
        const header = res.headers['retry-after'];
        const retryAfterMs = parseRetryAfter(typeof header === 'string' ? header : null, opts.now().getTime());
        resolve({ status: res.statusCode ?? 0, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
      },
    );
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (timeout.aborted) resolve({ error: `no answer within ${opts.timeoutMs} ms` });
      else if (opts.signal.aborted) resolve({ error: 'interrupted by shutdown' });
      else resolve({ error: err.code === 'EADDRNOTPUBLIC' ? err.message : (err.code ?? err.message) });
    });
    request.end(body);
  });
}
