import { AppError } from '../http/app-error.js';

/** A compare-and-set expectation, log position or fence did not hold; nothing was written. */
export class ConflictError extends Error {
  constructor(readonly reason: string) {
    super(`store conflict: ${reason}`);
    this.name = 'ConflictError';
  }
}

/**
 * The store could not be reached, or could not confirm a write on the replicas asked for. An
 * AppError with status 503, so an HTTP caller is told to retry later rather than shown a bug.
 * The message says what happened without any address or secret.
 */
export class StoreUnavailableError extends AppError {
  constructor(message: string) {
    super(503, 'store_unavailable', message);
    this.name = 'StoreUnavailableError';
  }
}
