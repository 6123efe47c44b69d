import type { Request, Response } from 'express';
import { parse, serialize, type SerializeOptions } from 'cookie';
import { LOGIN_WINDOW_MS } from './login-state.js';

/**
 * The two cookies of sign-in. Both are HttpOnly (no script reads them) and SameSite=Lax (a page on
 * another site cannot send them with a form post or a fetch; a link followed to the dashboard may,
 * which is what brings a person back from their provider). Served over https (PUBLIC_URL is https)
 * they are Secure and carry the `__Host-` / `__Secure-` prefixes, so a page on a sibling domain
 * cannot plant one of its own.
 *
 * - the session cookie: the session's secret, Path=/, for as long as the session lasts;
 * - the sign-in cookie: the sealed pending sign-in (login-state.ts), only sent to /auth/callback.
 */
/** The session cookie's name over plain http; over https it is `__Host-` and this. */
export const SESSION_COOKIE = 'rollout-session';
const LOGIN_COOKIE = 'rollout-login';

export class SessionCookies {
  readonly sessionName: string;
  readonly loginName: string;

  constructor(private readonly secure: boolean) {
    this.sessionName = secure ? `__Host-${SESSION_COOKIE}` : SESSION_COOKIE;
    this.loginName = secure ? `__Secure-${LOGIN_COOKIE}` : LOGIN_COOKIE;
  }

  sessionOf(req: Request): string | undefined {
    return this.read(req, this.sessionName);
  }

  loginOf(req: Request): string | undefined {
    return this.read(req, this.loginName);
  }

  setSession(res: Response, secret: string, maxAgeMs: number): void {
    res.append('Set-Cookie', serialize(this.sessionName, secret, this.options('/', maxAgeMs)));
  }

  clearSession(res: Response): void {
    res.append('Set-Cookie', serialize(this.sessionName, '', this.options('/', 0)));
  }

  setLogin(res: Response, sealed: string): void {
    res.append('Set-Cookie', serialize(this.loginName, sealed, this.options('/auth/callback', LOGIN_WINDOW_MS)));
  }

  clearLogin(res: Response): void {
    res.append('Set-Cookie', serialize(this.loginName, '', this.options('/auth/callback', 0)));
  }

  private read(req: Request, name: string): string | undefined {
    const header = req.headers.cookie;
    if (!header) return undefined;
    return parse(header)[name] || undefined;
  }

  private options(path: string, maxAgeMs: number): SerializeOptions {
    return { httpOnly: true, secure: this.secure, sameSite: 'lax', path, maxAge: Math.floor(maxAgeMs / 1000) };
  }
}
