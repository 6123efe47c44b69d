import type { Role } from './token-model.js';

/**
 * What each admin role may do. Roles are not a simple ladder: release managers approve and kill
 * but do not edit flag definitions, so that the person who changes a flag is not the one who signs
 * off its release.
 */
export const PERMISSIONS = {
  read: ['viewer', 'editor', 'release-manager', 'admin'],
  'flags:write': ['editor', 'admin'],
  'flags:kill': ['editor', 'release-manager', 'admin'],
  /** A rollback drill turns a flag off for real users for up to minutes: the people who sign off releases. */
  'flags:drill': ['release-manager', 'admin'],
  /**
   * Policies and environment rules decide how much scrutiny a release gets, so only admins write
   * them; editors propose policies (stored and audited, applied when an admin accepts).
   */
  'policies:write': ['admin'],
  'policies:propose': ['editor', 'admin'],
  'environments:write': ['admin'],
  'rollouts:start': ['editor', 'release-manager', 'admin'],
  'rollouts:approve': ['release-manager', 'admin'],
  'tokens:manage': ['admin'],
  /** Webhooks hold signing secrets and decide where rollout news goes: admins only (everyone may read them, without secrets). */
  'webhooks:manage': ['admin'],
  /** Routing rules decide which alerts may stop which releases: admins only, like the policies. */
  'alert-routes:write': ['admin'],
  /** A backup holds every token hash and webhook secret; a restore writes a whole deployment: admins only. */
  'backup:export': ['admin'],
  'backup:import': ['admin'],
  /** Accepting that the store lost data makes what it holds now the truth, for good: admins only. */
  'store:accept-loss': ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function roleAllows(role: Role, permission: Permission): boolean {
  return (PERMISSIONS[permission] as readonly Role[]).includes(role);
}
