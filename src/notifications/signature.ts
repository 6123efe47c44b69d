import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures. The sender computes HMAC-SHA256 with the webhook's secret over
 * `${t}.${body}` (t = unix seconds when it sent, body = the exact bytes of the request body) and
 * sends `X-Rollout-Signature: t=<t>,v1=<hex>`. Signing the timestamp with the body lets a receiver
 * refuse old requests, so a captured request cannot be replayed later.
 */
export const SIGNATURE_HEADER = 'x-rollout-signature';
export const EVENT_ID_HEADER = 'x-rollout-event-id';
export const EVENT_TYPE_HEADER = 'x-rollout-event';
export const ATTEMPT_HEADER = 'x-rollout-delivery-attempt';

/** Receivers refuse signatures older (or further in the future) than this by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** A new signing secret: 256 random bits, with a prefix that says what it is when found in a config file. */
export function generateWebhookSecret(random = randomBytes): string {
  return `whsec_${random(32).toString('base64url')}`;
}

function hmacHex(secret: string, timestamp: number, body: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The X-Rollout-Signature header value for `body` sent at `timestamp` (unix seconds). */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

export type VerifyResult = { ok: true; timestamp: number } | { ok: false; reason: 'malformed' | 'stale' | 'mismatch' };

/**
 * For receivers: checks an X-Rollout-Signature header against the raw request body (the bytes as
 * received, before any JSON parsing). Accepts any `v1` entry, so a sender may sign with two secrets
 * while one is being rotated. Compares in constant time.
 */
export function verifyWebhookSignature(input: {
  secret: string;
  body: string | Buffer;
  header: string | undefined | null;
  toleranceSeconds?: number;
  /** Unix seconds; defaults to now. */
  now?: number;
}): VerifyResult {
  const parts = (input.header ?? '').split(',').map((p) => p.trim().split('='));
  const t = parts.find(([k]) => k === 't')?.[1];
  const signatures = parts.filter(([k, v]) => k === 'v1' && v && /^[0-9a-f]{64}$/.test(v)).map(([, v]) => Buffer.from(v!, 'hex'));
  const timestamp = t && /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(timestamp) || signatures.length === 0) return { ok: false, reason: 'malformed' };
  const now = input.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - timestamp) > (input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(hmacHex(input.secret, timestamp, input.body), 'hex');
  return signatures.some((s) => timingSafeEqual(s, expected)) ? { ok: true, timestamp } : { ok: false, reason: 'mismatch' };
}
