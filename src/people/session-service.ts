import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor } from '../audit/chain.js';
import type { Role } from '../auth/token-model.js';
import type { DeleteOp, Store, Versioned } from '../store/port.js';
import {
  MAX_SESSIONS_PER_PERSON,
  newSessionSecret,
  SESSIONS,
  type SessionPerson,
  type StoredSession,
  sessionDocumentId,
  storedSessionSchema,
} from './session-model.js';

/**
 * Sessions in the store: started at sign-in, read on every request that carries the cookie (one
 * store read, so a sign-out on one replica holds on all of them at once), ended at sign-out or
 * when they expire. Sign-in and sign-out are audited like any credential made or revoked. Session
 * writes stay off the change feed: no replica follows them, each reads the one it is shown.
 */
export class SessionService {
  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly ttlMs: number,
  ) {}

  /** Starts a session; returns the secret for the cookie (stored nowhere) and the session. */
  async start(person: SessionPerson, role: Role): Promise<{ secret: string; session: StoredSession }> {
    const secret = newSessionSecret();
    const at = this.now();
    const session: StoredSession = { person, role, createdAt: at.toISOString(), expiresAt: new Date(at.getTime() + this.ttlMs).toISOString() };
    await auditedCommit(
      this.store,
      async () => ({
        commit: {
          puts: [{ collection: SESSIONS, id: sessionDocumentId(secret), value: session, expectVersion: 0, quiet: true }],
          deletes: await this.sessionsToEnd(person.id, at),
        },
        audit: { actor: personActor(person), action: 'session.start', target: { type: 'person', id: person.id }, before: null, after: auditView(session) },
        result: undefined,
      }),
      this.now,
    );
    return { secret, session };
  }

  /** The live session a cookie's secret stands for; an expired one is removed and is no session. */
  async find(secret: string): Promise<StoredSession | undefined> {
    const doc = await this.store.get<unknown>(SESSIONS, sessionDocumentId(secret));
    if (!doc) return undefined;
    const parsed = storedSessionSchema.safeParse(doc.value);
    if (!parsed.success) return undefined;
    if (Date.parse(parsed.data.expiresAt) <= this.now().getTime()) {
      await this.store.commit({ deletes: [{ collection: SESSIONS, id: doc.id, expectVersion: doc.version, quiet: true }] }).catch(() => {});
      return undefined;
    }
    return parsed.data;
  }

  /** Ends the session (sign-out); true when there was one to end. */
  async end(secret: string): Promise<boolean> {
    const id = sessionDocumentId(secret);
    return auditedCommit(
      this.store,
      async () => {
        const doc = await this.store.get<StoredSession>(SESSIONS, id);
        const parsed = doc && storedSessionSchema.safeParse(doc.value);
        if (!doc || !parsed?.success) return { commit: {}, audit: [], result: false };
        const session = parsed.data;
        return {
          commit: { deletes: [{ collection: SESSIONS, id, expectVersion: doc.version, quiet: true }] },
          audit: {
            actor: personActor(session.person),
            action: 'session.end',
            target: { type: 'person', id: session.person.id },
            before: auditView(session),
            after: null,
          },
          result: true,
        };
      },
      this.now,
    );
  }

  /**
   * What a sign-in clears away: every expired session (of anyone: sessions have no expiry in the
   * store itself, so sign-ins are when they are swept) and this person's oldest beyond the limit.
   */
  private async sessionsToEnd(personId: string, at: Date): Promise<DeleteOp[]> {
    const all = await this.store.list<unknown>(SESSIONS);
    const live: Array<Versioned<StoredSession>> = [];
    const ended: Array<Versioned<unknown>> = [];
    for (const doc of all) {
      const parsed = storedSessionSchema.safeParse(doc.value);
      if (!parsed.success || Date.parse(parsed.data.expiresAt) <= at.getTime()) ended.push(doc);
      else if (parsed.data.person.id === personId) live.push({ ...doc, value: parsed.data });
    }
    const oldestFirst = live.sort((a, b) => a.value.createdAt.localeCompare(b.value.createdAt));
    ended.push(...oldestFirst.slice(0, Math.max(0, oldestFirst.length - (MAX_SESSIONS_PER_PERSON - 1))));
    return ended.map((doc) => ({ collection: SESSIONS, id: doc.id, expectVersion: doc.version, quiet: true }));
  }
}

function personActor(person: SessionPerson): Actor {
  return { type: 'person', id: person.id, name: person.name };
}

/** What the audit log keeps of a session: who, which role, until when (never the secret or its hash). */
function auditView(session: StoredSession) {
  return { role: session.role, email: session.person.email, createdAt: session.createdAt, expiresAt: session.expiresAt };
}
