/**
 * rolloutctl's exit codes: part of its interface, since scripts and CI branch on them.
 * Documented in docs/dashboard-and-cli.md and in `rolloutctl --help`.
 */
export const EXIT = {
  ok: 0,
  /** Bad arguments, a missing token, an invalid local file, or an apply that was not confirmed. */
  usage: 1,
  /** The controller refused the request (4xx other than 401/403): not found, conflict, invalid; or apply would undo a rollout's percentage. */
  refused: 2,
  /** The controller could not be reached, timed out, or failed (5xx). */
  unreachable: 3,
  /** The token was refused (401) or may not do this (403). */
  auth: 4,
  /** A drill ran but did not verify: an SDK instance never had the kill, or the flag was not restored. */
  unverified: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  usage error, missing token, invalid local file, or apply not confirmed
  2  the controller refused the request (HTTP 4xx: not found, conflict, invalid),
     or apply would undo the percentage a rollout set (see apply --force)
  3  the controller could not be reached, timed out or failed (HTTP 5xx)
  4  the token was refused (HTTP 401) or lacks the role (HTTP 403)
  5  a drill ran but was not verified (an SDK instance never had the kill,
     or the flag was not restored)`;

/** An error that ends the command with a message and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    /** Extra lines for stderr, e.g. one per invalid file. */
    readonly details: string[] = [],
    readonly status?: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 401 || status === 403) return EXIT.auth;
  if (status >= 500) return EXIT.unreachable;
  return EXIT.refused;
}
