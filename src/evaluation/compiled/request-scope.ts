import type { Context } from 'unleash-client';
import { Address4, Address6, type IpAddress, type SemVer, semver } from './sdk-libraries.js';
import { type V4Bits, v4Bits } from './ipv4-bits.js';
import type { GroupHash } from './stickiness-hash.js';

/**
 * The context fields a flag set reads, numbered when it is compiled, so that a request keeps what
 * it worked out about each field (its value, lower-cased, as semver, as an address) in arrays.
 */
export class FieldTable {
  private readonly indexes = new Map<string, number>();
  readonly names: string[] = [];

  index(name: string): number {
    let index = this.indexes.get(name);
    if (index === undefined) {
      index = this.names.length;
      this.indexes.set(name, index);
      this.names.push(name);
    }
    return index;
  }
}

/** A context value read as an address: which family it parsed as (ip-address's rules), and its canonical form. */
export interface ParsedAddress {
  family: 4 | 6;
  address: IpAddress;
  correctForm: string;
  /** An IPv4 address's bits (ipv4-bits.ts). */
  v4: V4Bits | undefined;
}

/** unleash-client's resolveContextValue: the context's own field, else the property of that name, as a string. */
export function resolveContextValue(context: Context, field: string): string | undefined {
  const value = (context as Record<string, unknown>)[field] ?? context.properties?.[field];
  return value !== undefined && value !== null ? String(value) : undefined;
}

/**
 * What one request has worked out so far, so that nothing is done twice however many flags ask:
 * each context field resolved once (and parsed once as a number, semver or address when a
 * constraint needs it), each segment evaluated once, each stickiness hash taken once per (group,
 * value), the current time read once. A scope is reused from request to request (evaluation is
 * synchronous); `begin` starts a new generation, which invalidates every cached entry at once.
 */
export class RequestScope {
  context: Context = {};
  private generation = 0;
  private readonly valueStamp: Float64Array;
  private readonly values: Array<string | undefined>;
  private readonly lowerStamp: Float64Array;
  private readonly lowered: Array<string | undefined>;
  private readonly semverStamp: Float64Array;
  private readonly semvers: Array<SemVer | null>;
  private readonly addressStamp: Float64Array;
  private readonly addresses: Array<ParsedAddress | null>;
  private readonly segmentStamp: Float64Array;
  private readonly segmentResults: Uint8Array;
  private readonly hashStamp: Float64Array;
  private readonly hashKeys: Array<string | undefined>;
  private readonly hashes: Float64Array;
  private timeStamp = 0;
  private time = 0;
  private remote4Stamp = 0;
  private remote4: V4Bits | null = null;

  constructor(
    private readonly fields: FieldTable,
    segmentCount: number,
    hashGroups: number,
    readonly random: () => number,
    private readonly clock: () => number,
  ) {
    const n = fields.names.length;
    this.valueStamp = new Float64Array(n);
    this.values = new Array(n).fill(undefined);
    this.lowerStamp = new Float64Array(n);
    this.lowered = new Array(n).fill(undefined);
    this.semverStamp = new Float64Array(n);
    this.semvers = new Array(n).fill(null);
    this.addressStamp = new Float64Array(n);
    this.addresses = new Array(n).fill(null);
    this.segmentStamp = new Float64Array(segmentCount);
    this.segmentResults = new Uint8Array(segmentCount);
    this.hashStamp = new Float64Array(hashGroups);
    this.hashKeys = new Array(hashGroups).fill(undefined);
    this.hashes = new Float64Array(hashGroups);
  }

  begin(context: Context): void {
    this.context = context;
    this.generation++;
  }

  value(field: number): string | undefined {
    if (this.valueStamp[field] === this.generation) return this.values[field];
    const value = resolveContextValue(this.context, this.fields.names[field]!);
    this.values[field] = value;
    this.valueStamp[field] = this.generation;
    return value;
  }

  /** The value lower-cased as the SDK does for caseInsensitive string operators (toLocaleLowerCase). */
  lowerCased(field: number): string | undefined {
    if (this.lowerStamp[field] === this.generation) return this.lowered[field];
    const value = this.value(field)?.toLocaleLowerCase();
    this.lowered[field] = value;
    this.lowerStamp[field] = this.generation;
    return value;
  }

  /** The value as a version, when the SDK would compare it: non-empty, valid semver, not starting with "v". */
  semver(field: number): SemVer | null {
    if (this.semverStamp[field] === this.generation) return this.semvers[field]!;
    const value = this.value(field);
    let parsed: SemVer | null = null;
    if (value && semver.valid(value) && !value.startsWith('v')) {
      try {
        parsed = new semver.SemVer(value);
      } catch {
        parsed = null;
      }
    }
    this.semvers[field] = parsed;
    this.semverStamp[field] = this.generation;
    return parsed;
  }

  /** The value as an IPv4 address if it is one, else as an IPv6 address if it is one (the SDK's order). */
  address(field: number): ParsedAddress | null {
    if (this.addressStamp[field] === this.generation) return this.addresses[field]!;
    const value = this.value(field);
    let parsed: ParsedAddress | null = null;
    if (value !== undefined) {
      const family = Address4.isValid(value) ? 4 : Address6.isValid(value) ? 6 : undefined;
      if (family) {
        const address = family === 4 ? new Address4(value) : new Address6(value);
        parsed = { family, address, correctForm: address.correctForm(), v4: family === 4 ? v4Bits(address) : undefined };
      }
    }
    this.addresses[field] = parsed;
    this.addressStamp[field] = this.generation;
    return parsed;
  }

  /** The context's remoteAddress as the remoteAddress strategy reads it (`new Address4(remoteAddress || '')`), as bits, or null where that throws. */
  remoteAddress4(): V4Bits | null {
    if (this.remote4Stamp === this.generation) return this.remote4;
    let parsed: V4Bits | null = null;
    try {
      parsed = v4Bits(new Address4((this.context.remoteAddress || '') as string));
    } catch {
      parsed = null;
    }
    this.remote4 = parsed;
    this.remote4Stamp = this.generation;
    return parsed;
  }

  /** Milliseconds since the epoch the date operators compare with: the context's currentTime, else now. */
  now(): number {
    if (this.timeStamp === this.generation) return this.time;
    const current = this.context.currentTime;
    this.time = current ? new Date(current).getTime() : this.clock();
    this.timeStamp = this.generation;
    return this.time;
  }

  /** A segment's answer for this request, worked out by `evaluate` the first time it is asked. */
  segment(index: number, evaluate: (scope: RequestScope) => boolean): boolean {
    if (this.segmentStamp[index] === this.generation) return this.segmentResults[index] === 1;
    const result = evaluate(this);
    this.segmentResults[index] = result ? 1 : 0;
    this.segmentStamp[index] = this.generation;
    return result;
  }

  /** The group's hash of `value`, remembered for the rest of the request (one value per group). */
  hash(group: GroupHash, value: string): number {
    const id = group.id;
    if (this.hashStamp[id] === this.generation && this.hashKeys[id] === value) return this.hashes[id]!;
    const hash = group.hash(value);
    this.hashKeys[id] = value;
    this.hashes[id] = hash;
    this.hashStamp[id] = this.generation;
    return hash;
  }
}
