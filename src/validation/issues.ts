import type { z } from 'zod';
import { AppError } from '../errors/app-error.js';

/** Validation errors: zod's issues as field paths and messages people can act on. */

export interface FieldIssue {
  path: string;
  message: string;
}

/** Turns zod's issues into "path: message" pairs that name the field, e.g. features[3].strategies[0].parameters.rollout. */
export function describeIssues(error: z.ZodError, root = ''): FieldIssue[] {
  return error.issues.map((issue) => ({ path: formatPath(root, issue.path), message: issue.message }));
}

export function formatPath(root: string, path: ReadonlyArray<PropertyKey>): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * At most this many problems are listed for one request body or one file (details.issues of a 400,
 * the lines `rolloutctl apply` and the start-up log give for a file); the rest are counted.
 */
export const MAX_LISTED_PROBLEMS = 50;

/** "and 3 more problems". */
export const moreProblems = (count: number) => `and ${count} more problem${count === 1 ? '' : 's'}`;

/** The first problem, and how many more there are: "steps[1]: steps must increase (and 3 more problems)". */
export function summariseIssues(issues: readonly FieldIssue[]): string {
  const first = issues[0];
  if (!first) return 'invalid';
  return `${first.path}: ${first.message}${issues.length > 1 ? ` (${moreProblems(issues.length - 1)})` : ''}`;
}

/**
 * A 400 naming every problem at once: the message summarises (the first and how many more, unless
 * `summary` words it otherwise),
 * details.issues lists them (at most MAX_LISTED_PROBLEMS; details.unlisted counts the rest).
 */
export function issuesError(where: string, issues: readonly FieldIssue[], summary = summariseIssues(issues)): AppError {
  const listed = issues.slice(0, MAX_LISTED_PROBLEMS);
  const unlisted = issues.length - listed.length;
  return new AppError('invalid', 'validation_failed', `invalid ${where}: ${summary}`, {
    issues: listed,
    ...(unlisted > 0 ? { unlisted } : {}),
  });
}

export function validationError(where: string, error: z.ZodError, root = ''): AppError {
  return issuesError(where, describeIssues(error, root));
}
