import type { z } from 'zod';
import { describeIssues, summariseIssues, type FieldIssue } from './issues.js';

/** A stored document that does not pass its collection's schema, and where. */
export interface DocumentProblem {
  collection: string;
  id: string;
  issues: FieldIssue[];
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: DocumentProblem };

/**
 * Checks one stored document with the schema its readers use. Readers skip a document that fails
 * (and say so at ERROR) rather than stop: one bad document must not take every flag of every
 * replica down with it. A restore refuses the whole backup instead (nothing is served from it yet).
 */
export function checkDocument<S extends z.ZodType>(schema: S, collection: string, id: string, value: unknown): Checked<z.output<S>> {
  const parsed = schema.safeParse(value);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, problem: { collection, id, issues: describeIssues(parsed.error) } };
}

/** "flags/checkout: environments.production.strategies: expected array, received string (and 1 more problem)". */
export function describeProblem(problem: DocumentProblem): string {
  return `${problem.collection}/${problem.id}: ${summariseIssues(problem.issues)}`;
}
