import { AppError, type ErrorKind } from './app-error.js';

/**
 * A request refused because it went past one of the documented limits (README, "Limits"): a body
 * too large, too many streams, too many requests. `limit` names the limit (its environment
 * variable where it has one), so the HTTP edge can log each client's first refusal of a kind once
 * rather than every request; `retryAfterSeconds` becomes the Retry-After header of a 429.
 */
export class LimitError extends AppError {
  constructor(
    kind: Extract<ErrorKind, 'too-large' | 'rate-limited' | 'invalid'>,
    errorId: string,
    message: string,
    readonly limit: string,
    retryAfterSeconds?: number,
  ) {
    super(kind, errorId, message, undefined, retryAfterSeconds);
    this.name = 'LimitError';
  }
}
