import type { z } from 'zod';
import { AppError } from '../errors/app-error.js';

/** Validation errors: zod's issues as field paths and messages people can act on. */

export interface FieldIssue {
  path: string;
  message: string;
}

/**
 * At most this many problems are listed for one request body or one file (details.issues of a 400,
 * the lines `rolloutctl apply` and the start-up log give for a file); the rest are counted.
 */
export const MAX_LISTED_PROBLEMS = 20;
/** A message, a path, and each key within a path are cut short past these: keys and some messages quote the input. */
export const MAX_MESSAGE_CHARS = 300;
const MAX_PATH_CHARS = 300;
/** Names written here (flags, environments) have at most 100 characters: never cut. A longer key (a flag name an import kept) is. */
const MAX_KEY_CHARS = 100;

const cut = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * Turns zod's issues into "path: message" pairs that name the field, e.g.
 * features[3].strategies[0].parameters.rollout: at most `max` of them (the count of the rest is
 * error.issues.length − max), each bounded in length whatever the input.
 */
export function describeIssues(error: z.ZodError, root = '', max = MAX_LISTED_PROBLEMS): FieldIssue[] {
  return error.issues.slice(0, max).map((issue) => ({ path: boundedPath(root, issue.path), message: cut(issue.message, MAX_MESSAGE_CHARS) }));
}

/** formatPath, with each key from the input (a record's key) and the whole cut short. */
export function boundedPath(root: string, path: ReadonlyArray<PropertyKey>): string {
  return cut(
    formatPath(
      root,
      path.map((part) => (typeof part === 'number' ? part : cut(String(part), MAX_KEY_CHARS))),
    ),
    MAX_PATH_CHARS,
  );
}

export function formatPath(root: string, path: ReadonlyArray<PropertyKey>): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}

/** "and 3 more problems". */
export const moreProblems = (count: number) => `and ${count} more problem${count === 1 ? '' : 's'}`;

/** The first problem, and how many more there are: "steps[1]: steps must increase (and 3 more problems)". */
export function summariseIssues(issues: readonly FieldIssue[], total = issues.length): string {
  const first = issues[0];
  if (!first) return 'invalid';
  return `${first.path}: ${first.message}${total > 1 ? ` (${moreProblems(total - 1)})` : ''}`;
}

/**
 * A 400 naming every problem at once: the message summarises (the first and how many more, unless
 * `summary` words it otherwise),
 * details.issues lists them (at most MAX_LISTED_PROBLEMS; details.unlisted counts the rest).
 * `total` is how many there are when `issues` holds only the first of them.
 */
export function issuesError(where: string, issues: readonly FieldIssue[], total = issues.length, summary?: string): AppError {
  const listed = issues
    .slice(0, MAX_LISTED_PROBLEMS)
    // Issues may say more than path and message (a backup's collection and document): every text is cut short.
    .map((issue) => ({
      ...Object.fromEntries(Object.entries(issue).map(([k, v]) => [k, typeof v === 'string' ? cut(v, MAX_MESSAGE_CHARS) : v])),
      path: cut(issue.path, MAX_PATH_CHARS),
      message: cut(issue.message, MAX_MESSAGE_CHARS),
    }));
  const unlisted = total - listed.length;
  return new AppError('invalid', 'validation_failed', `invalid ${where}: ${cut(summary ?? summariseIssues(listed, total), MAX_MESSAGE_CHARS)}`, {
    issues: listed,
    ...(unlisted > 0 ? { unlisted } : {}),
  });
}

export function validationError(where: string, error: z.ZodError, root = ''): AppError {
  return issuesError(where, describeIssues(error, root), error.issues.length);
}
