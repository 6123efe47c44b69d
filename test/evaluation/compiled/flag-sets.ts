import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Context } from 'unleash-client';
import { buildFixture as buildBenchFixture } from '../../../bench/fixture.js';
import type { ClientFeature, ClientSegment } from '../../../src/flags/client-feature.js';
import { buildFixture as buildSdkFixture } from '../../sdk/fixtures.js';
import { edgeCaseFlagSet } from './edge-cases.js';

/**
 * The flag sets the compiled evaluator is held equal to the stock engine on: every state of
 * Unleash's client specification, taken as the specification gives it (not through the import, so
 * that states the import refuses today are covered too; the delta states folded into the flags
 * they end with), the bench's 200 flags, the SDK tests' fixture, and a set of edge cases.
 */

export interface SpecTest {
  description: string;
  context: Context;
  toggleName: string;
  expectedResult: boolean | Record<string, unknown>;
}

export interface FlagSet {
  name: string;
  features: ClientFeature[];
  segments: ClientSegment[];
  /** The specification's own cases for this state (on/off tests and variant tests). */
  tests: SpecTest[];
}

const require = createRequire(import.meta.url);
const SPEC_DIR = path.join(path.dirname(require.resolve('@unleash/client-specification/package.json')), 'specifications');

type Raw = Record<string, any>;

/** The delta API's events, applied in order: what a client holds after them. */
function foldEvents(events: Raw[]): { features: Raw[]; segments: Raw[] } {
  const features = new Map<string, Raw>();
  const segments = new Map<number, Raw>();
  for (const event of events) {
    switch (event.type) {
      case 'hydration':
        features.clear();
        segments.clear();
        for (const f of event.features ?? []) features.set(f.name, f);
        for (const s of event.segments ?? []) segments.set(s.id, s);
        break;
      case 'feature-updated':
        features.set(event.feature.name, event.feature);
        break;
      case 'feature-removed':
        features.delete(event.featureName);
        break;
      case 'segment-updated':
        segments.set(event.segment.id, event.segment);
        break;
      case 'segment-removed':
        segments.delete(event.segmentId);
        break;
      default:
        throw new Error(`unknown delta event ${event.type}`);
    }
  }
  return { features: [...features.values()], segments: [...segments.values()] };
}

export function specificationStates(): FlagSet[] {
  const names = JSON.parse(readFileSync(path.join(SPEC_DIR, 'index.json'), 'utf8')) as string[];
  return names.map((file) => {
    const spec = JSON.parse(readFileSync(path.join(SPEC_DIR, file), 'utf8')) as Raw;
    const state = spec.state.events ? foldEvents(spec.state.events) : { features: spec.state.features ?? [], segments: spec.state.segments ?? [] };
    return {
      name: spec.name as string,
      features: state.features as ClientFeature[],
      segments: state.segments as ClientSegment[],
      tests: [...(spec.tests ?? []), ...(spec.variantTests ?? [])] as SpecTest[],
    };
  });
}

export function allFlagSets(): FlagSet[] {
  const bench = buildBenchFixture(200);
  const sdk = buildSdkFixture();
  return [
    ...specificationStates(),
    { name: 'bench fixture (200 flags)', features: bench.features as unknown as ClientFeature[], segments: bench.segments as ClientSegment[], tests: [] },
    { name: 'SDK test fixture', features: sdk.features as unknown as ClientFeature[], segments: sdk.segments as ClientSegment[], tests: [] },
    edgeCaseFlagSet(),
  ];
}

/** Every string a flag set compares context values with, by context field: what generated contexts are built around. */
export interface ValuePools {
  /** contextName → values and value of its constraints and overrides. */
  byField: Map<string, string[]>;
  /** Dates of DATE_* constraints, in ms. */
  dates: number[];
  /** userIds named by userWithId strategies. */
  userIds: string[];
  /** Addresses and networks of remoteAddress strategies. */
  addresses: string[];
  /** Custom stickiness fields. */
  stickinessFields: string[];
}

export function valuePools(set: FlagSet): ValuePools {
  const byField = new Map<string, string[]>();
  const add = (field: string, values: Array<string | undefined>) => {
    const list = byField.get(field) ?? [];
    for (const v of values) if (typeof v === 'string') list.push(v);
    byField.set(field, list);
  };
  const pools: ValuePools = { byField, dates: [], userIds: [], addresses: [], stickinessFields: [] };
  const constraint = (c: Raw) => {
    add(c.contextName, [c.value, ...(c.values ?? [])]);
    if (String(c.operator).startsWith('DATE_')) pools.dates.push(new Date(c.value).getTime());
  };
  const variants = (list: Raw[] | undefined) => {
    for (const v of list ?? []) {
      if (v.stickiness && v.stickiness !== 'default') pools.stickinessFields.push(v.stickiness);
      for (const o of v.overrides ?? []) add(o.contextName, o.values);
    }
  };
  for (const s of set.segments) for (const c of s.constraints ?? []) constraint(c);
  for (const f of set.features) {
    variants(f.variants);
    for (const st of f.strategies ?? []) {
      for (const c of st.constraints ?? []) constraint(c);
      variants(st.variants);
      const p = (st.parameters ?? {}) as Record<string, string>;
      if (p.userIds) pools.userIds.push(...String(p.userIds).split(/\s*,\s*/));
      if (p.IPs) pools.addresses.push(...String(p.IPs).split(/\s*,\s*/));
      if (p.stickiness && !['default', 'random'].includes(p.stickiness)) pools.stickinessFields.push(p.stickiness);
    }
  }
  pools.dates = pools.dates.filter((d) => Number.isFinite(d));
  return pools;
}
