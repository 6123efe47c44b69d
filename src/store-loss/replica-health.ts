import type { Logger } from '../logger.js';
import { describeProblem, type DocumentProblem } from '../validation/stored-documents.js';
import type { LossReport } from './store-marks.js';

/** /readyz: loaded, the store answers, and the store still holds what this replica loaded. */
export function readiness(
  loaded: boolean,
  storeUp: boolean,
  loss: LossReport | undefined,
): { ready: boolean; checks: Record<string, boolean>; reason?: string } {
  const checks = { state: loaded, store: storeUp, storeIntact: loss === undefined };
  const reason = loss
    ? `the store lost data (${loss.reason}): a person restores a backup or accepts the loss (POST /api/admin/store/accept-loss)`
    : !storeUp
      ? 'the store does not answer'
      : !loaded
        ? 'flag state is not loaded yet'
        : undefined;
  return { ready: reason === undefined, checks, ...(reason ? { reason } : {}) };
}

/**
 * A stored document its reader cannot use is left out (not served, not accepted as a token) rather
 * than stopping the replica: one bad document must not take every other flag down on every replica.
 * ERROR: a person must fix it (a PUT of the flag through the API, which validates, replaces it).
 */
export function logInvalidDocument(logger: Logger): (problem: DocumentProblem) => void {
  return (problem) =>
    logger.error(
      { collection: problem.collection, document: problem.id, field: problem.issues[0]?.path, problems: problem.issues.length },
      `stored document ${describeProblem(problem)}: left out until it is fixed`,
    );
}
