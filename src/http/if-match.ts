import type { Request } from 'express';
import { AppError } from '../errors/app-error.js';

/**
 * The version a caller acted on, from If-Match ("7" or W/"7": the ETag of the GET they read), or
 * undefined when they sent none. `what` names the document in the error, e.g. "flag".
 */
export function ifMatchVersion(req: Request, what: string): number | undefined {
  const header = req.header('if-match');
  if (header === undefined) return undefined;
  const version = Number(header.replace(/^W\//, '').replace(/"/g, ''));
  if (!Number.isInteger(version) || version < 0)
    throw new AppError('invalid', 'validation_failed', `invalid header: If-Match: expected a ${what} version such as "3" (the ETag of its GET)`);
  return version;
}
