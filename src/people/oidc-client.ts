import * as oidc from 'openid-client';
import { AppError } from '../errors/app-error.js';
import type { Logger } from '../logger.js';
import type { OidcSettings } from './oidc-config.js';
import type { PendingLogin } from './login-state.js';

/** Time allowed for each request to the identity provider (discovery, token, userinfo). */
const PROVIDER_TIMEOUT_SECONDS = 10;

/**
 * Our side of OpenID Connect, through openid-client: the authorization code flow with PKCE (S256),
 * state and nonce. openid-client checks what the protocol asks of a client: the state, the issuer
 * of the response, the ID token's signature (from the provider's published keys), audience, expiry
 * and nonce, and that userinfo speaks of the same subject.
 *
 * The provider's metadata is discovered at the first sign-in and kept; a provider that cannot be
 * reached then is asked again at the next one, so a provider that is down never stops the
 * controller from starting or from serving flags, and people see why they cannot sign in.
 */
export class OidcClient {
  private configuration: Promise<oidc.Configuration> | undefined;

  constructor(
    private readonly settings: OidcSettings,
    private readonly logger: Logger,
  ) {}

  /** Where to send a person to sign in, and what their return must match. */
  async startSignIn(returnTo: string): Promise<{ url: URL; pending: PendingLogin }> {
    const config = await this.config();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const pending: PendingLogin = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier, returnTo };
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scopes.join(' '),
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url, pending };
  }

  /**
   * Ends a sign-in: exchanges the code the provider sent back (`query`, the callback's query
   * string) and returns the person's claims, from the ID token and, where the provider has one,
   * its userinfo endpoint (many providers put groups and names only there).
   */
  async finishSignIn(query: string, pending: PendingLogin): Promise<Record<string, unknown>> {
    const config = await this.config();
    // The redirect URI the code was issued for: PUBLIC_URL's, whatever address this request came in on.
    const currentUrl = new URL(`${this.settings.redirectUri}${query}`);
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw signInFailure(err);
    }
    const idClaims = tokens.claims();
    if (!idClaims) throw new AppError('invalid', 'sign_in_failed', 'the identity provider sent no ID token');
    if (!config.serverMetadata().userinfo_endpoint) return { ...idClaims };
    try {
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      // The ID token's claims win: they are signed, and `sub` must stay the one they name.
      return { ...userinfo, ...idClaims };
    } catch (err) {
      this.logger.warn({ err: errorText(err) }, 'sign-in: the identity provider’s userinfo endpoint failed');
      throw new AppError('unavailable', 'identity_provider_failed', 'the identity provider did not answer with your profile; try again shortly');
    }
  }

  private config(): Promise<oidc.Configuration> {
    this.configuration ??= this.discover().catch((err) => {
      this.configuration = undefined;
      this.logger.error({ issuer: this.settings.issuer.href, err: errorText(err) }, 'sign-in: the identity provider’s discovery document could not be read');
      throw new AppError(
        'unavailable',
        'identity_provider_unreachable',
        `the identity provider (${this.settings.issuer.origin}) could not be reached; try again shortly`,
      );
    });
    return this.configuration;
  }

  private async discover(): Promise<oidc.Configuration> {
    const { issuer, clientId, clientSecret } = this.settings;
    const execute = issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [];
    const found = await oidc.discovery(issuer, clientId, undefined, oidc.ClientSecretBasic(clientSecret), { execute, timeout: PROVIDER_TIMEOUT_SECONDS });
    // client_secret_basic is OpenID Connect's default; a provider that takes only client_secret_post gets that.
    const methods = found.serverMetadata().token_endpoint_auth_methods_supported;
    if (methods && !methods.includes('client_secret_basic') && methods.includes('client_secret_post')) {
      const config = new oidc.Configuration(found.serverMetadata(), clientId, undefined, oidc.ClientSecretPost(clientSecret));
      for (const step of execute) step(config);
      config.timeout = PROVIDER_TIMEOUT_SECONDS;
      return config;
    }
    found.timeout = PROVIDER_TIMEOUT_SECONDS;
    return found;
  }
}

/** Why a code exchange failed, for the person (their provider refused, or the answer did not check out). */
function signInFailure(err: unknown): AppError {
  if (err instanceof oidc.AuthorizationResponseError) {
    const described = err.error_description ? `: ${err.error_description.slice(0, 300)}` : '';
    return new AppError('forbidden', 'sign_in_refused', `your identity provider refused the sign-in (${err.error.slice(0, 100)}${described})`);
  }
  return new AppError('invalid', 'sign_in_failed', `the sign-in could not be completed: ${errorText(err)}`);
}

/** An error's message, bounded, for logs and pages (openid-client's messages name no secret). */
function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 300);
}
