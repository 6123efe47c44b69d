import type { Server } from 'node:http';
import Provider, { type KoaContextWithOIDC } from 'oidc-provider';
import { freePort } from './redis-server.js';

/**
 * A real OpenID Connect provider for tests: the `oidc-provider` package (an OpenID-certified
 * implementation), on a free loopback port. People sign in on its own login form (its development
 * interactions: any password, the login names the account); the accounts and their claims are the
 * test's. Consent is granted by the provider itself, as for a first-party application, so a
 * sign-in is one form.
 */

export interface TestAccount {
  name: string;
  email: string;
  groups: string[];
}

export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  stop(): Promise<void>;
}

const SCOPES = ['openid', 'profile', 'email', 'groups'];

export async function startOidcProvider(options: {
  clientId?: string;
  clientSecret?: string;
  redirectUris: string[];
  /** Login name → claims; the login name is the subject. */
  accounts: Record<string, TestAccount>;
}): Promise<TestOidcProvider> {
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = options.clientId ?? 'rollout-controller';
  const clientSecret = options.clientSecret ?? 'test-client-secret-0123456789abcdef';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: options.redirectUris,
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    scopes: SCOPES,
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email', 'email_verified'], groups: ['groups'] },
    findAccount: async (_ctx, id) => {
      const account = options.accounts[id];
      if (!account) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, preferred_username: id, email_verified: true, ...account }) };
    },
    pkce: { required: () => true },
    ttl: { Interaction: 600, Session: 3_600, Grant: 3_600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    cookies: { keys: ['oidc-provider-test-cookie-key'] },
    features: { devInteractions: { enabled: true } },
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { session, client, provider: p, result } = ctx.oidc;
      const grantId = result?.consent?.grantId ?? session!.grantIdFor(client!.clientId);
      if (grantId) return p.Grant.find(grantId);
      const grant = new p.Grant({ clientId: client!.clientId, accountId: session!.accountId! });
      grant.addOIDCScope(SCOPES.join(' '));
      await grant.save();
      return grant;
    },
  });
  const server: Server = await new Promise((resolve) => {
    const s = provider.listen(port, '127.0.0.1', () => resolve(s));
  });
  return {
    issuer,
    clientId,
    clientSecret,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
