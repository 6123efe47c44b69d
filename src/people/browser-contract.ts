/**
 * What sign-in's server side and the dashboard must agree on, in one dependency-free module the
 * dashboard's bundle imports too.
 */

/** The header a session's writes carry their CSRF token in. */
export const CSRF_HEADER = 'X-CSRF-Token';

/**
 * Where a person may ask to be sent after signing in: a dashboard route (`#/rollouts/…`), never an
 * address of its own, so /auth/login cannot be made to lead anyone off this site.
 */
export const RETURN_TO_PATTERN = /^#\/[\w\-./?=&%~:]*$/;
export const RETURN_TO_MAX_CHARS = 500;
