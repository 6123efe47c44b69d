import { BlockList, isIP, type LookupFunction } from 'node:net';
import { lookup } from 'node:dns';

/**
 * Webhooks are sent from inside the deployment, so a URL could aim the controller at what only it
 * can reach: a cloud metadata endpoint, Redis, an admin port on localhost (server-side request
 * forgery). Unless private networks are allowed, a delivery only connects to public addresses.
 * The check is made on the address actually connected to, after DNS, so a name that resolves to
 * a private address (or starts to, between two attempts) is refused as well.
 */
const RANGES: Array<[network: string, prefix: number, type: 'ipv4' | 'ipv6', what: string]> = [
  ['0.0.0.0', 8, 'ipv4', 'a "this network" address'],
  ['10.0.0.0', 8, 'ipv4', 'a private address'],
  ['100.64.0.0', 10, 'ipv4', 'a carrier-grade NAT address'],
  ['127.0.0.0', 8, 'ipv4', 'a loopback address'],
  ['169.254.0.0', 16, 'ipv4', 'a link-local address (cloud metadata lives here)'],
  ['172.16.0.0', 12, 'ipv4', 'a private address'],
  ['192.0.0.0', 24, 'ipv4', 'a protocol-assignment address'],
  ['192.168.0.0', 16, 'ipv4', 'a private address'],
  ['198.18.0.0', 15, 'ipv4', 'a benchmarking address'],
  ['224.0.0.0', 4, 'ipv4', 'a multicast address'],
  ['240.0.0.0', 4, 'ipv4', 'a reserved address'],
  ['::', 128, 'ipv6', 'the unspecified address'],
  ['::1', 128, 'ipv6', 'a loopback address'],
  ['fc00::', 7, 'ipv6', 'a unique-local (private) address'],
  ['fe80::', 10, 'ipv6', 'a link-local address'],
  ['ff00::', 8, 'ipv6', 'a multicast address'],
];

const lists = RANGES.map(([network, prefix, type, what]) => {
  const list = new BlockList();
  list.addSubnet(network, prefix, type);
  return { list, type, what };
});

/** Why an address is not public (undefined when it is). IPv4 inside IPv6 (::ffff:a.b.c.d, 64:ff9b::a.b.c.d) is judged as IPv4. */
export function nonPublicReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  const embedded = family === 6 ? embeddedIpv4(address) : undefined;
  if (embedded) return nonPublicReason(embedded);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  return lists.find((l) => l.type === type && l.list.check(address, type))?.what;
}

/** The IPv4 address an IPv4-mapped or NAT64 IPv6 address stands for. */
function embeddedIpv4(address: string): string | undefined {
  const match = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (!match) return undefined;
  if (match[1]) return match[1];
  const high = parseInt(match[2]!, 16);
  const low = parseInt(match[3]!, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** The host of a URL as an IP address, when it is one (IPv6 without its brackets). */
export function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : undefined;
}

/** A DNS lookup for sockets that fails on any address that is not public (see nonPublicReason). */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 4);
    const refused = addresses.map((a) => ({ ...a, why: nonPublicReason(a.address) })).find((a) => a.why);
    if (refused) return callback(refusedError(hostname, refused.address, refused.why!), '', 4);
    if (options.all) return callback(null, addresses as never, 4);
    const first = addresses[0]!;
    callback(null, first.address, first.family);
  });
};

export function refusedError(host: string, address: string, why: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`${host} is ${address}, ${why}: refused (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow)`);
  err.code = 'EADDRNOTPUBLIC';
  return err;
}
