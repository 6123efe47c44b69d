import { hkdfSync } from 'node:crypto';
import { EncryptJWT, jwtDecrypt } from 'jose';
import { z } from 'zod';

/**
 * What a sign-in must remember between sending the person to their provider and their coming back
 * (state, nonce, PKCE verifier, the page to return to), kept in a short-lived cookie sealed with
 * AES-256-GCM rather than in the store: starting a sign-in costs the controller no write, so
 * nobody can fill the store by opening /auth/login, and any replica can finish a sign-in another
 * began (they all derive the key from OIDC_CLIENT_SECRET). The browser cannot read or change it.
 */

/** How long a person has to sign in at their provider (README, "Limits"). */
export const LOGIN_WINDOW_MS = 10 * 60_000;

export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
  /** The dashboard page to show after sign-in (a `#/…` route). */
  returnTo: string;
}

const pendingLoginSchema = z.object({ state: z.string(), nonce: z.string(), codeVerifier: z.string(), returnTo: z.string() }) satisfies z.ZodType<PendingLogin>;

export class LoginStateSeal {
  private readonly key: Uint8Array;

  constructor(clientSecret: string) {
    this.key = new Uint8Array(hkdfSync('sha256', clientSecret, 'rollout-controller', 'sign-in state cookie', 32));
  }

  seal(login: PendingLogin, now: Date): Promise<string> {
    return new EncryptJWT({ ...login })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .setIssuedAt(now)
      .setExpirationTime(new Date(now.getTime() + LOGIN_WINDOW_MS))
      .encrypt(this.key);
  }

  /** The sign-in the cookie holds; undefined when it was not sealed here, was changed, or is too old. */
  async open(cookie: string, now: Date): Promise<PendingLogin | undefined> {
    try {
      const { payload } = await jwtDecrypt(cookie, this.key, { currentDate: now, keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] });
      const parsed = pendingLoginSchema.safeParse(payload);
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
