import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { Context } from 'unleash-client';

/**
 * Unleash's official client specification (npm @unleash/client-specification): every state it
 * publishes, each with the tests (isEnabled) and variant tests (getVariant) a stock SDK must meet,
 * read from the package as it ships, and what a test of the controller needs to run them: the
 * payload each state imports as, the cases, and how the frontend API and OFREP express an answer.
 */

const require = createRequire(import.meta.url);
const DIR = path.dirname(require.resolve('@unleash/client-specification/specifications/index.json'));

type Json = Record<string, any>;

export interface ExpectedVariant {
  name: string;
  enabled: boolean;
  payload?: { type: string; value: string };
  feature_enabled?: boolean;
}

export interface SpecCase {
  /** "13-constraint-operators: <the test's description>", unique. */
  id: string;
  kind: 'test' | 'variant';
  toggleName: string;
  context: Json;
  expected: boolean | ExpectedVariant;
}

export interface ClientPayloadJson {
  version: number;
  features: Json[];
  segments: Json[];
}

export interface Specification {
  /** The state's name, e.g. "13-constraint-operators". */
  name: string;
  /** Its own environment on the controller, e.g. "spec-13". */
  environment: string;
  /** States 19 and 20 are delta-API event lists (a hydration; updates and removals), not a payload. */
  events?: Json[];
  /** What an SDK must end up holding: the payload, or for an event list what its events add up to. */
  payload: ClientPayloadJson;
  cases: SpecCase[];
}

/**
 * Segments are global in Unleash and here (one id, every environment), and three states use id 1
 * for different segments. A state that reuses an id an earlier state holds has its segment ids
 * (definitions and references alike) moved by 1000 × its number; nothing else is changed, so
 * state 15 keeps its reference to the segment 404 that does not exist.
 */
const SEGMENT_SHIFT = 1000;

export function loadSpecifications(): Specification[] {
  const files = JSON.parse(readFileSync(path.join(DIR, 'index.json'), 'utf8')) as string[];
  const usedSegmentIds = new Set<number>();
  return files.map((file) => {
    const spec = JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as Json;
    const name = String(spec.name);
    const number = name.slice(0, 2);
    const state = structuredClone(spec.state) as Json;
    const ids = segmentIdsOf(state);
    if (ids.some((id) => usedSegmentIds.has(id))) shiftSegments(state, SEGMENT_SHIFT * Number(number));
    for (const id of segmentIdsOf(state)) usedSegmentIds.add(id);
    const cases: SpecCase[] = [
      ...(spec.tests ?? []).map((t: Json) => ({ kind: 'test' as const, t })),
      ...(spec.variantTests ?? []).map((t: Json) => ({ kind: 'variant' as const, t })),
    ].map(({ kind, t }) => ({ id: `${name}: ${t.description}`, kind, toggleName: t.toggleName, context: t.context, expected: t.expectedResult }));
    const events = state.events as Json[] | undefined;
    const payload = events ? replay(events) : { version: state.version ?? 1, features: state.features as Json[], segments: (state.segments ?? []) as Json[] };
    return { name, environment: `spec-${number}`, ...(events ? { events } : {}), payload, cases };
  });
}

function segmentIdsOf(state: Json): number[] {
  const lists = state.events ? state.events.flatMap((e: Json) => [...(e.segments ?? []), ...(e.segment ? [e.segment] : [])]) : (state.segments ?? []);
  return lists.map((s: Json) => s.id as number);
}

function shiftSegments(state: Json, by: number): void {
  const features: Json[] = state.events ? state.events.flatMap((e: Json) => [...(e.features ?? []), ...(e.feature ? [e.feature] : [])]) : state.features;
  const segments: Json[] = state.events
    ? state.events.flatMap((e: Json) => [...(e.segments ?? []), ...(e.segment ? [e.segment] : [])])
    : (state.segments ?? []);
  for (const segment of segments) segment.id += by;
  for (const feature of features) {
    if (Array.isArray(feature.segments)) feature.segments = feature.segments.map((id: number) => id + by);
    for (const strategy of feature.strategies ?? []) if (Array.isArray(strategy.segments)) strategy.segments = strategy.segments.map((id: number) => id + by);
  }
}

/** Applies delta-API events in order, as an SDK in delta mode does: what it holds after the last one. */
export function replay(events: Json[]): ClientPayloadJson {
  const features = new Map<string, Json>();
  const segments = new Map<number, Json>();
  for (const event of events) {
    if (event.type === 'hydration') {
      features.clear();
      segments.clear();
      for (const f of event.features) features.set(f.name, f);
      for (const s of event.segments ?? []) segments.set(s.id, s);
    } else if (event.type === 'feature-updated') features.set(event.feature.name, event.feature);
    else if (event.type === 'feature-removed') features.delete(event.featureName);
    else if (event.type === 'segment-updated') segments.set(event.segment.id, event.segment);
    else if (event.type === 'segment-removed') segments.delete(event.segmentId);
    else throw new Error(`unknown delta event type ${event.type}`);
  }
  return { version: 2, features: [...features.values()], segments: [...segments.values()] };
}

/**
 * A feature as the controller serves it, from the feature as the state writes it: the defaults an
 * Unleash server fills in (type, project, description null, empty lists), parameters as strings,
 * strategies without what is for people (id, title, sortOrder, disabled ones). Everything that
 * decides an evaluation (operators unknown here, regular expressions that do not compile, missing
 * segments, names) must come back exactly as written.
 */
export function asServed(feature: Json): Json {
  const strategies = (feature.strategies ?? []) as Json[];
  const ordered = strategies.some((s) => s.sortOrder !== undefined)
    ? [...strategies].sort((a, b) => (a.sortOrder ?? Number.MAX_SAFE_INTEGER) - (b.sortOrder ?? Number.MAX_SAFE_INTEGER))
    : strategies;
  const served: Json = {
    name: feature.name,
    type: feature.type ?? 'release',
    description: feature.description ?? null,
    project: feature.project ?? 'default',
    enabled: feature.enabled,
    stale: feature.stale ?? false,
    impressionData: feature.impressionData ?? false,
    strategies: ordered.filter((s) => !s.disabled).map(strategyAsServed),
    variants: feature.variants ?? [],
  };
  if (feature.dependencies?.length) served.dependencies = feature.dependencies;
  return served;
}

function strategyAsServed(strategy: Json): Json {
  const { id: _id, title: _title, sortOrder: _sortOrder, disabled: _disabled, segments, parameters, constraints, ...rest } = strategy;
  return {
    ...rest,
    parameters: Object.fromEntries(Object.entries(parameters ?? {}).map(([k, v]) => [k, String(v)])),
    constraints: (constraints ?? []).map(constraintAsServed),
    ...(segments?.length ? { segments } : {}),
  };
}

export function constraintAsServed(constraint: Json): Json {
  return { ...constraint, values: constraint.values ?? [] };
}

export function segmentAsServed(segment: Json): Json {
  return { ...segment, constraints: (segment.constraints ?? []).map(constraintAsServed) };
}

/** The variant unleash-proxy-client answers for a flag the frontend API did not list (it lists only flags that are on). */
export const ABSENT_VARIANT: ExpectedVariant = { name: 'disabled', enabled: false, feature_enabled: false };

/** Whether an answer meets a variant expectation: every field the specification names, equal. */
export function meetsVariant(actual: Json, expected: ExpectedVariant): boolean {
  return Object.entries(expected).every(([key, value]) => JSON.stringify(actual[key]) === JSON.stringify(value));
}

/** The context as the stock SDK is handed it: the specification's JSON as it is. */
export const sdkContext = (c: SpecCase) => c.context as Context;

/**
 * What OFREP answers for a spec expectation. OFREP has no "disabled variant": a flag whose variant is
 * not enabled is named "on" or "off" by whether the flag is (src/ofrep/ofrep-response.ts), its value
 * is the variant's payload when there is one (a number as a number, JSON parsed) and otherwise
 * whether the flag is on; `metadata.cohort` says on (treatment) or off (control).
 */
export function ofrepExpectation(expected: boolean | ExpectedVariant): { cohort?: string; variant?: string; value?: unknown } {
  if (typeof expected === 'boolean') return { cohort: expected ? 'treatment' : 'control' };
  if (expected.enabled) {
    const on = { cohort: 'treatment', variant: expected.name };
    return expected.payload ? { ...on, value: payloadValue(expected.payload) } : { ...on, value: true };
  }
  if (expected.feature_enabled === undefined) return {};
  return { cohort: expected.feature_enabled ? 'treatment' : 'control', variant: expected.feature_enabled ? 'on' : 'off', value: expected.feature_enabled };
}

function payloadValue(payload: { type: string; value: string }): unknown {
  if (payload.type === 'number') return Number(payload.value);
  if (payload.type === 'json') return JSON.parse(payload.value);
  return payload.value;
}
