import http from 'node:http';
import https from 'node:https';
import type { NotificationEvent } from './events.js';
import type { MessageLanguage } from './message.js';
import { literalRefusal, publicOnlyLookup } from './address-guard.js';
import { MAX_ANSWER_BYTES, vendorVerdict } from './formats/vendor-answers.js';
import { ANSWERS_IN_BODY, httpPlan, type HttpFormat } from './payloads.js';
import { parseRetryAfter, type AttemptResult } from './retry-policy.js';
import { ATTEMPT_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';

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

/** A webhook delivered over HTTP: every format but e-mail. */
export interface HttpWebhook {
  format: HttpFormat;
  url: string;
  secret?: string;
  language?: MessageLanguage;
}

/**
 * One POST of `event` to `webhook`, signed as its format wants. Never throws: whatever happens is
 * an AttemptResult. Redirects are not followed, so a signed body only ever goes to the URL an admin
 * configured; and unless private networks are allowed, only to a public address. The answer's body
 * is read only from robots that put their verdict there (a few kB at most) and never kept whole.
 */
export async function sendWebhook(webhook: HttpWebhook, event: NotificationEvent, attempt: number, opts: SendOptions): Promise<AttemptResult> {
  const nowMs = opts.now().getTime();
  let plan: ReturnType<typeof httpPlan>;
  try {
    plan = httpPlan(webhook, event, nowMs);
  } catch (err) {
    return { answer: 'refused', error: (err as Error).message };
  }
  const url = new URL(plan.url);
  // Also checked when the webhook was saved; checked again for webhooks restored from a backup.
  const refused = opts.allowPrivateNetworks ? undefined : literalRefusal(url);
  if (refused) return { error: refused.message };
  const vendor = ANSWERS_IN_BODY[webhook.format];
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
          'content-length': Buffer.byteLength(plan.body),
          'user-agent': opts.userAgent,
          ...(plan.rolloutSignature && webhook.secret ? { [SIGNATURE_HEADER]: signatureHeader(webhook.secret, Math.floor(nowMs / 1000), plan.body) } : {}),
          // The same id on every attempt: receivers use it to drop a repeat (delivery is at least once).
          [EVENT_ID_HEADER]: event.id,
          [EVENT_TYPE_HEADER]: event.type,
          [ATTEMPT_HEADER]: String(attempt),
        },
      },
      (res) => {
        const header = res.headers['retry-after'];
        const retryAfterMs = parseRetryAfter(typeof header === 'string' ? header : null, opts.now().getTime());
        const status = res.statusCode ?? 0;
        const answered = (extra: Partial<AttemptResult> = {}) => resolve({ status, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}), ...extra });
        // Only the status matters for most receivers: their body is not read (and not kept: it could hold anything).
        if (!vendor || status < 200 || status >= 300) {
          res.destroy();
          return answered();
        }
        readStart(res, MAX_ANSWER_BYTES).then(
          (body) => answered(vendorVerdict(vendor, body) ?? {}),
          () => answered(),
        );
      },
    );
    request.on('error', (err: NodeJS.ErrnoException) => {
      if (timeout.aborted) resolve({ error: `no answer within ${opts.timeoutMs} ms` });
      else if (opts.signal.aborted) resolve({ error: 'interrupted by shutdown' });
      else resolve({ error: err.code === 'EADDRNOTPUBLIC' ? err.message : (err.code ?? err.message) });
    });
    request.end(plan.body);
  });
}

/** The first `max` bytes of an answer as text; the rest is not read. */
function readStart(res: http.IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = () => {
      res.destroy();
      resolve(Buffer.concat(chunks).subarray(0, max).toString('utf8'));
    };
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= max) done();
    });
    res.on('end', done);
    res.on('error', reject);
  });
}
