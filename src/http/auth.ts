import type { Request } from 'express';
import { type Caller, callerOfToken } from '../auth/caller.js';
import { type Permission, roleAllows } from '../auth/permissions.js';
import type { TokenIndex } from '../auth/token-index.js';
import type { StoredToken } from '../auth/token-model.js';
import { AppError } from '../errors/app-error.js';
import type { AuthRequirement } from './route.js';

/**
 * People signed in with OpenID Connect (src/people/): the caller a request's session cookie stands
 * for. Throws 401 for a session that ended, 403 for a write without the session's CSRF token.
 */
export interface SessionAuthenticator {
  callerOf(req: Request): Promise<Caller | undefined>;
}

/** Who a request comes from: the token it sent, and for admin routes the caller (a token's or a session's). */
export interface Authenticated {
  token?: StoredToken;
  caller?: Caller;
}

/**
 * 401 when there is no token we know; 403 when the token is of the wrong kind or role. Admin
 * routes also take a session cookie when the request sends no Authorization header: a token, when
 * sent, always decides (SDKs and automation are never judged by a cookie that happens to be there).
 */
export class Authenticator {
  constructor(
    private readonly tokens: TokenIndex,
    private readonly sessions?: SessionAuthenticator,
  ) {}

  async check(req: Request, requirement: AuthRequirement): Promise<Authenticated> {
    if (requirement.kind === 'none') return {};
    if (requirement.kind === 'admin' && !req.headers.authorization && this.sessions) {
      const caller = await this.sessions.callerOf(req);
      if (caller) return { caller: allowed(caller, requirement.permission) };
    }
    return this.checkToken(req, requirement);
  }

  private checkToken(req: Request, requirement: Exclude<AuthRequirement, { kind: 'none' }>): Authenticated {
    // OFREP's specification also names an X-API-Key header; its routes accept either.
    const apiKey = requirement.kind === 'client-or-frontend' ? req.header('x-api-key') : undefined;
    const token = this.tokens.authenticate(req.headers.authorization ?? apiKey);
    if (!token) throw new AppError('unauthenticated', 'unauthorized', 'a valid token is required in the Authorization header');
    switch (requirement.kind) {
      case 'client':
      case 'frontend':
        if (token.kind !== requirement.kind) throw wrongKind(`a ${requirement.kind} token`, token);
        return { token };
      case 'client-or-frontend':
        if (token.kind !== 'client' && token.kind !== 'frontend') throw wrongKind('a client or frontend token', token);
        return { token };
      case 'alert':
        // Which of its environments an alert may name is the route's to check (the body names them).
        if (token.kind !== 'alert') throw wrongKind('an alert token', token);
        return { token };
      case 'admin': {
        const caller = callerOfToken(token);
        if (!caller) throw wrongKind('an admin token', token);
        return { token, caller: allowed(caller, requirement.permission) };
      }
    }
  }
}

function allowed(caller: Caller, permission: Permission): Caller {
  if (!roleAllows(caller.role, permission)) throw new AppError('forbidden', 'forbidden', `role ${caller.role} may not ${permission}`);
  return caller;
}

/** 403 naming what the route needs and what was sent; `details.tokenKind` lets the dashboard say what a pasted token is for. */
function wrongKind(needed: string, token: StoredToken): AppError {
  return new AppError('forbidden', 'forbidden', `this route needs ${needed}, not ${aToken(token.kind)}`, { tokenKind: token.kind });
}

/** "an alert token", "a client token". */
const aToken = (kind: string) => `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} token`;

/** The environment a client or frontend token is bound to. */
export function tokenEnvironment(token: StoredToken | undefined): string {
  if (!token?.environment) throw new AppError('forbidden', 'forbidden', 'this token is not bound to an environment');
  return token.environment;
}
