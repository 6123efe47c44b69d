import type { IpAddress } from './sdk-libraries.js';

/**
 * IPv4 subnet matching on numbers. ip-address's isInSubnet, which the SDK's remoteAddress strategy
 * and IN_CIDR operator call, builds a BigInt and a 32-character bit string per address and compares
 * string prefixes; for two IPv4 addresses that is exactly: the host's own prefix length is at least
 * the network's, and the first `prefix` bits of both are equal (none to compare when it is 0).
 * Address4 accepts only octets 0–255 without leading zeros, so its four groups are the 32 bits.
 * test/evaluation/compiled/ipv4-bits.test.ts holds it equal to isInSubnet.
 */
export interface V4Bits {
  /** The address as an unsigned 32-bit number. */
  bits: number;
  /** Its subnet mask (prefix length): 32 unless written with /n. */
  prefix: number;
}

/** The 32 bits of an Address4 (parsedAddress: its four decimal groups, subnetMask: its prefix). */
export function v4Bits(address: IpAddress): V4Bits {
  const [a, b, c, d] = address.parsedAddress.map(Number) as [number, number, number, number];
  return { bits: ((a << 24) | (b << 16) | (c << 8) | d) >>> 0, prefix: address.subnetMask };
}

/** ip-address's `host.isInSubnet(network)` for two Address4s. */
export function v4InSubnet(host: V4Bits, network: V4Bits): boolean {
  if (host.prefix < network.prefix) return false;
  if (network.prefix === 0) return true;
  const shift = 32 - network.prefix;
  return host.bits >>> shift === network.bits >>> shift;
}
