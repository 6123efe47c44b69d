/**
 * The addresses a webhook may not reach unless WEBHOOK_ALLOW_PRIVATE_NETWORKS=true, as data.
 *
 * Every block of the IANA IPv4 Special-Purpose Address Registry and the IANA IPv6 Special-Purpose
 * Address Registry (set up by RFC 6890, updated by RFC 8190; both as published in 2025), whatever
 * their "globally reachable" column says: none of them is where a webhook receiver lives, and some
 * (documentation, benchmarking ranges) are used by hosts for their own interfaces. To those, the
 * blocks no registry entry covers but no public host uses either: IPv4 multicast, IPv6 multicast and
 * the IPv6 space outside global unicast (2000::/3), such as the deprecated site-local fec0::/10.
 *
 * A block inside a larger one (192.0.0.9/32 in 192.0.0.0/24) is listed for its own name; the guard
 * gives the reason of the most specific block an address falls in. Blocks that carry an IPv4
 * address inside an IPv6 one are not here: address-guard.ts judges that IPv4 address instead.
 */

/** [block in CIDR notation, what it is (the reason a delivery gives)]. */
export type SpecialBlock = readonly [cidr: string, what: string];

export const SPECIAL_IPV4_BLOCKS: readonly SpecialBlock[] = [
  ['0.0.0.0/8', 'a "this network" address (RFC 791)'],
  ['0.0.0.0/32', 'the "this host on this network" address (RFC 1122)'],
  ['10.0.0.0/8', 'a private address (RFC 1918)'],
  ['100.64.0.0/10', 'a shared, carrier-grade NAT address (RFC 6598)'],
  ['127.0.0.0/8', 'a loopback address (RFC 1122)'],
  ['169.254.0.0/16', 'a link-local address, where cloud metadata answers (RFC 3927)'],
  ['172.16.0.0/12', 'a private address (RFC 1918)'],
  ['192.0.0.0/24', 'an IETF protocol-assignment address (RFC 6890)'],
  ['192.0.0.0/29', 'an IPv4 service-continuity (DS-Lite) address (RFC 7335)'],
  ['192.0.0.8/32', 'the IPv4 dummy address (RFC 7600)'],
  ['192.0.0.9/32', 'the Port Control Protocol anycast address (RFC 7723)'],
  ['192.0.0.10/32', 'the TURN anycast address (RFC 8155)'],
  ['192.0.0.170/32', 'a NAT64/DNS64 discovery address (RFC 8880)'],
  ['192.0.0.171/32', 'a NAT64/DNS64 discovery address (RFC 8880)'],
  ['192.0.2.0/24', 'a documentation address, TEST-NET-1 (RFC 5737)'],
  ['192.31.196.0/24', 'an AS112 address (RFC 7535)'],
  ['192.52.193.0/24', 'an AMT relay address (RFC 7450)'],
  ['192.88.99.0/24', 'a former 6to4 relay anycast address (RFC 7526)'],
  ['192.168.0.0/16', 'a private address (RFC 1918)'],
  ['192.175.48.0/24', 'an AS112 direct-delegation address (RFC 7534)'],
  ['198.18.0.0/15', 'a benchmarking address (RFC 2544)'],
  ['198.51.100.0/24', 'a documentation address, TEST-NET-2 (RFC 5737)'],
  ['203.0.113.0/24', 'a documentation address, TEST-NET-3 (RFC 5737)'],
  ['240.0.0.0/4', 'a reserved address (RFC 1112)'],
  ['255.255.255.255/32', 'the limited broadcast address (RFC 919, RFC 8190)'],
  // Not in the registry: multicast has a registry of its own.
  ['224.0.0.0/4', 'a multicast address (RFC 5771)'],
];

export const SPECIAL_IPV6_BLOCKS: readonly SpecialBlock[] = [
  ['::1/128', 'the loopback address (RFC 4291)'],
  ['::/128', 'the unspecified address (RFC 4291)'],
  // ::ffff:0:0/96 (IPv4-mapped, RFC 4291) and 64:ff9b::/96 (NAT64, RFC 6052): judged by their IPv4 address.
  ['64:ff9b:1::/48', 'a local-use IPv4/IPv6 translation address (RFC 8215)'],
  ['100::/64', 'a discard-only address (RFC 6666)'],
  ['100:0:0:1::/64', 'a dummy address (IANA IPv6 special-purpose registry)'],
  ['2001::/23', 'an IETF protocol-assignment address (RFC 2928)'],
  ['2001::/32', 'a Teredo address (RFC 4380)'],
  ['2001:1::1/128', 'the Port Control Protocol anycast address (RFC 7723)'],
  ['2001:1::2/128', 'the TURN anycast address (RFC 8155)'],
  ['2001:1::3/128', 'the DNS-SD service registration anycast address (RFC 9665)'],
  ['2001:2::/48', 'a benchmarking address (RFC 5180)'],
  ['2001:3::/32', 'an AMT address (RFC 7450)'],
  ['2001:4:112::/48', 'an AS112 address (RFC 7535)'],
  ['2001:10::/28', 'a deprecated ORCHID address (RFC 4843)'],
  ['2001:20::/28', 'an ORCHIDv2 address (RFC 7343)'],
  ['2001:30::/28', 'a drone remote ID (DET) address (RFC 9374)'],
  ['2001:db8::/32', 'a documentation address (RFC 3849)'],
  // 2002::/16 (6to4, RFC 3056): judged by its IPv4 address.
  ['2620:4f:8000::/48', 'an AS112 direct-delegation address (RFC 7534)'],
  ['3fff::/20', 'a documentation address (RFC 9637)'],
  ['5f00::/16', 'a segment-routing (SRv6) SID (RFC 9602)'],
  ['fc00::/7', 'a unique-local (private) address (RFC 4193)'],
  ['fe80::/10', 'a link-local address (RFC 4291)'],
  // Not in the registry.
  ['fec0::/10', 'a deprecated site-local address (RFC 3879)'],
  ['ff00::/8', 'a multicast address (RFC 4291)'],
  ['::/3', 'an address outside IPv6 global unicast, 2000::/3 (RFC 4291)'],
  ['4000::/2', 'an address outside IPv6 global unicast, 2000::/3 (RFC 4291)'],
  ['8000::/1', 'an address outside IPv6 global unicast, 2000::/3 (RFC 4291)'],
];
