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

export function validationError(where: string, error: z.ZodError, root = ''): AppError {
  const issues = describeIssues(error, root);
  const first = issues[0];
  const summary = first ? `${first.path}: ${first.message}` : 'invalid';
  return new AppError('invalid', 'validation_failed', `invalid ${where}: ${summary}`, { issues });
}
