import { randomUUID } from 'node:crypto';
import type { Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { assertEnvironmentsDeclared } from '../environments/declared.js';
import {
  generateSecret,
  hashSecret,
  secretEnvironment,
  secretHint,
  toPublicToken,
  TOKENS,
  type CreateToken,
  type PublicToken,
  type StoredToken,
} from './token-model.js';

export const BOOTSTRAP_TOKEN_ID = 'bootstrap-admin';
const SYSTEM: Actor = { type: 'system', id: 'bootstrap', name: 'bootstrap' };

export class TokenService {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly awaitApplied: (feedSeq: number) => Promise<void> = async () => {},
  ) {}

  /** Creates a token; the secret is returned this once and only its hash is stored. */
  async create(input: CreateToken, actor: Actor): Promise<PublicToken & { secret: string }> {
    // A token bound to an undeclared environment would serve nothing, and silently (a typo).
    if (input.kind !== 'admin') await assertEnvironmentsDeclared(this.store, input.kind === 'alert' ? input.environments : [input.environment]);
    const secret = generateSecret(input.kind, secretEnvironment(input));
    const token: StoredToken = {
      id: randomUUID(),
      name: input.name,
      kind: input.kind,
      ...grantOf(input),
      secretHash: hashSecret(secret),
      hint: secretHint(secret),
      createdAt: this.now().toISOString(),
      createdBy: actor.name,
    };
    await auditedCommit(
      this.store,
      async () => ({
        commit: { puts: [{ collection: TOKENS, id: token.id, value: token, expectVersion: 0 }] },
        audit: { actor, action: 'token.create', target: { type: 'token', id: token.id }, before: null, after: toPublicToken(token) },
        result: {},
      }),
      this.now,
      this.awaitApplied,
    );
    return { ...toPublicToken(token), secret };
  }

  async list(): Promise<PublicToken[]> {
    return (await this.store.list<StoredToken>(TOKENS)).map((d) => toPublicToken(d.value)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async delete(id: string, actor: Actor): Promise<void> {
    await auditedCommit(
      this.store,
      async () => {
        const doc = await this.store.get<StoredToken>(TOKENS, id);
        if (!doc) throw AppError.notFound(`token "${id}"`);
        return {
          commit: { deletes: [{ collection: TOKENS, id, expectVersion: doc.version }] },
          audit: { actor, action: 'token.delete', target: { type: 'token', id }, before: toPublicToken(doc.value), after: null },
          result: {},
        };
      },
      this.now,
      this.awaitApplied,
    );
  }

  /**
   * Makes ADMIN_TOKEN (or, in embedded mode without one, a generated secret) an admin token.
   * Returns the generated secret when one was made, so start-up can print it once; later starts
   * find the token already stored and print nothing.
   */
  async bootstrap(adminToken: string | undefined, generateWhenMissing: boolean): Promise<{ generatedSecret?: string }> {
    const existing = await this.store.get<StoredToken>(TOKENS, BOOTSTRAP_TOKEN_ID);
    let secret = adminToken;
    if (!secret) {
      if (existing || !generateWhenMissing) return {};
      secret = generateSecret('admin', undefined);
    }
    const secretHash = hashSecret(secret);
    if (existing?.value.secretHash === secretHash) return {};
    const token: StoredToken = {
      id: BOOTSTRAP_TOKEN_ID,
      name: 'bootstrap admin',
      kind: 'admin',
      role: 'admin',
      secretHash,
      hint: secretHint(secret),
      createdAt: this.now().toISOString(),
      createdBy: SYSTEM.name,
    };
    await auditedCommit(
      this.store,
      async () => {
        const current = await this.store.get<StoredToken>(TOKENS, BOOTSTRAP_TOKEN_ID);
        return {
          commit: { puts: [{ collection: TOKENS, id: token.id, value: token, expectVersion: current?.version ?? 0 }] },
          audit: {
            actor: SYSTEM,
            action: current ? 'token.rotate' : 'token.create',
            target: { type: 'token', id: token.id },
            before: current ? toPublicToken(current.value) : null,
            after: toPublicToken(token),
          },
          result: {},
        };
      },
      this.now,
      this.awaitApplied,
    );
    return adminToken ? {} : { generatedSecret: secret };
  }
}

/** What a new token grants: an admin token its role, an alert token its environments, the others their environment. */
function grantOf(input: CreateToken): Pick<StoredToken, 'role' | 'environment' | 'environments'> {
  switch (input.kind) {
    case 'admin':
      return { role: input.role };
    case 'alert':
      return { environments: input.environments };
    default:
      return { environment: input.environment };
  }
}
