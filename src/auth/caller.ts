import type { Actor } from '../audit/chain.js';
import type { Role, StoredToken } from './token-model.js';

/**
 * Who calls an admin route, however they proved it: an admin token in the Authorization header
 * (automation, rolloutctl, a person who pasted one), or a person's session cookie (signed in with
 * OpenID Connect). Routes decide with this alone, so approvals, the audit log and separation of
 * duties treat a signed-in person exactly as they treat a token: by id, name and role.
 */
export interface Caller {
  /** A token's id, or a signed-in person's stable id (`oidc:<issuer host>:<subject>`). */
  id: string;
  name: string;
  role: Role;
  via: 'token' | 'session';
  /** A signed-in person's e-mail, as their identity provider gave it. */
  email?: string;
  /** A signed-in person's session: the CSRF token its writes must send, and when it ends. */
  session?: { csrfToken: string; expiresAt: string };
}

/** An admin token as a caller; undefined for any other kind (they never reach admin routes). */
export function callerOfToken(token: StoredToken): Caller | undefined {
  if (token.kind !== 'admin' || !token.role) return undefined;
  return { id: token.id, name: token.name, role: token.role, via: 'token' };
}

/** The caller as the audit log names it. */
export function actorOf(caller: Caller): Actor {
  return { type: caller.via === 'session' ? 'person' : 'token', id: caller.id, name: caller.name };
}

/** The caller as a rollout records who started, approved or commanded it. */
export function personOf(caller: Caller | undefined): { id: string; name: string; role?: string } {
  return caller ? { id: caller.id, name: caller.name, role: caller.role } : { id: 'anonymous', name: 'anonymous' };
}
