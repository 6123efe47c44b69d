import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nonPublicReason } from '../../src/notifications/address-guard.js';
import { sendWebhook, type SendOptions } from '../../src/notifications/delivery.js';
import { deriveEvents, type RolloutEvent } from '../../src/notifications/events.js';
import type { StoredWebhook } from '../../src/notifications/webhook-model.js';
import { decide } from '../../src/rollouts/decide.js';
import { analysis, at, BREACHING, expectDecided, iso, MINUTE, rollout } from '../unit/decide-fixtures.js';
import { ATTEMPT_HEADER, SIGNATURE_HEADER } from '../../src/notifications/signature.js';
import { startReceiver, type Receiver } from './receiver.js';

/**
 * Deliveries connect only to public addresses unless private networks are allowed: a webhook URL
 * must not reach a metadata endpoint, Redis or an admin port from inside the deployment.
 */

describe('which addresses a webhook may reach', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['0.0.0.0', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link-local'],
    ['fd12:3456::1', 'unique-local'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['64:ff9b::10.0.0.1', 'private'],
  ])('%s is refused (%s)', (address, kind) => {
    expect(nonPublicReason(address)).toContain(kind);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '192.169.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(nonPublicReason(address)).toBeUndefined();
  });
});

describe('a delivery', () => {
  let receiver: Receiver;
  const breaching = rollout({ breachingSince: [iso(10 * MINUTE)] });
  const event: RolloutEvent = deriveEvents(breaching, expectDecided(decide(breaching, analysis(BREACHING), at(15 * MINUTE))).next)[0]!;
  const webhook = (url: string): StoredWebhook => ({
    id: 'w',
    url,
    format: 'json',
    secret: 'whsec_test',
    secretHint: 'test',
    createdAt: iso(0),
    updatedAt: iso(0),
    createdBy: 'test',
  });
  const options = (allowPrivateNetworks: boolean): SendOptions => ({
    now: () => new Date(),
    timeoutMs: 3_000,
    signal: new AbortController().signal,
    userAgent: 'guard-test',
    allowPrivateNetworks,
  });

  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it('to a loopback address or a name resolving to one is refused, and nothing is sent', async () => {
    const port = new URL(receiver.url).port;
    const literal = await sendWebhook(webhook(`${receiver.url}/hook`), event, 1, options(false));
    expect(literal).toEqual({
      error: expect.stringMatching(/127\.0\.0\.1 is 127\.0\.0\.1, a loopback address: refused \(set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true/),
    });
    const named = await sendWebhook(webhook(`http://localhost:${port}/hook`), event, 1, options(false));
    expect(named.error).toMatch(/^localhost is (127\.0\.0\.1|::1), a loopback address: refused/);
    expect(named.status).toBeUndefined();
    expect(receiver.received).toEqual([]);
  });

  it('to the same receiver goes through, signed, when private networks are allowed', async () => {
    const result = await sendWebhook(webhook(`${receiver.url}/hook`), event, 2, options(true));
    expect(result).toEqual({ status: 200 });
    expect(receiver.received).toHaveLength(1);
    const [request] = receiver.received;
    expect(request!.headers[ATTEMPT_HEADER]).toBe('2');
    expect(request!.headers[SIGNATURE_HEADER]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(JSON.parse(request!.body)).toMatchObject({ id: event.id, type: event.type });
  });

  it('that finds nobody listening reports the socket error, to be retried', async () => {
    const result = await sendWebhook(webhook('http://127.0.0.1:9/hook'), event, 1, options(true));
    expect(result).toEqual({ error: 'ECONNREFUSED' });
  });
});
