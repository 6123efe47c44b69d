import type { z } from 'zod';
import { describeIssues } from '../validation/issues.js';
import { authoredFeatureSchema, type ImportPayload } from './import-schema.js';
import { authoredSegmentSchema } from './schema.js';
import { danglingInStrategies } from './segment-references.js';

/**
 * What an import kept that authoring (a PUT, a flag file) would refuse: an operator this server does
 * not know, a regular expression that does not compile, a json payload that does not parse, a
 * reference to a segment that does not exist, a name outside the authored rule. Each is served as it
 * came, and SDKs evaluate it as the client specification says (such a constraint or strategy matches
 * no one; such a payload reaches the application as its text); the report tells the
 * importer which flags will need fixing before anyone can edit them here. Pure: computed from the
 * payload and the segments that exist.
 */
export interface KeptValue {
  /** The flag it is in, or, for a segment's constraint, the segment's id. */
  flag?: string;
  segment?: number;
  /** Where in the import body (features[3].strategies[0].constraints[1].operator). */
  path: string;
  /** What authoring would have said. */
  problem: string;
}

/** At most this many are listed in the import's answer; the rest are counted (`unlisted`). */
export const MAX_LISTED_KEPT = 100;

export function keptByImport(payload: ImportPayload, knownSegments: ReadonlySet<number>): KeptValue[] {
  const kept: KeptValue[] = [];
  (payload.segments ?? []).forEach((segment, i) => {
    for (const issue of authoringIssues(authoredSegmentSchema, segment, `segments[${i}]`)) kept.push({ segment: segment.id, ...issue });
  });
  payload.features.forEach((feature, i) => {
    for (const issue of authoringIssues(authoredFeatureSchema, feature, `features[${i}]`)) kept.push({ flag: feature.name, ...issue });
    for (const p of danglingInStrategies(feature.strategies, knownSegments, `features[${i}].strategies`)) {
      kept.push({ flag: feature.name, path: p.path, problem: p.message });
    }
  });
  return kept;
}

function authoringIssues(schema: z.ZodType, value: unknown, root: string): Array<Pick<KeptValue, 'path' | 'problem'>> {
  const checked = schema.safeParse(value);
  if (checked.success) return [];
  return describeIssues(checked.error, root, Number.POSITIVE_INFINITY).map((i) => ({ path: i.path, problem: i.message }));
}

export interface ImportAnswer {
  imported: number;
  kept?: KeptValue[];
  unlisted?: number;
}

/**
 * The import's answer: how many flags, and what was kept (at most MAX_LISTED_KEPT, the rest counted).
 * An import that kept nothing answers `{imported}` alone, exactly as before there was anything to report.
 */
export function importAnswer(imported: number, kept: KeptValue[]): ImportAnswer {
  if (kept.length === 0) return { imported };
  const answer: ImportAnswer = { imported, kept: kept.slice(0, MAX_LISTED_KEPT) };
  if (kept.length > MAX_LISTED_KEPT) answer.unlisted = kept.length - MAX_LISTED_KEPT;
  return answer;
}
