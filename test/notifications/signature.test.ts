import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signatureHeader, verifyWebhookSignature } from '../../src/notifications/signature.js';

const SECRET = 'whsec_test-secret-0123456789';
const BODY = '{"id":"evt_1","type":"rollout.completed"}';
const T = 1_767_225_600; // 2026-01-01T00:00:00Z
// Computed outside this code: printf '1767225600.<body>' | openssl dgst -sha256 -hmac '<secret>'
const OPENSSL_HEX = '8d8a26f01ffcbe7a9963ae438a773954f826d0e419d3ec17fb3952270299d182';

describe('webhook signatures', () => {
  it('sign HMAC-SHA256 over "<t>.<body>" as openssl computes it', () => {
    expect(signatureHeader(SECRET, T, BODY)).toBe(`t=${T},v1=${OPENSSL_HEX}`);
  });

  it('verify what was signed, from a string or the raw bytes', () => {
    const header = signatureHeader(SECRET, T, BODY);
    expect(verifyWebhookSignature({ secret: SECRET, body: BODY, header, now: T + 10 })).toEqual({ ok: true, timestamp: T });
    expect(verifyWebhookSignature({ secret: SECRET, body: Buffer.from(BODY), header, now: T - 10 })).toEqual({ ok: true, timestamp: T });
  });

  it.each([
    ['a changed body', { body: BODY.replace('completed', 'rolled_back') }, 'mismatch'],
    ['another secret', { secret: 'whsec_someone-else-entirely' }, 'mismatch'],
    ['a timestamp moved to replay it later', { header: `t=${T + 600},v1=${OPENSSL_HEX}`, now: T + 600 }, 'mismatch'],
    ['an old request replayed', { now: T + 301 }, 'stale'],
    ['a request from the future', { now: T - 301 }, 'stale'],
    ['no header', { header: undefined }, 'malformed'],
    ['no v1', { header: `t=${T}` }, 'malformed'],
    ['no timestamp', { header: `v1=${OPENSSL_HEX}` }, 'malformed'],
    ['a v1 that is not 64 hex digits', { header: `t=${T},v1=${OPENSSL_HEX.slice(2)}` }, 'malformed'],
  ] as const)('refuse %s', (_name, change, reason) => {
    const input = { secret: SECRET, body: BODY, header: `t=${T},v1=${OPENSSL_HEX}` as string | undefined, now: T, ...change };
    expect(verifyWebhookSignature(input)).toEqual({ ok: false, reason });
  });

  it('accept any one valid v1 among several (a secret being rotated), with spaces after commas', () => {
    const other = signatureHeader('whsec_the-old-secret-000000', T, BODY).split(',')[1];
    expect(verifyWebhookSignature({ secret: SECRET, body: BODY, header: `t=${T}, ${other}, v1=${OPENSSL_HEX}`, now: T })).toMatchObject({ ok: true });
  });

  it('honour a wider tolerance when the receiver asks for one', () => {
    expect(
      verifyWebhookSignature({ secret: SECRET, body: BODY, header: signatureHeader(SECRET, T, BODY), now: T + 3600, toleranceSeconds: 7200 }),
    ).toMatchObject({ ok: true });
  });

  it('generate secrets of 256 random bits that are never the same', () => {
    const a = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(generateWebhookSecret()).not.toBe(a);
  });
});
