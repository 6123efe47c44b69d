import type { ErrorKind } from '../errors/app-error.js';

/** The HTTP status of each kind of error: the only place the project's errors meet HTTP. */
export const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  stale: 412,
  'too-large': 413,
  refused: 422,
  'rate-limited': 429,
  internal: 500,
  unavailable: 503,
};

/** The kind an HTTP status stands for, for errors raised by HTTP middleware (body parsing). */
export function kindOfStatus(status: number): ErrorKind {
  const found = (Object.entries(STATUS_OF) as Array<[ErrorKind, number]>).find(([, s]) => s === status);
  return found ? found[0] : status >= 500 ? 'internal' : 'invalid';
}
