import { createRequire } from 'node:module';

/**
 * The libraries the stock SDK evaluates semver, regular-expression and CIDR constraints with,
 * loaded from unleash-client's own location (the CommonJS way, as the SDK loads them), so the
 * compiled evaluator parses and compares with the very copies the SDK uses: same RE2 syntax, same
 * semver rules for pre-releases and build metadata, same idea of a valid address, whatever version
 * npm resolves. Only the few members used here are typed.
 */

export interface SemVer {
  compare(other: SemVer): -1 | 0 | 1;
}
interface SemverModule {
  SemVer: new (version: string) => SemVer;
  valid(version: string): string | null;
}

export interface CompiledRegex {
  matcher(input: string): { find(): boolean };
}
interface Re2Module {
  RE2JS: { compile(pattern: string, flags?: number): CompiledRegex; CASE_INSENSITIVE: number };
}

/** An address or a network of one family, as ip-address parses it. */
export interface IpAddress {
  /** The address's groups as written (IPv4: four decimal octets). */
  parsedAddress: string[];
  /** The prefix length: the family's width unless written with /n. */
  subnetMask: number;
  correctForm(): string;
  isInSubnet(network: IpAddress): boolean;
}
export interface IpAddressClass {
  new (address: string): IpAddress;
  isValid(address: string): boolean;
}
interface IpAddressModule {
  Address4: IpAddressClass;
  Address6: IpAddressClass;
}

const require = createRequire(import.meta.url);
const sdkRequire = createRequire(require.resolve('unleash-client/lib/strategy/strategy.js'));

export const semver = sdkRequire('semver') as SemverModule;
export const { RE2JS } = sdkRequire('re2js') as Re2Module;
export const { Address4, Address6 } = sdkRequire('ip-address') as IpAddressModule;
