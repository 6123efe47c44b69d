import type { Request, Response } from 'express';
import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import { STATUS_OF } from '../http/error-status.js';
import { defineRoute, type RouteSpec } from '../http/route.js';
import type { Logger } from '../logger.js';
import { sendAuthPage } from './auth-pages.js';
import { judgeSignIn } from './identity.js';
import { CSRF_HEADER, RETURN_TO_MAX_CHARS, RETURN_TO_PATTERN } from './browser-contract.js';
import type { LoginStateSeal } from './login-state.js';
import type { OidcSettings } from './oidc-config.js';
import type { OidcClient } from './oidc-client.js';
import type { SessionCookies } from './session-cookies.js';
import { assertCsrfToken, type SessionGate } from './session-gate.js';
import type { SessionService } from './session-service.js';

const TAG = 'Sign-in';

/** Everything sign-in needs; absent when OIDC is not configured (then only /auth/config answers, saying so). */
export interface SignIn {
  settings: OidcSettings;
  client: OidcClient;
  seal: LoginStateSeal;
  cookies: SessionCookies;
  sessions: SessionService;
  gate: SessionGate;
  logger: Logger;
  now: () => Date;
}

const returnToSchema = z.string().max(RETURN_TO_MAX_CHARS).regex(RETURN_TO_PATTERN, 'a dashboard route such as #/rollouts').optional();

export function authRoutes(signIn: SignIn | undefined): RouteSpec[] {
  const configured = (): SignIn => {
    if (!signIn)
      throw new AppError('not-found', 'oidc_not_configured', 'sign-in with OpenID Connect is not configured here (OIDC_ISSUER); sign in with an admin token');
    return signIn;
  };
  return [
    defineRoute({
      method: 'get',
      path: '/auth/config',
      summary:
        'How people may sign in to the dashboard: with OpenID Connect (when configured) and with an admin token; and whether the request carries a live session (so the dashboard need not try and fail).',
      tag: TAG,
      auth: { kind: 'none' },
      responses: { 200: { description: '{oidc: boolean, loginUrl?, csrfHeader, signedIn: boolean}' } },
      handler: async ({ req, res }) => {
        res.setHeader('Cache-Control', 'no-store');
        if (!signIn) return { status: 200, body: { oidc: false, csrfHeader: CSRF_HEADER, signedIn: false } };
        const live = await signIn.gate.sessionOf(req).catch(endedIsNone);
        return { status: 200, body: { oidc: true, loginUrl: '/auth/login', csrfHeader: CSRF_HEADER, signedIn: live !== undefined } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/auth/login',
      summary: 'Starts a sign-in: redirects to the identity provider (authorization code flow with PKCE, state and nonce).',
      tag: TAG,
      auth: { kind: 'none' },
      query: z.object({ returnTo: returnToSchema }),
      responses: {
        302: { description: 'To the identity provider, with the sealed sign-in state in a cookie for /auth/callback' },
        404: { description: 'OIDC is not configured' },
        503: { description: 'The identity provider cannot be reached (an HTML page)', contentType: 'text/html' },
      },
      handler: async ({ res, query }) => {
        const s = configured();
        return onPage(res, async () => {
          const { url, pending } = await s.client.startSignIn(query.returnTo ?? '#/rollouts');
          s.cookies.setLogin(res, await s.seal.seal(pending, s.now()));
          res.setHeader('Cache-Control', 'no-store');
          res.redirect(302, url.href);
        });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/auth/callback',
      summary: 'Ends a sign-in: the identity provider sends the person back here; a person whose claims give a role gets a session cookie.',
      tag: TAG,
      auth: { kind: 'none' },
      responses: {
        303: { description: 'To the dashboard, signed in (session cookie set)' },
        400: { description: 'The sign-in expired, was started in another tab, or its answer did not check out (an HTML page)', contentType: 'text/html' },
        403: { description: 'The provider refused, or no role is given to this person (an HTML page); no session', contentType: 'text/html' },
        503: { description: 'The identity provider cannot be reached (an HTML page)', contentType: 'text/html' },
      },
      handler: async ({ req, res }) => {
        const s = configured();
        return onPage(res, () => finishSignIn(s, req, res));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/auth/logout',
      summary: `Signs out: ends the session on every replica and clears its cookie. With a live session, needs its CSRF token in ${CSRF_HEADER}.`,
      tag: TAG,
      auth: { kind: 'none' },
      responses: { 204: { description: 'Signed out (also when there was no live session)' }, 403: { description: 'csrf_token_missing or csrf_token_invalid' } },
      handler: async ({ req, res }) => {
        const s = configured();
        const secret = s.cookies.sessionOf(req);
        const live = await s.gate.sessionOf(req).catch(endedIsNone);
        if (secret && live) {
          assertCsrfToken(req, secret);
          await s.sessions.end(secret);
          s.logger.info({ person: live.session.person.id }, 'signed out');
        }
        s.cookies.clearSession(res);
        return { status: 204 };
      },
    }),
  ];
}

async function finishSignIn(s: SignIn, req: Request, res: Response): Promise<void> {
  const sealed = s.cookies.loginOf(req);
  const pending = sealed ? await s.seal.open(sealed, s.now()) : undefined;
  s.cookies.clearLogin(res);
  if (!pending)
    throw new AppError('invalid', 'sign_in_expired', 'this sign-in expired or was started in another window or browser: start it again from the dashboard');
  const at = req.originalUrl.indexOf('?');
  const query = at < 0 ? '' : req.originalUrl.slice(at);
  const claims = await s.client.finishSignIn(query, pending);
  const verdict = judgeSignIn(claims, s.settings.issuer, s.settings.roleClaim, s.settings.roleRules);
  if (verdict.kind === 'no-role') {
    s.logger.info({ person: verdict.person.id }, 'sign-in refused: no role is given to this person (OIDC_ROLE_MAP)');
    throw new AppError(
      'forbidden',
      'no_role',
      `${verdict.person.name} signed in, but no role on this controller is given to you: none of your “${s.settings.roleClaim}” values is mapped to a role. Ask the people who run the controller to give you one.`,
    );
  }
  const { secret, session } = await s.sessions.start(verdict.person, verdict.role);
  s.cookies.setSession(res, secret, Date.parse(session.expiresAt) - Date.parse(session.createdAt));
  s.logger.info({ person: verdict.person.id, role: verdict.role }, 'signed in');
  res.setHeader('Cache-Control', 'no-store');
  res.redirect(303, `${s.settings.publicUrl}/${pending.returnTo}`);
}

/** A session that ended is no session here; anything else (the store not answering) is the caller's to hear. */
function endedIsNone(err: unknown): undefined {
  if (err instanceof AppError && err.errorId === 'session_ended') return undefined;
  throw err;
}

/** Runs a step of sign-in that a browser navigated to: what goes wrong is shown as a page, not as JSON. */
async function onPage(res: Response, step: () => Promise<void>): Promise<undefined> {
  try {
    await step();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const title = err.kind === 'unavailable' ? 'Sign-in is unavailable' : 'Sign-in did not work';
    sendAuthPage(res, STATUS_OF[err.kind], { title, message: err.message });
  }
  return undefined;
}
