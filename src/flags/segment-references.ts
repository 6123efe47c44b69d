import type { FlagDefinition, Segment, Strategy } from './schema.js';

export interface Problem {
  path: string;
  message: string;
}

/**
 * A strategy that names a segment we do not have would be evaluated differently by different SDK
 * generations, so such a flag is refused at the door. `strategiesPath` is where the list sits in
 * the caller's input, so the error names the field the person actually wrote.
 */
export function danglingInStrategies(strategies: Strategy[], known: ReadonlySet<number>, strategiesPath: string): Problem[] {
  const problems: Problem[] = [];
  strategies.forEach((strategy, i) => {
    (strategy.segments ?? []).forEach((id, j) => {
      if (!known.has(id)) problems.push({ path: `${strategiesPath}[${i}].segments[${j}]`, message: `segment ${id} does not exist` });
    });
  });
  return problems;
}

export function danglingSegmentReferences(flag: Pick<FlagDefinition, 'environments'>, known: ReadonlySet<number>, pathPrefix: string): Problem[] {
  return Object.entries(flag.environments).flatMap(([env, config]) =>
    danglingInStrategies(config.strategies, known, `${pathPrefix}environments.${env}.strategies`),
  );
}

export function segmentIds(segments: Iterable<Segment>): Set<number> {
  return new Set([...segments].map((s) => s.id));
}
