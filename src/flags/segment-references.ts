import type { FlagDefinition, Segment } from './schema.js';

/**
 * A strategy that names a segment we do not have would be evaluated differently by different SDK
 * generations, so such a flag is refused at the door. Returns "path: problem" for each dangling reference.
 */
export function danglingSegmentReferences(
  flag: Pick<FlagDefinition, 'environments'>,
  known: ReadonlySet<number>,
  pathPrefix: string,
): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  for (const [env, config] of Object.entries(flag.environments)) {
    config.strategies.forEach((strategy, i) => {
      (strategy.segments ?? []).forEach((id, j) => {
        if (!known.has(id)) {
          problems.push({ path: `${pathPrefix}environments.${env}.strategies[${i}].segments[${j}]`, message: `segment ${id} does not exist` });
        }
      });
    });
  }
  return problems;
}

export function segmentIds(segments: Iterable<Segment>): Set<number> {
  return new Set([...segments].map((s) => s.id));
}
