import { createHash } from 'node:crypto';
import { say, type Wording } from '../rollouts/reason-wording.js';
import { eventAltered, eventMissing, eventNotLinked, logEndsBeforeHead } from './chain-wording.js';

/**
 * The audit log is a hash chain: each event's hash covers its content and the previous
 * event's hash, and a separately stored head records the last seq and hash. Editing any event
 * breaks its own hash; removing one breaks the next event's link (or, for the last, the head).
 */

export interface Actor {
  /** `person`: someone signed in with OpenID Connect (their id is `oidc:<issuer host>:<subject>`). */
  type: 'token' | 'person' | 'system' | 'file';
  id: string;
  name: string;
}

export interface AuditInput {
  actor: Actor;
  action: string;
  target: { type: string; id: string; environment?: string };
  reason?: string;
  before: unknown;
  after: unknown;
}

export interface AuditEvent extends AuditInput {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export interface AuditHead {
  seq: number;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted, so the hash does not depend on key order after a store round trip. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function hashEvent(event: Omit<AuditEvent, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(event)).digest('hex');
}

export function sealEvent(input: AuditInput, head: AuditHead, at: string): AuditEvent {
  const unsealed = { ...input, seq: head.seq + 1, at, prevHash: head.hash };
  return { ...unsealed, hash: hashEvent(unsealed) };
}

/** `problemWording` beside `problem` (chain-wording.ts), to say it in another language. */
export type ChainVerdict =
  | { ok: true; count: number; headSeq: number }
  | { ok: false; count: number; headSeq: number; brokenAtSeq: number; problem: string; problemWording?: Wording };

/** A chain's problem: in English, with its wording beside it. */
export const problemOf = (w: Wording) => ({ problem: say(w), problemWording: w });

/**
 * Checks a chain incrementally: feed events in seq order with `check`, then `finish` against the head.
 * Kept as a small state machine so verification can page through a long log without holding it.
 */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  private count = 0;
  private failure: { seq: number; problem: Wording } | undefined;

  check(seq: number, event: AuditEvent): void {
    if (this.failure) return;
    this.count++;
    const { hash, ...unsealed } = event;
    if (seq !== this.expectedSeq || event.seq !== seq) {
      this.failure = { seq: this.expectedSeq, problem: eventMissing(this.expectedSeq, event.seq, seq) };
    } else if (event.prevHash !== this.prevHash) {
      this.failure = { seq, problem: eventNotLinked(seq) };
    } else if (hashEvent(unsealed) !== hash) {
      this.failure = { seq, problem: eventAltered(seq) };
    }
    this.expectedSeq = seq + 1;
    this.prevHash = hash;
  }

  finish(head: AuditHead): ChainVerdict {
    if (this.failure) return { ok: false, count: this.count, headSeq: head.seq, brokenAtSeq: this.failure.seq, ...problemOf(this.failure.problem) };
    if (head.seq !== this.expectedSeq - 1 || head.hash !== this.prevHash) {
      return {
        ok: false,
        count: this.count,
        headSeq: head.seq,
        brokenAtSeq: this.expectedSeq,
        ...problemOf(logEndsBeforeHead(this.expectedSeq - 1, head.seq)),
      };
    }
    return { ok: true, count: this.count, headSeq: head.seq };
  }
}
