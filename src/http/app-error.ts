import type { z } from 'zod';

/**
 * The one error type of the project: an HTTP status, a stable machine-readable id,
 * a message for people, and optional details (for validation, the field paths).
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly errorId: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  static notFound(what: string): AppError {
    return new AppError(404, 'not_found', `${what} was not found`);
  }

  static conflict(message: string): AppError {
    return new AppError(409, 'conflict', message);
  }
}

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
  return new AppError(400, 'validation_failed', `invalid ${where}: ${summary}`, { issues });
}
