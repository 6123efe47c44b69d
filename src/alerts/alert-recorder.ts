import type { PutOp, Store } from '../store/port.js';
import { auditedCommit } from '../audit/audited-commit.js';
import type { Actor, AuditInput } from '../audit/chain.js';
import { noteOf, type AlertResult, type AlertTarget, type IncomingAlert } from './alert-model.js';
import { AlertReceipts, receiptId } from './alert-receipts.js';

/** A result that names what it was about: every result that is recorded. */
export type TargetedResult = AlertResult & { target: AlertTarget; environment: string };

/** This alert was acted on meanwhile (another replica, a resend racing the first): nothing is written. */
export class AlreadyReceived extends Error {
  constructor(readonly at: string) {
    super('this alert was acted on meanwhile');
  }
}

/**
 * What an alert leaves behind: its receipt (for the resends that follow) and an audit event with
 * its content, both written in the same commit as the action they record, or alone when there was
 * nothing to act on.
 */
export class AlertRecorder {
  constructor(
    private readonly store: Store,
    readonly receipts: AlertReceipts,
    private readonly now: () => Date,
    private readonly awaitApplied: (feedSeq: number) => Promise<void>,
  ) {}

  /**
   * The receipt and audit event of a result, to join the commit of its action. Read afresh on every
   * attempt of that commit: a receipt found means someone else acted, and the action is abandoned.
   */
  async writes(alert: IncomingAlert, result: TargetedResult, actor: Actor, pausedAt?: string): Promise<{ puts: PutOp[]; audit: AuditInput[] }> {
    const puts: PutOp[] = [];
    // An alert sent without a fingerprint cannot be recognised when sent again: it gets no receipt.
    if (alert.identified) {
      const id = receiptId(alert, alert.status, result.environment, result.target);
      const { live, version } = await this.receipts.lookup(id);
      if (live) throw new AlreadyReceived(live.value.at);
      puts.push(this.receipts.put(id, alert, result, version, pausedAt));
    }
    return { puts, audit: [auditEvent(alert, result, actor)] };
  }

  /** Records a result that changed nothing else (nothing to act on): its receipt and audit event alone. */
  async record(alert: IncomingAlert, result: TargetedResult, actor: Actor): Promise<void> {
    await auditedCommit(
      this.store,
      async () => {
        const { puts, audit } = await this.writes(alert, result, actor);
        return { commit: { puts }, audit, result: undefined };
      },
      this.now,
      this.awaitApplied,
    );
  }
}

/** `alert.acted` or `alert.no_action`, with the alert's content (bounded) and what came of it. */
function auditEvent(alert: IncomingAlert, result: TargetedResult, actor: Actor): AuditInput {
  return {
    actor,
    action: result.outcome === 'acted' ? 'alert.acted' : 'alert.no_action',
    target: { type: result.target.kind, id: result.target.name, environment: result.environment },
    reason: result.detail,
    before: null,
    after: {
      alert: noteOf(alert),
      action: result.action,
      outcome: result.outcome,
      ...(result.rolloutId ? { rolloutId: result.rolloutId } : {}),
      ...(result.via ? { via: result.via } : {}),
    },
  };
}
