import { BlockList, isIP, type LookupFunction } from 'node:net';
import { lookup } from 'node:dns';
import { SPECIAL_IPV4_BLOCKS, SPECIAL_IPV6_BLOCKS, type SpecialBlock } from './special-addresses.js';

/**
 * Webhooks are sent from inside the deployment, so a URL could aim the controller at what only it
 * can reach: a cloud metadata endpoint, Redis, an admin port on localhost (server-side request
 * forgery). Unless private networks are allowed, a delivery only connects to public addresses.
 * The check is made on the address actually connected to, after DNS, so a name that resolves to
 * a private address (or starts to, between two attempts) is refused as well. Which addresses are
 * not public, and why, is data: special-addresses.ts.
 */

/** One BlockList per block, most specific first, so that an address gets the reason of the narrowest block it is in. */
function blockLists(blocks: readonly SpecialBlock[], type: 'ipv4' | 'ipv6') {
  return blocks
    .map(([cidr, what]) => {
      const [network, prefix] = cidr.split('/') as [string, string];
      const list = new BlockList();
      list.addSubnet(network, Number(prefix), type);
      return { list, prefix: Number(prefix), what };
    })
    .sort((a, b) => b.prefix - a.prefix);
}
const IPV4_BLOCKS = blockLists(SPECIAL_IPV4_BLOCKS, 'ipv4');
const IPV6_BLOCKS = blockLists(SPECIAL_IPV6_BLOCKS, 'ipv6');

/**
 * IPv6 blocks that carry an IPv4 address: a connection to one reaches (or is translated to) that
 * IPv4 address, so it is that address that is judged (`at`: its first byte, right after the prefix). NAT64 matters
 * most: on an IPv6-only host, DNS64 answers for every public IPv4 receiver with 64:ff9b::a.b.c.d.
 */
const CARRIERS_OF_IPV4 = blockLists(
  [
    ['::ffff:0:0/96', 'an IPv4-mapped address (RFC 4291)'],
    ['64:ff9b::/96', 'a NAT64 address (RFC 6052)'],
    ['2002::/16', 'a 6to4 address (RFC 3056)'],
  ],
  'ipv6',
).map((carrier) => ({ ...carrier, at: carrier.prefix / 8 }));

/** Why an address is not public (undefined when it is); see special-addresses.ts for which and why. */
export function nonPublicReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'not an IP address';
  if (family === 4) return IPV4_BLOCKS.find((b) => b.list.check(address, 'ipv4'))?.what;
  const carrier = CARRIERS_OF_IPV4.find((c) => c.list.check(address, 'ipv6'));
  if (carrier) {
    const ipv4 = ipv6Bytes(address)
      .slice(carrier.at, carrier.at + 4)
      .join('.');
    const why = nonPublicReason(ipv4);
    return why && `${why}, as ${ipv4} inside ${carrier.what}`;
  }
  return IPV6_BLOCKS.find((b) => b.list.check(address, 'ipv6'))?.what;
}

/**
 * The 16 bytes of an IPv6 address isIP accepted: "::" stands for the zero groups left out, a
 * trailing dotted IPv4 part for two groups, and a zone (%eth0) does not change the address.
 */
function ipv6Bytes(address: string): number[] {
  const groupsOf = (part: string): number[] =>
    part === '' ? [] : part.split(':').flatMap((group) => (group.includes('.') ? dottedGroups(group) : [Number.parseInt(group, 16)]));
  const [head = '', tail] = address.split('%')[0]!.split('::');
  const before = groupsOf(head);
  const after = tail === undefined ? [] : groupsOf(tail);
  const groups = tail === undefined ? before : [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  return groups.flatMap((group) => [group >> 8, group & 255]);
}

function dottedGroups(ipv4: string): number[] {
  const [a = 0, b = 0, c = 0, d = 0] = ipv4.split('.').map(Number);
  return [(a << 8) | b, (c << 8) | d];
}

/** The host of a URL as an IP address, when it is one (IPv6 without its brackets). */
function ipLiteral(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : undefined;
}

/**
 * Why a URL whose host is an IP address may not be reached; undefined when it may, or when its host
 * is a name (a name is judged at each delivery, on the address DNS gives then). The URL parser has
 * already turned other spellings of an address (http://2130706433/, http://0x7f.1/) into one of these.
 */
export function literalRefusal(url: URL): NodeJS.ErrnoException | undefined {
  const literal = ipLiteral(url.hostname);
  const why = literal && nonPublicReason(literal);
  return literal && why ? refusedError(undefined, literal, why) : undefined;
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

/** "localhost is 127.0.0.1, a loopback address (RFC 1122): refused (…)", or without `host` "127.0.0.1 is a loopback …". */
function refusedError(host: string | undefined, address: string, why: string): NodeJS.ErrnoException {
  const subject = host === undefined ? `${address} is` : `${host} is ${address},`;
  const err: NodeJS.ErrnoException = new Error(`${subject} ${why}: refused (set WEBHOOK_ALLOW_PRIVATE_NETWORKS=true to allow)`);
  err.code = 'EADDRNOTPUBLIC';
  return err;
}
