import type { Request } from 'express';
import { roleAllows } from '../auth/permissions.js';
import type { TokenIndex } from '../auth/token-index.js';
import type { StoredToken } from '../auth/token-model.js';
import { AppError } from '../errors/app-error.js';
import type { AuthRequirement } from './route.js';

/** 401 when there is no token we know; 403 when the token is of the wrong kind or role. */
export class Authenticator {
  constructor(private readonly tokens: TokenIndex) {}

  check(req: Request, requirement: AuthRequirement): StoredToken | undefined {
    if (requirement.kind === 'none') return undefined;
    // OFREP's specification also names an X-API-Key header; its routes accept either.
    const apiKey = requirement.kind === 'client-or-frontend' ? req.header('x-api-key') : undefined;
    const token = this.tokens.authenticate(req.headers.authorization ?? apiKey);
    if (!token) throw new AppError('unauthenticated', 'unauthorized', 'a valid token is required in the Authorization header');
    switch (requirement.kind) {
      case 'client':
      case 'frontend':
        if (token.kind !== requirement.kind) {
          throw new AppError('forbidden', 'forbidden', `this route needs a ${requirement.kind} token, not ${aToken(token.kind)}`);
        }
        return token;
      case 'client-or-frontend':
        if (token.kind !== 'client' && token.kind !== 'frontend') {
          throw new AppError('forbidden', 'forbidden', `this route needs a client or frontend token, not ${aToken(token.kind)}`);
        }
        return token;
      case 'alert':
        // Which of its environments an alert may name is the route's to check (the body names them).
        if (token.kind !== 'alert') throw new AppError('forbidden', 'forbidden', `this route needs an alert token, not ${aToken(token.kind)}`);
        return token;
      case 'admin':
        if (token.kind !== 'admin' || !token.role) throw new AppError('forbidden', 'forbidden', `this route needs an admin token, not ${aToken(token.kind)}`);
        if (!roleAllows(token.role, requirement.permission)) {
          throw new AppError('forbidden', 'forbidden', `role ${token.role} may not ${requirement.permission}`);
        }
        return token;
    }
  }
}

/** "an alert token", "a client token". */
const aToken = (kind: string) => `${/^[aeiou]/.test(kind) ? 'an' : 'a'} ${kind} token`;

/** The environment a client or frontend token is bound to. */
export function tokenEnvironment(token: StoredToken | undefined): string {
  if (!token?.environment) throw new AppError('forbidden', 'forbidden', 'this token is not bound to an environment');
  return token.environment;
}
