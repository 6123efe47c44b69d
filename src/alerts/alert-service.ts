import type { Store } from '../store/port.js';
import type { Actor } from '../audit/chain.js';
import { AppError } from '../errors/app-error.js';
import { FLAGS } from '../flags/collections.js';
import type { FlagService } from '../flags/flag-service.js';
import { undeclaredAmong } from '../environments/declared.js';
import type { RolloutService } from '../rollouts/rollout-service.js';
import { ACTIVE, activeKey } from '../rollouts/rollout-writer.js';
import { rolloutFlags, type Person, type Rollout } from '../rollouts/rollout-model.js';
import type { Logger } from '../logger.js';
import { describeAlert, noteOf, targetText, type AlertResult, type Directive, type IncomingAlert } from './alert-model.js';
import { receiptId } from './alert-receipts.js';
import { AlertRecorder, AlreadyReceived, type TargetedResult } from './alert-recorder.js';
import type { ReleaseLookup } from './release-lookup.js';

/** Who acts for an alert: its token, as the rollout's history and the audit log name it. */
export interface AlertCaller {
  actor: Actor;
  by: Person;
}

/** Told of every alert that was acted on, after its commit (notifications subscribe here). */
export type AlertListener = (alert: IncomingAlert, result: AlertResult) => void;

/** A directive about to be carried out: its result, but for what came of it. */
type Asked = Omit<TargetedResult, 'outcome' | 'detail'>;

/** A resolved alert that resumes nothing, and why. */
class NotResumed extends Error {}

/**
 * Carries out what incoming alerts ask: pause or roll back a flag's (or release's) active rollout,
 * or kill a flag, once per alert (alert-receipts.ts), each recorded with the alert's content in the
 * audit log and, for a rollout, in its history. A resolved alert resumes the rollout it paused
 * when that rollout's policy says so (`alerts.resumeOnResolve`) and nobody moved it since.
 */
export class AlertService {
  private readonly listeners = new Set<AlertListener>();

  constructor(
    private readonly store: Store,
    private readonly rollouts: RolloutService,
    private readonly flags: FlagService,
    private readonly releases: ReleaseLookup,
    private readonly recorder: AlertRecorder,
    private readonly logger: Logger,
  ) {}

  onActed(listener: AlertListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Acts on one directive of one alert; never throws for what the alert names (an unknown flag is a result), only for the store. */
  async act(alert: IncomingAlert, directive: Directive, caller: AlertCaller): Promise<AlertResult> {
    const base = { fingerprint: alert.fingerprint, status: alert.status, target: directive.target, environment: directive.environment, via: directive.via };
    const asked = { ...base, action: alert.status === 'resolved' ? ('resume' as const) : directive.action };
    if (alert.identified) {
      const { live } = await this.recorder.receipts.lookup(receiptId(alert, alert.status, directive.environment, directive.target));
      if (live) {
        await this.recorder.receipts.seenAgain(live);
        return { ...asked, outcome: 'duplicate', detail: `already received at ${live.value.at}: ${live.value.detail}`, ...rolloutOf(live.value) };
      }
    }
    const unknown = await this.unknownTarget(directive);
    if (unknown) return { ...asked, outcome: 'unknown_target', detail: unknown };
    try {
      const result =
        alert.status === 'resolved'
          ? await this.resolve(alert, directive, caller, asked)
          : directive.action === 'kill'
            ? await this.kill(alert, directive, caller, asked)
            : await this.onRollout(alert, directive, caller, asked);
      this.logger.info({ alert: noteOf(alert), result }, `alert ${result.outcome}: ${result.detail}`);
      if (result.outcome === 'acted') this.tell(alert, result);
      return result;
    } catch (err) {
      if (err instanceof AlreadyReceived) return { ...asked, outcome: 'duplicate', detail: `acted on meanwhile (at ${err.at}), by another request` };
      // Gone meanwhile (a flag deleted, a release's rollout the lookup named but the store does not hold).
      if (err instanceof AppError && err.kind === 'not-found') return { ...asked, outcome: 'unknown_target', detail: err.message };
      throw err;
    }
  }

  /** Why the directive names nothing that exists, or undefined. */
  private async unknownTarget(d: Directive): Promise<string | undefined> {
    const { undeclared } = await undeclaredAmong(this.store, [d.environment]);
    if (undeclared.length > 0) return `environment "${d.environment}" is not declared`;
    if (d.target.kind === 'flag' && !(await this.store.get(FLAGS, d.target.name))) return `flag "${d.target.name}" does not exist`;
    return undefined;
  }

  /** The active rollout of the target in the environment: a flag's, or a release's as the release lookup finds it. */
  private async activeRollout(d: Directive): Promise<string | undefined> {
    if (d.target.kind === 'release') return this.releases.findActiveRelease(d.target.name, d.environment);
    return (await this.store.get<{ id: string }>(ACTIVE, activeKey({ flag: d.target.name, environment: d.environment })))?.value.id;
  }

  /** Pause or roll back the target's active rollout, with the alert's receipt in the same commit. */
  private async onRollout(alert: IncomingAlert, d: Directive, caller: AlertCaller, asked: Asked): Promise<AlertResult> {
    const action = d.action === 'rollback' ? 'rollback' : 'pause';
    const rolloutId = await this.activeRollout(d);
    if (!rolloutId) {
      if (d.target.kind === 'release')
        return { ...asked, outcome: 'unknown_target', detail: `release "${d.target.name}" is unknown or has no active rollout in ${d.environment}` };
      return this.recorded(
        alert,
        { ...asked, outcome: 'nothing_to_act_on', detail: `${targetText(d.target)} has no active rollout in ${d.environment}` },
        caller,
      );
    }
    const comment = describeAlert(alert);
    const done: TargetedResult = {
      ...asked,
      outcome: 'acted',
      rolloutId,
      detail: `rollout ${rolloutId} ${action === 'pause' ? 'paused' : 'rolled back'}: ${comment}`,
    };
    try {
      await this.rollouts.writer.apply({
        id: rolloutId,
        input: () => ({ kind: action, by: caller.by, comment, alert: noteOf(alert) }),
        actor: caller.actor,
        action: `rollout.${action}`,
        reason: comment,
        also: (next) => this.recorder.writes(alert, done, caller.actor, action === 'pause' ? next.history.at(-1)?.at : undefined),
      });
      return done;
    } catch (err) {
      // Already paused, or finished: the rollout is not where this alert could move it.
      if (!(err instanceof AppError) || err.kind !== 'conflict') throw err;
      return this.recorded(alert, { ...asked, rolloutId, outcome: 'nothing_to_act_on', detail: `rollout ${rolloutId}: ${err.message}` }, caller);
    }
  }

  /** Flip the kill switch of the flag (or of every flag of the release's rollout) in the environment. */
  private async kill(alert: IncomingAlert, d: Directive, caller: AlertCaller, asked: Asked): Promise<AlertResult> {
    const reason = `alert: ${describeAlert(alert)}`;
    if (d.target.kind === 'flag') {
      const done: TargetedResult = { ...asked, outcome: 'acted', detail: `flag "${d.target.name}" killed in ${d.environment}: ${describeAlert(alert)}` };
      const killed = await this.flags.setKillSwitch(d.target.name, d.environment, true, caller.actor, reason, () =>
        this.recorder.writes(alert, done, caller.actor),
      );
      if (killed.changed) return done;
      return this.recorded(alert, { ...asked, outcome: 'nothing_to_act_on', detail: `flag "${d.target.name}" was already killed in ${d.environment}` }, caller);
    }
    const rolloutId = await this.activeRollout(d);
    if (!rolloutId)
      return { ...asked, outcome: 'unknown_target', detail: `release "${d.target.name}" is unknown or has no active rollout in ${d.environment}` };
    // Every flag of the release in one commit, with the receipt: nobody is served half a module.
    const names = rolloutFlags(await this.rollouts.get(rolloutId));
    const done: TargetedResult = {
      ...asked,
      rolloutId,
      outcome: 'acted',
      detail: `the ${names.length} flags of release "${d.target.name}" killed in ${d.environment} (${names.join(', ')})`,
    };
    const killed = await this.flags.setKillSwitches(names, d.environment, true, caller.actor, reason, () => this.recorder.writes(alert, done, caller.actor));
    if (killed.some((k) => k.changed)) return done;
    return this.recorded(
      alert,
      { ...asked, rolloutId, outcome: 'nothing_to_act_on', detail: `release "${d.target.name}" was already killed in ${d.environment}` },
      caller,
    );
  }

  /** A resolved alert: resume what its firing paused, when the rollout's policy says so and nobody moved it since. */
  private async resolve(alert: IncomingAlert, d: Directive, caller: AlertCaller, asked: Asked): Promise<AlertResult> {
    const nothing = (detail: string, rolloutId?: string) =>
      this.recorded(alert, { ...asked, outcome: 'nothing_to_act_on', detail, ...(rolloutId ? { rolloutId } : {}) }, caller);
    if (d.action === 'kill') return nothing('resolved: a kill is not undone by an alert; a person restores the flag');
    const { live: firing } = await this.recorder.receipts.lookup(receiptId(alert, 'firing', d.environment, d.target));
    if (!firing || firing.value.outcome !== 'acted' || firing.value.action !== 'pause' || !firing.value.rolloutId) {
      return nothing(`resolved: this alert ${firing ? `did not pause anything (${firing.value.detail})` : 'paused nothing here'}`);
    }
    const { rolloutId, pausedAt } = firing.value;
    const comment = `resolved: ${describeAlert(alert)}`;
    const done: TargetedResult = { ...asked, outcome: 'acted', rolloutId, detail: `rollout ${rolloutId} resumed: ${comment}` };
    try {
      await this.rollouts.writer.apply({
        id: rolloutId,
        input: (rollout) => {
          assertResumable(rollout, pausedAt);
          return { kind: 'resume', by: caller.by, comment, alert: noteOf(alert) };
        },
        actor: caller.actor,
        action: 'rollout.resume',
        reason: comment,
        also: () => this.recorder.writes(alert, done, caller.actor),
      });
      return done;
    } catch (err) {
      if (err instanceof NotResumed || (err instanceof AppError && err.kind === 'conflict')) return nothing(`resolved: ${err.message}`, rolloutId);
      throw err;
    }
  }

  /** A result that changed nothing, recorded (receipt and audit event) so a resend is known. */
  private async recorded(alert: IncomingAlert, result: TargetedResult, caller: AlertCaller): Promise<AlertResult> {
    await this.recorder.record(alert, result, caller.actor);
    return result;
  }

  private tell(alert: IncomingAlert, result: AlertResult): void {
    for (const listener of this.listeners) {
      try {
        listener(alert, result);
      } catch {
        // A listener's failure is its own; the alert has been acted on.
      }
    }
  }
}

/** A resolve resumes only a rollout that allows it and is still held by the pause this alert made. */
function assertResumable(rollout: Rollout, pausedAt: string | undefined): void {
  if (rollout.plan.alerts?.resumeOnResolve !== true) {
    throw new NotResumed(`the policy of rollout ${rollout.id} does not resume on resolve (alerts.resumeOnResolve); it stays paused for a person`);
  }
  const last = rollout.history.at(-1);
  if (rollout.state !== 'paused' || last?.to !== 'paused' || last.at !== pausedAt) {
    throw new NotResumed(`rollout ${rollout.id} changed since this alert paused it (now ${rollout.state}); it is left as it is`);
  }
}

function rolloutOf(receipt: { rolloutId?: string }): { rolloutId?: string } {
  return receipt.rolloutId ? { rolloutId: receipt.rolloutId } : {};
}
