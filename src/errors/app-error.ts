/**
 * The project's errors, in its own words: what kind of failure it is and a stable id, never an
 * HTTP status. The HTTP edge (src/http/error-status.ts) is the one place that turns a kind into a
 * status code, so the decision core, the store and the services can be read without HTTP in mind.
 */

export type ErrorKind =
  /** The input is malformed or names a field wrongly. */
  | 'invalid'
  /** No credentials, or unknown ones. */
  | 'unauthenticated'
  /** Known caller, not allowed (role, environment, separation of duties). */
  | 'forbidden'
  | 'not-found'
  /** The request contradicts the current state (a rollout already active, a step not awaited). */
  | 'conflict'
  /** The caller acted on a version that is no longer current (If-Match). */
  | 'stale'
  | 'too-large'
  /** Well formed, but refused by a rule (a policy below an environment's guard rails). */
  | 'refused'
  | 'rate-limited'
  /** The store could not be reached or could not confirm a write: try again later. */
  | 'unavailable'
  | 'internal';

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** Stable, machine-readable: clients branch on it. */
    readonly errorId: string,
    message: string,
    readonly details?: unknown,
    /** When a retry may succeed (the HTTP edge sends it as Retry-After). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }

  static notFound(what: string): AppError {
    return new AppError('not-found', 'not_found', `${what} was not found`);
  }

  static conflict(message: string): AppError {
    return new AppError('conflict', 'conflict', message);
  }
}

/**
 * Why a store commit did not hold; nothing was written. `fence`: the writer's lease is gone
 * (another replica leads); `version`: a document changed since it was read; `append`: a log moved on.
 */
export type ConflictKind = 'fence' | 'version' | 'append';

export class ConflictError extends Error {
  constructor(
    readonly kind: ConflictKind,
    readonly reason: string,
  ) {
    super(`store conflict: ${reason}`);
    this.name = 'ConflictError';
  }
}

/** What a caller is told to wait before retrying a write the store could not take now. */
export const STORE_RETRY_AFTER_SECONDS = 2;

/**
 * The store could not be reached, or could not confirm a write on the replicas asked for, so a
 * caller is told to retry later rather than shown a bug. The message names no address or secret.
 */
export class StoreUnavailableError extends AppError {
  constructor(message: string) {
    super('unavailable', 'store_unavailable', message, undefined, STORE_RETRY_AFTER_SECONDS);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * The embedded store's files are damaged, so it does not start, and changes nothing: `file` (a
 * path), the byte `offset` where the damage was found, and the sequence of the last record before
 * it that is good (null when the damaged file is the base the records extend).
 */
export class StoreDamagedError extends AppError {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly lastGoodSeq: number | null,
    readonly problem: string,
    /** What a person can do now; by default, restore a backup or start once with the repair flag. */
    hint = 'Nothing was changed. Restore a backup, or start once with --repair (or EMBEDDED_REPAIR=true) to keep every good record and set the damaged file aside (docs/operations.md, "When the embedded store is damaged").',
  ) {
    super(
      'internal',
      'store_damaged',
      `embedded store damaged: ${file} at byte ${offset}: ${problem}; the last good record is ${lastGoodSeq === null ? 'none' : `sequence ${lastGoodSeq}`}. ${hint}`,
      { file, offset, lastGoodSeq, problem },
    );
    this.name = 'StoreDamagedError';
  }
}
