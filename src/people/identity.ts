import type { Role } from '../auth/token-model.js';
import { roleFor, type RoleRule } from './role-map.js';
import { personId, type SessionPerson } from './session-model.js';

/** Longest name and e-mail kept of a person (longer ones are cut): they show in the audit log and on every approval. */
const MAX_NAME_CHARS = 200;
const MAX_EMAIL_CHARS = 320;

export type SignInVerdict = { kind: 'admitted'; person: SessionPerson; role: Role } | { kind: 'no-role'; person: SessionPerson };

/**
 * Who signed in and which role they get, from their provider's claims. Pure. The name shown is the
 * provider's `name`, else `preferred_username`, else the e-mail, else the subject.
 */
export function judgeSignIn(claims: Record<string, unknown>, issuer: URL, roleClaim: string, rules: RoleRule[]): SignInVerdict {
  const subject = String(claims.sub);
  const email = text(claims.email, MAX_EMAIL_CHARS);
  const name = text(claims.name, MAX_NAME_CHARS) ?? text(claims.preferred_username, MAX_NAME_CHARS) ?? email ?? subject.slice(0, MAX_NAME_CHARS);
  const person: SessionPerson = { id: personId(issuer, subject), issuer: issuer.href, subject, name, ...(email ? { email } : {}) };
  const role = roleFor(claims, roleClaim, rules);
  return role ? { kind: 'admitted', person, role } : { kind: 'no-role', person };
}

function text(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed.slice(0, max);
}
