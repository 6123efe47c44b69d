import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nonPublicReason } from '../../src/notifications/address-guard.js';
import { sendWebhook, type HttpWebhook, type SendOptions } from '../../src/notifications/delivery.js';
import { deriveEvents, type RolloutEvent } from '../../src/notifications/events.js';
import type { StoredWebhook } from '../../src/notifications/webhook-model.js';
import { decide } from '../../src/rollouts/decide.js';
import { analysis, at, BREACHING, expectDecided, iso, MINUTE, rollout } from '../unit/decide-fixtures.js';
import { ATTEMPT_HEADER, SIGNATURE_HEADER } from '../../src/notifications/signature.js';
import { startReceiver, type Receiver } from './receiver.js';
import { startTestController, type TestController } from '../support/controller.js';

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

/**
 * Issue 13, defect 8: the documentation ranges 192.0.2.0/24, 198.51.100.0/24 and 203.0.113.0/24
 * were reachable (a host used one for its own interface, and a webhook reached Redis through it).
 * Every block of the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890, RFC 8190), as
 * published in 2025, written out again here from the registries rather than taken from the code:
 * the first and the last address of each block are refused, with the block's name in the reason.
 */
describe('the IANA special-purpose address registries (issue 13, defect 8)', () => {
  const IPV4_REGISTRY: Array<[block: string, first: string, last: string, named: string]> = [
    ['0.0.0.0/8', '0.0.0.1', '0.255.255.255', 'this network'],
    ['0.0.0.0/32', '0.0.0.0', '0.0.0.0', 'this host on this network'],
    ['10.0.0.0/8', '10.0.0.0', '10.255.255.255', 'private'],
    ['100.64.0.0/10', '100.64.0.0', '100.127.255.255', 'carrier-grade NAT'],
    ['127.0.0.0/8', '127.0.0.0', '127.255.255.255', 'loopback'],
    ['169.254.0.0/16', '169.254.0.0', '169.254.255.255', 'link-local'],
    ['172.16.0.0/12', '172.16.0.0', '172.31.255.255', 'private'],
    ['192.0.0.0/24', '192.0.0.11', '192.0.0.255', 'IETF protocol-assignment'],
    ['192.0.0.0/29', '192.0.0.0', '192.0.0.7', 'service-continuity'],
    ['192.0.0.8/32', '192.0.0.8', '192.0.0.8', 'dummy'],
    ['192.0.0.9/32', '192.0.0.9', '192.0.0.9', 'Port Control Protocol'],
    ['192.0.0.10/32', '192.0.0.10', '192.0.0.10', 'TURN'],
    ['192.0.0.170/32', '192.0.0.170', '192.0.0.170', 'NAT64/DNS64 discovery'],
    ['192.0.0.171/32', '192.0.0.171', '192.0.0.171', 'NAT64/DNS64 discovery'],
    ['192.0.2.0/24', '192.0.2.0', '192.0.2.255', 'documentation'],
    ['192.31.196.0/24', '192.31.196.0', '192.31.196.255', 'AS112'],
    ['192.52.193.0/24', '192.52.193.0', '192.52.193.255', 'AMT'],
    ['192.88.99.0/24', '192.88.99.0', '192.88.99.255', '6to4 relay'],
    ['192.168.0.0/16', '192.168.0.0', '192.168.255.255', 'private'],
    ['192.175.48.0/24', '192.175.48.0', '192.175.48.255', 'AS112'],
    ['198.18.0.0/15', '198.18.0.0', '198.19.255.255', 'benchmarking'],
    ['198.51.100.0/24', '198.51.100.0', '198.51.100.255', 'documentation'],
    ['203.0.113.0/24', '203.0.113.0', '203.0.113.255', 'documentation'],
    ['240.0.0.0/4', '240.0.0.0', '255.255.255.254', 'reserved'],
    ['255.255.255.255/32', '255.255.255.255', '255.255.255.255', 'limited broadcast'],
    // Not in the registry, refused all the same.
    ['224.0.0.0/4', '224.0.0.0', '239.255.255.255', 'multicast'],
  ];
  const IPV6_REGISTRY: Array<[block: string, first: string, last: string, named: string]> = [
    ['::1/128', '::1', '::1', 'loopback'],
    ['::/128', '::', '::', 'unspecified'],
    ['64:ff9b:1::/48', '64:ff9b:1::', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff', 'local-use IPv4/IPv6 translation'],
    ['100::/64', '100::', '100::ffff:ffff:ffff:ffff', 'discard-only'],
    ['100:0:0:1::/64', '100:0:0:1::', '100::1:ffff:ffff:ffff:ffff', 'dummy'],
    ['2001::/23', '2001:100::', '2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', 'IETF protocol-assignment'],
    ['2001::/32', '2001::', '2001:0:ffff:ffff:ffff:ffff:ffff:ffff', 'Teredo'],
    ['2001:1::1/128', '2001:1::1', '2001:1::1', 'Port Control Protocol'],
    ['2001:1::2/128', '2001:1::2', '2001:1::2', 'TURN'],
    ['2001:1::3/128', '2001:1::3', '2001:1::3', 'DNS-SD'],
    ['2001:2::/48', '2001:2::', '2001:2:0:ffff:ffff:ffff:ffff:ffff', 'benchmarking'],
    ['2001:3::/32', '2001:3::', '2001:3:ffff:ffff:ffff:ffff:ffff:ffff', 'AMT'],
    ['2001:4:112::/48', '2001:4:112::', '2001:4:112:ffff:ffff:ffff:ffff:ffff', 'AS112'],
    ['2001:10::/28', '2001:10::', '2001:1f:ffff:ffff:ffff:ffff:ffff:ffff', 'ORCHID'],
    ['2001:20::/28', '2001:20::', '2001:2f:ffff:ffff:ffff:ffff:ffff:ffff', 'ORCHIDv2'],
    ['2001:30::/28', '2001:30::', '2001:3f:ffff:ffff:ffff:ffff:ffff:ffff', 'drone remote ID'],
    ['2001:db8::/32', '2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'],
    ['2620:4f:8000::/48', '2620:4f:8000::', '2620:4f:8000:ffff:ffff:ffff:ffff:ffff', 'AS112'],
    ['3fff::/20', '3fff::', '3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff', 'documentation'],
    ['5f00::/16', '5f00::', '5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'segment-routing'],
    ['fc00::/7', 'fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'unique-local'],
    ['fe80::/10', 'fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local'],
    // Not in the registry, refused all the same: site-local (deprecated), multicast, and what lies outside global unicast.
    ['fec0::/10', 'fec0::', 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'site-local'],
    ['ff00::/8', 'ff00::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'multicast'],
    ['::/3 (IPv4-compatible)', '::2', '::ffff', 'outside IPv6 global unicast'],
    ['4000::/2', '4000::', '7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'outside IPv6 global unicast'],
  ];

  it.each([...IPV4_REGISTRY, ...IPV6_REGISTRY])('%s: %s and %s are refused as %s', (_block, first, last, named) => {
    expect(nonPublicReason(first)).toContain(named);
    expect(nonPublicReason(last)).toContain(named);
  });

  it.each([
    // Just outside the documentation and benchmarking ranges the probe reached.
    '192.0.1.255',
    '192.0.3.0',
    '198.51.99.255',
    '198.51.101.0',
    '203.0.112.255',
    '203.0.114.0',
    '198.17.255.255',
    '198.20.0.0',
    '192.0.1.1',
    '223.255.255.255',
    '2001:200::1',
    '2001:db7:ffff::1',
    '2001:db9::1',
    '3ffe:ffff::1',
    '3fff:1000::1',
    '2620:4f:8001::1',
    '2a00:1450:4001::200e',
  ])('%s, next to a special block, is public', (address) => {
    expect(nonPublicReason(address)).toBeUndefined();
  });

  it.each([
    ['::ffff:192.0.2.1', 'documentation', 'an IPv4-mapped address'],
    ['::ffff:c633:6401', 'documentation', 'an IPv4-mapped address'],
    ['64:ff9b::203.0.113.9', 'documentation', 'a NAT64 address'],
    ['64:ff9b::a9fe:a9fe', 'link-local', 'a NAT64 address'],
    ['2002:c633:6401::1', 'documentation', 'a 6to4 address'],
    ['2002:7f00:1::', 'loopback', 'a 6to4 address'],
    ['2002:a00:1:1::1', 'private', 'a 6to4 address'],
  ])('%s is judged by the IPv4 address inside it: %s, inside %s', (address, named, carrier) => {
    expect(nonPublicReason(address)).toMatch(new RegExp(`${named}.*, as [0-9.]+ inside ${carrier}`));
  });

  it.each(['64:ff9b::8.8.8.8', '64:ff9b::808:808', '2002:808:808::1', '::ffff:1.1.1.1'])('%s carries a public IPv4 address: public', (address) => {
    expect(nonPublicReason(address)).toBeUndefined();
  });
});

describe('saving a webhook (issue 13, defect 8)', () => {
  let t: TestController;
  beforeAll(async () => {
    t = await startTestController({ embedded: true });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it.each([
    ['http://192.0.2.10/hook', '192.0.2.10 is a documentation address, TEST-NET-1 (RFC 5737)'],
    ['https://198.51.100.7:8443/hook', '198.51.100.7 is a documentation address, TEST-NET-2'],
    ['http://203.0.113.1/', '203.0.113.1 is a documentation address, TEST-NET-3'],
    ['http://2130706433/hook', '127.0.0.1 is a loopback address'],
    ['http://0x7f.1/hook', '127.0.0.1 is a loopback address'],
    ['http://[::ffff:127.0.0.1]/hook', '::ffff:7f00:1 is a loopback address (RFC 1122), as 127.0.0.1 inside an IPv4-mapped address'],
    ['http://[fd00::1]:6379/', 'fd00::1 is a unique-local (private) address'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is a link-local address'],
  ])('with the address %s is refused with 422 naming the field', async (url, why) => {
    const res = await t.api('PUT', '/api/admin/webhooks/refused', { url });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'webhook_address_not_public', details: { issues: [{ path: 'url' }] } });
    expect(res.body.message).toMatch(/^url: /);
    expect(res.body.message).toContain(why);
    expect(res.body.message).toContain('set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow');
    expect((await t.api('GET', '/api/admin/webhooks/refused')).status).toBe(404);
  });

  it('with a public address or a name is saved (a name is judged at each delivery, after DNS)', async () => {
    expect((await t.api('PUT', '/api/admin/webhooks/public', { url: 'https://8.8.8.8/hook' })).status).toBe(201);
    expect((await t.api('PUT', '/api/admin/webhooks/named', { url: 'http://localhost:9/hook' })).status).toBe(201);
  });

  it('with a private address is saved when WEBHOOK_ALLOW_PRIVATE_NETWORKS=true', async () => {
    const allowing = await startTestController({ embedded: true, env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true' } });
    try {
      expect((await allowing.api('PUT', '/api/admin/webhooks/inside', { url: 'http://192.0.2.10/hook' })).status).toBe(201);
    } finally {
      await allowing.stop();
    }
  });
});

describe('a delivery', () => {
  let receiver: Receiver;
  const breaching = rollout({ breachingSince: [iso(10 * MINUTE)] });
  const event: RolloutEvent = deriveEvents(breaching, expectDecided(decide(breaching, analysis(BREACHING), at(15 * MINUTE))).next)[0]!;
  const webhook = (url: string): StoredWebhook & HttpWebhook => ({
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
      error: expect.stringMatching(/^127\.0\.0\.1 is a loopback address \(RFC 1122\): refused \(set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true/),
    });
    const named = await sendWebhook(webhook(`http://localhost:${port}/hook`), event, 1, options(false));
    expect(named.error).toMatch(/^localhost is (127\.0\.0\.1|::1), (a|the) loopback address \(RFC \d+\): refused/);
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
