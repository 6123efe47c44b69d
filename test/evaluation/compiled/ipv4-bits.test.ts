import { describe, expect, it } from 'vitest';
import { v4Bits, v4InSubnet } from '../../../src/evaluation/compiled/ipv4-bits.js';
import { Address4 } from '../../../src/evaluation/compiled/sdk-libraries.js';

/** The numeric IPv4 match gives ip-address's isInSubnet answer (the SDK's), prefix lengths 0–32 on both sides included. */
describe('IPv4 subnet matching on numbers', () => {
  let seed = 42;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const octet = () => Math.floor(random() * 256);
  const prefix = () => [0, 1, 7, 8, 9, 15, 16, 17, 24, 31, 32][Math.floor(random() * 11)]!;

  it('agrees with isInSubnet on 20,000 pairs of hosts and networks, near and far', () => {
    let inside = 0;
    for (let n = 0; n < 20_000; n++) {
      const net = [octet(), octet(), octet(), octet()];
      // Half the hosts share the network's first octets, so that the prefix decides.
      const host = random() < 0.5 ? [net[0]!, net[1]!, random() < 0.5 ? net[2]! : octet(), octet()] : [octet(), octet(), octet(), octet()];
      const hostText = `${host.join('.')}${random() < 0.2 ? `/${prefix()}` : ''}`;
      const netText = `${net.join('.')}/${prefix()}`;
      const [h, w] = [new Address4(hostText), new Address4(netText)];
      const expected = h.isInSubnet(w);
      if (expected) inside++;
      expect(v4InSubnet(v4Bits(h), v4Bits(w)), `${hostText} in ${netText}`).toBe(expected);
    }
    expect(inside).toBeGreaterThan(2_000);
  });

  it('reads the edges of the address space', () => {
    const cases: Array<[string, string]> = [
      ['255.255.255.255', '255.255.255.255'],
      ['255.255.255.255', '0.0.0.0/0'],
      ['0.0.0.0', '128.0.0.0/1'],
      ['127.255.255.255', '128.0.0.0/1'],
      ['10.1.2.3/8', '10.0.0.0/16'],
      ['10.1.2.3/16', '10.1.0.0/16'],
    ];
    for (const [host, net] of cases)
      expect(v4InSubnet(v4Bits(new Address4(host)), v4Bits(new Address4(net))), `${host} in ${net}`).toBe(new Address4(host).isInSubnet(new Address4(net)));
  });
});
