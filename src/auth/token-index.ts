import type { Store } from '../store/port.js';
import { hashSecret, TOKENS, type StoredToken } from './token-model.js';

/**
 * Every replica keeps all tokens in memory, keyed by secret hash, so that authenticating an SDK
 * poll costs one hash and one map lookup. The index is rebuilt at start and kept current from the
 * change feed, so a revoked token stops working on every replica within the feed's delay.
 */
export class TokenIndex {
  private byHash = new Map<string, StoredToken>();
  private byId = new Map<string, StoredToken>();

  async load(store: Store): Promise<void> {
    const docs = await store.list<StoredToken>(TOKENS);
    this.byHash = new Map();
    this.byId = new Map();
    for (const doc of docs) this.upsert(doc.id, doc.value);
  }

  private readonly revokedListeners = new Set<(tokenId: string) => void>();

  apply(id: string, value: StoredToken | null): void {
    const previous = this.byId.get(id);
    if (previous) this.byHash.delete(previous.secretHash);
    this.byId.delete(id);
    if (value) this.upsert(id, value);
    // A deleted token, or one whose kind or environment changed, no longer grants what it did.
    const revoked = previous && (!value || value.kind !== previous.kind || value.environment !== previous.environment);
    if (revoked) for (const listener of this.revokedListeners) listener(id);
  }

  /** Told the id of every token that stops granting what it granted (streams opened with it must close). */
  onRevoked(listener: (tokenId: string) => void): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
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
    return this.byHash.get(hashSecret(secret));
  }

  list(): StoredToken[] {
    return [...this.byId.values()];
  }

  hasAdmin(): boolean {
    return this.list().some((t) => t.kind === 'admin' && t.role === 'admin');
  }
}
