import type { Constraint, Segment, StoredFlag, Strategy } from './schema.js';
import { forEnvironment } from './per-environment.js';

/**
 * Pure rendering of stored flags into Unleash's client API shape for one environment.
 * This is the only place that decides what an SDK sees, so the kill switch lives here:
 * a killed flag is served disabled whatever its strategies say.
 */

export interface ClientFeature {
  name: string;
  type: string;
  description: string | null;
  project: string;
  enabled: boolean;
  stale: boolean;
  impressionData: boolean;
  strategies: Array<Omit<Strategy, 'disabled' | 'segments' | 'id' | 'title' | 'sortOrder'> & { segments?: number[] }>;
  variants: StoredFlag['environments'][string]['variants'];
  dependencies?: StoredFlag['dependencies'];
}

export interface ClientSegment {
  id: number;
  name?: string;
  constraints: Constraint[];
}

export type SegmentLookup = ReadonlyMap<number, Segment>;

/**
 * @param inlineSegments for SDKs older than client spec 4.2.0, which do not know segments:
 *   each strategy gets its segments' constraints prepended (all must hold, as segments do).
 */
export function toClientFeature(flag: StoredFlag, env: string, segments: SegmentLookup, inlineSegments: boolean): ClientFeature {
  const config = forEnvironment(flag.environments, env);
  const killed = forEnvironment(flag.killSwitches, env) !== undefined;
  const strategies = sortStrategies(config?.strategies ?? [])
    .filter((s) => !s.disabled)
    .map((s) => renderStrategy(s, segments, inlineSegments));
  const feature: ClientFeature = {
    name: flag.name,
    type: flag.type,
    description: flag.description ?? null,
    project: flag.project,
    enabled: (config?.enabled ?? false) && !killed,
    stale: flag.stale,
    impressionData: flag.impressionData,
    strategies,
    variants: config?.variants ?? [],
  };
  if (flag.dependencies.length > 0) feature.dependencies = flag.dependencies;
  return feature;
}

/**
 * The order of strategies decides whose variants win, so it follows sortOrder as in Unleash
 * (strategies without one keep their place after those with one; the sort is stable).
 */
function sortStrategies(strategies: Strategy[]): Strategy[] {
  return strategies.some((s) => s.sortOrder !== undefined)
    ? [...strategies].sort((a, b) => (a.sortOrder ?? Number.MAX_SAFE_INTEGER) - (b.sortOrder ?? Number.MAX_SAFE_INTEGER))
    : strategies;
}

/** id, title and sortOrder are for people, not SDKs (some SDKs choke on strategy ids), so they are not served. */
function renderStrategy(s: Strategy, segments: SegmentLookup, inline: boolean): ClientFeature['strategies'][number] {
  const { disabled: _disabled, segments: segmentIds, id: _id, title: _title, sortOrder: _sortOrder, ...rest } = s;
  const out: ClientFeature['strategies'][number] = { ...rest };
  if (!segmentIds || segmentIds.length === 0) return out;
  if (!inline) return { ...out, segments: segmentIds };
  const segmentConstraints = segmentIds.flatMap((id) => segments.get(id)?.constraints ?? [impossibleConstraint(id)]);
  return { ...out, constraints: [...segmentConstraints, ...s.constraints] };
}

/**
 * A strategy that references a segment we do not have must not match anyone (that is what
 * spec-4.2 SDKs do with an unknown segment); for old SDKs we express it as a constraint that never holds.
 */
function impossibleConstraint(segmentId: number): Constraint {
  return { contextName: `__missing_segment_${segmentId}`, operator: 'IN', values: [] };
}

export function toClientSegment(segment: Segment): ClientSegment {
  return segment.name === undefined
    ? { id: segment.id, constraints: segment.constraints }
    : { id: segment.id, name: segment.name, constraints: segment.constraints };
}

/** Unleash started sending segments separately in client spec 4.2.0; older SDKs need them inlined. */
export function clientSpecSupportsSegments(specHeader: string | undefined): boolean {
  if (!specHeader) return false;
  const [major = 0, minor = 0] = specHeader.split('.').map((p) => Number.parseInt(p, 10) || 0);
  return major > 4 || (major === 4 && minor >= 2);
}
