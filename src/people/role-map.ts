import { ROLES, type Role } from '../auth/token-model.js';

/**
 * Which role a signed-in person gets, from one claim of their identity provider (OIDC_ROLE_CLAIM,
 * `groups` by default) and an ordered list of rules (OIDC_ROLE_MAP):
 *
 *   rollout-admins=admin,release-managers=release-manager,developers=editor,*=viewer
 *
 * The first rule whose value the person's claim holds decides: roles are not a ladder (a release
 * manager may approve but not edit flags), so "the highest" would mean nothing, and the order the
 * operator wrote is the one thing both sides can read. `*` matches anyone who signed in; without
 * it, a person none of whose values is listed gets no role and no session. Pure: no I/O.
 */

export interface RoleRule {
  /** A claim value, or `*` for anyone. */
  value: string;
  role: Role;
}

/** The most rules one map may hold (README, "Limits"). */
export const MAX_ROLE_RULES = 100;
/** Claim values of one person considered: beyond these a claim is cut short (a directory can list thousands of groups). */
export const MAX_CLAIM_VALUES = 1_000;

export type RoleMapParse = { ok: true; rules: RoleRule[] } | { ok: false; problem: string };

/** Parses OIDC_ROLE_MAP; a problem names the rule (by position and text) and what is wrong with it. */
export function parseRoleMap(text: string): RoleMapParse {
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (entries.length === 0) return { ok: false, problem: 'no rules: write value=role pairs, e.g. rollout-admins=admin,*=viewer' };
  if (entries.length > MAX_ROLE_RULES) return { ok: false, problem: `${entries.length} rules, at most ${MAX_ROLE_RULES}` };
  const rules: RoleRule[] = [];
  const seen = new Set<string>();
  for (const [i, entry] of entries.entries()) {
    const where = `rule ${i + 1} "${entry.length > 60 ? `${entry.slice(0, 59)}…` : entry}"`;
    const at = entry.lastIndexOf('=');
    if (at <= 0) return { ok: false, problem: `${where}: write it as value=role` };
    const value = entry.slice(0, at).trim();
    const role = entry.slice(at + 1).trim();
    if (!(ROLES as readonly string[]).includes(role)) return { ok: false, problem: `${where}: "${role}" is not a role (${ROLES.join(', ')})` };
    if (value.length > 200) return { ok: false, problem: `${where}: a value of at most 200 characters` };
    if (seen.has(value)) return { ok: false, problem: `${where}: "${value}" is mapped twice` };
    seen.add(value);
    rules.push({ value, role: role as Role });
  }
  const wildcard = rules.findIndex((r) => r.value === '*');
  if (wildcard >= 0 && wildcard < rules.length - 1)
    return { ok: false, problem: `rule ${wildcard + 1} "*": the rule for anyone must come last, or the rules after it never apply` };
  return { ok: true, rules };
}

/**
 * The values of `claim` in a person's claims, as strings: a string, a list of strings, or (for
 * providers that nest roles, e.g. `realm_access.roles`) the same found by a dotted path. A claim
 * whose full name holds dots (`https://example.com/groups`) is looked up as it is first.
 */
export function claimValues(claims: Record<string, unknown>, claim: string): string[] {
  const found = claim in claims ? claims[claim] : claim.split('.').reduce<unknown>((at, key) => (isRecord(at) ? at[key] : undefined), claims);
  const values = typeof found === 'string' ? [found] : Array.isArray(found) ? found.filter((v): v is string => typeof v === 'string') : [];
  return values.slice(0, MAX_CLAIM_VALUES);
}

/** The role a person's claims give, or undefined when no rule matches. */
export function roleFor(claims: Record<string, unknown>, claim: string, rules: RoleRule[]): Role | undefined {
  const values = new Set(claimValues(claims, claim));
  return rules.find((rule) => rule.value === '*' || values.has(rule.value))?.role;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
