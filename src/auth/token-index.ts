import type { Store, Versioned } from '../store/port.js';
import { checkDocument, type DocumentProblem } from '../validation/stored-documents.js';
import { hashSecret, secretHint, storedTokenSchema, tokenEnvironments, TOKENS, type StoredToken } from './token-model.js';
import { BOOTSTRAP_TOKEN_ID } from './token-service.js';

export interface TokenIndexOptions {
  /**
   * ADMIN_TOKEN: accepted as the bootstrap admin whenever it is set, whatever the store holds. A
   * store that lost its data (or was never written) must not lock out the person who has to decide
   * what happens next.
   */
  adminSecret?: string;
  /** Told of every stored token that does not pass the schema: it is left out of the index. */
  onInvalid?: (problem: DocumentProblem) => void;
}

/**
 * Every replica keeps all tokens in memory, keyed by secret hash, so that authenticating an SDK
 * poll costs one hash and one map lookup. The index is rebuilt at start and kept current from the
 * change feed, so a revoked token stops working on every replica within the feed's delay.
 */
export class TokenIndex {
  private byHash = new Map<string, StoredToken>();
  private byId = new Map<string, StoredToken>();
  private readonly configured: StoredToken | undefined;
  private readonly revokedListeners = new Set<(tokenId: string) => void>();

  constructor(private readonly options: TokenIndexOptions = {}) {
    const secret = options.adminSecret;
    this.configured = secret
      ? {
          id: BOOTSTRAP_TOKEN_ID,
          name: 'bootstrap admin',
          kind: 'admin',
          role: 'admin',
          secretHash: hashSecret(secret),
          hint: secretHint(secret),
          createdAt: new Date().toISOString(),
          createdBy: 'ADMIN_TOKEN',
        }
      : undefined;
  }

  async load(store: Store): Promise<void> {
    this.install(await store.list<StoredToken>(TOKENS));
  }

  /**
   * Replaces the whole index (a start, or a reload after a feed gap or a store loss dealt with).
   * Tokens that are gone, or no longer grant what they granted, are revoked as if deleted one by one:
   * streams opened with them end.
   */
  install(docs: Array<Versioned<unknown>>): void {
    const previous = this.byId;
    this.byHash = new Map();
    this.byId = new Map();
    for (const doc of docs) {
      const checked = checkDocument(storedTokenSchema, TOKENS, doc.id, doc.value);
      if (checked.ok) this.upsert(doc.id, checked.value);
      else this.options.onInvalid?.(checked.problem);
    }
    for (const [id, before] of previous) if (!grantsTheSame(before, this.byId.get(id))) this.revoked(id);
  }

  apply(id: string, value: unknown): void {
    const previous = this.byId.get(id);
    if (previous) this.byHash.delete(previous.secretHash);
    this.byId.delete(id);
    if (value !== null) {
      const checked = checkDocument(storedTokenSchema, TOKENS, id, value);
      if (checked.ok) this.upsert(id, checked.value);
      else this.options.onInvalid?.(checked.problem);
    }
    if (previous && !grantsTheSame(previous, this.byId.get(id))) this.revoked(id);
  }

  /** Told the id of every token that stops granting what it granted (streams opened with it must close). */
  onRevoked(listener: (tokenId: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  private revoked(id: string): void {
    for (const listener of this.revokedListeners) listener(id);
  }

  private upsert(id: string, token: StoredToken): void {
    this.byId.set(id, token);
    this.byHash.set(token.secretHash, token);
  }

  /** Accepts the raw Authorization header: "<secret>" as Unleash SDKs send it, or "Bearer <secret>". */
  authenticate(authorization: string | undefined): StoredToken | undefined {
    if (!authorization) return undefined;
    const secret = authorization.startsWith('Bearer ') ? authorization.slice(7).trim() : authorization.trim();
    if (secret === '') return undefined;
    const hash = hashSecret(secret);
    return this.byHash.get(hash) ?? (this.configured?.secretHash === hash ? this.configured : undefined);
  }

  list(): StoredToken[] {
    return [...this.byId.values()];
  }

  hasAdmin(): boolean {
    return this.configured !== undefined || this.list().some((t) => t.kind === 'admin' && t.role === 'admin');
  }
}

/** A token still grants what it did: same kind and environments (a deleted one grants nothing). */
function grantsTheSame(before: StoredToken, after: StoredToken | undefined): boolean {
  return after !== undefined && after.kind === before.kind && tokenEnvironments(after).join('\n') === tokenEnvironments(before).join('\n');
}
