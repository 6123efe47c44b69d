import type { Config } from '../config/config.js';
import type { AuthRequirement } from './route.js';

/**
 * Route families and their body limits (README, "Limits"). A family's limit is set by its
 * environment variable; each route names its family, or gets the one its token kind implies.
 */
export type BodyFamily = 'client' | 'outcomes' | 'evaluation' | 'alerts' | 'admin' | 'import' | 'restore';

/** The variable that sets each family's limit: what logs and refusals name. */
export const BODY_LIMIT_VARIABLE = {
  client: 'BODY_LIMIT_CLIENT',
  outcomes: 'BODY_LIMIT_OUTCOMES',
  evaluation: 'BODY_LIMIT_EVALUATION',
  alerts: 'BODY_LIMIT_ALERTS',
  admin: 'BODY_LIMIT_ADMIN',
  import: 'BODY_LIMIT_IMPORT',
  restore: 'BODY_LIMIT_RESTORE',
} as const satisfies Record<BodyFamily, keyof Config>;

export type BodyLimits = Record<BodyFamily, number>;

export function bodyLimitsOf(config: Config): BodyLimits {
  return Object.fromEntries(Object.entries(BODY_LIMIT_VARIABLE).map(([family, variable]) => [family, config[variable]])) as BodyLimits;
}

/**
 * Validating a value costs far more than reading its bytes, and a list of small wrong values
 * ([1,1,1,…]) packs one value into every two bytes: so a body may hold at most one JSON value (an
 * array entry or object member, nested ones included) per this many bytes of its family's limit.
 * Real bodies use ten bytes or more per value.
 */
export const BYTES_PER_VALUE = 8;
/** Deeper than any document the API takes: one limit for bodies and for backups read from files. */
export { MAX_JSON_DEPTH } from '../validation/json-depth.js';

/** The family of a route that does not name one: the one its callers' token kind implies, none for public routes. */
export function defaultFamily(auth: AuthRequirement): BodyFamily | undefined {
  switch (auth.kind) {
    case 'none':
      return undefined;
    case 'client':
      return 'client';
    case 'frontend':
    case 'client-or-frontend':
      return 'evaluation';
    case 'alert':
      return 'alerts';
    case 'admin':
      return 'admin';
  }
}

/** "256 kB", "1 MB": a limit as people read it. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 2 && bytes % 1024 ** 2 === 0) return `${bytes / 1024 ** 2} MB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} kB`;
  return `${bytes} bytes`;
}
