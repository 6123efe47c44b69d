import type { Request } from 'express';
import type { Caller } from '../auth/caller.js';
import { AppError } from '../errors/app-error.js';
import type { SessionAuthenticator } from '../http/auth.js';
import { CSRF_HEADER } from './browser-contract.js';
import type { SessionCookies } from './session-cookies.js';
import { csrfTokenMatches, csrfTokenOf, looksLikeSessionSecret, type StoredSession } from './session-model.js';
import type { SessionService } from './session-service.js';

/** Methods that change nothing: the only ones a session may use without its CSRF token. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Admin requests that come with a session cookie instead of a token. The cookie alone is not
 * enough for a write: a page on another site can make a browser send it (a form post), but cannot
 * read the CSRF token the dashboard got from GET /api/admin/me, so every POST, PUT, PATCH and
 * DELETE must carry it in X-CSRF-Token.
 */
export class SessionGate implements SessionAuthenticator {
  constructor(
    private readonly sessions: SessionService,
    private readonly cookies: SessionCookies,
  ) {}

  async callerOf(req: Request): Promise<Caller | undefined> {
    const found = await this.sessionOf(req);
    if (!found) return undefined;
    const { secret, session } = found;
    if (!SAFE_METHODS.has(req.method)) assertCsrfToken(req, secret);
    return callerOfSession(secret, session);
  }

  /** The request's session: undefined without a session cookie; 401 for one that ended. */
  async sessionOf(req: Request): Promise<{ secret: string; session: StoredSession } | undefined> {
    const secret = this.cookies.sessionOf(req);
    if (secret === undefined) return undefined;
    const session = looksLikeSessionSecret(secret) ? await this.sessions.find(secret) : undefined;
    if (!session) throw new AppError('unauthenticated', 'session_ended', 'your session has ended (signed out or expired): sign in again');
    return { secret, session };
  }
}

/** 403 `csrf_token_missing` or `csrf_token_invalid` unless the request carries the session's CSRF token. */
export function assertCsrfToken(req: Request, secret: string): void {
  const sent = req.header(CSRF_HEADER);
  if (!sent)
    throw new AppError(
      'forbidden',
      'csrf_token_missing',
      `a write made with a session needs its CSRF token in the ${CSRF_HEADER} header (GET /api/admin/me gives it)`,
    );
  if (!csrfTokenMatches(secret, sent))
    throw new AppError('forbidden', 'csrf_token_invalid', `the ${CSRF_HEADER} header does not hold this session’s CSRF token`);
}

function callerOfSession(secret: string, session: StoredSession): Caller {
  const { person, role, expiresAt } = session;
  return {
    id: person.id,
    name: person.name,
    role,
    via: 'session',
    ...(person.email ? { email: person.email } : {}),
    session: { csrfToken: csrfTokenOf(secret), expiresAt },
  };
}
