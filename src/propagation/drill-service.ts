import type { Actor } from '../audit/chain.js';
import { assertEnvironmentsDeclared } from '../environments/declared.js';
import { AppError } from '../errors/app-error.js';
import { DRILL_REASON_PREFIX, sameKillSwitch } from '../flags/drill-kill.js';
import type { FlagService } from '../flags/flag-service.js';
import { forEnvironment } from '../flags/per-environment.js';
import type { KillSwitch } from '../flags/schema.js';
import type { Logger } from '../logger.js';
import { holdingsBuckets, readHoldings } from '../serving/sdk-holdings.js';
import type { ServingState } from '../serving/serving-state.js';
import type { Store } from '../store/port.js';
import { say, type Wording } from '../rollouts/reason-wording.js';
import { recordDrill } from './drill-audit.js';
import { confirmationTimes, drillFigures, type DrillEnd, type DrillRecord } from './drill-record.js';
import { killedForReal, restoreFailed, restoreNotAttempted } from './drill-verdict.js';
import { assertDrillConfirmed } from './production-guard.js';
import { propagationOf, type Propagation } from './propagation.js';
import { instancesSeen, readSightings, SEEN_WINDOW_MS, type InstanceSeen } from './sightings.js';

export const DEFAULT_DRILL_TIMEOUT_SECONDS = 60;
/** Node's fetch and many proxies give up on an answer after 300 s; a drill answers well before. */
export const MAX_DRILL_TIMEOUT_SECONDS = 240;
/** Replicas write what they served once a second: a drill looks once more this long after its timeout. */
const FLUSH_GRACE_MS = 1_500;
const LOOK_EVERY_MS = 500;
/** How long a drill waits for this replica to serve its own kill before it takes the feed's head instead. */
const OWN_KILL_WAIT_MS = 5_000;
const RESTORE_ATTEMPTS = 3;
/** How long the instances read for one environment answer every propagation question on this replica. */
const SHARED_FOR_MS = 1_000;
const MAX_SHARED = 100;

export interface DrillInput {
  reason: string;
  timeoutSeconds?: number;
  confirm?: boolean;
}

export type DrillListener = (record: DrillRecord & { auditSeq?: number }, actor: Actor) => void;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A restore that did not happen, with why in English and its wording beside it. */
const notRestored = (why: Wording): DrillRecord['restore'] => ({ restored: false, why: say(why), whyWording: why });

/**
 * The propagation view and rollback drills. A drill kills the flag through the flag service (audited,
 * notified like any kill), waits until every SDK instance connected at its start holds the kill or
 * the timeout passes, then lifts its own kill switch whatever happened in between, and records what
 * it measured in the audit log.
 */
export class DrillService {
  private readonly running = new Map<string, { abort: AbortController; done: Promise<unknown> }>();
  private readonly listeners = new Set<DrillListener>();
  private readonly recent = new Map<string, { at: number; instances: Promise<InstanceSeen[]> }>();

  constructor(
    private readonly deps: { store: Store; flags: FlagService; state: ServingState; now: () => Date; logger: Logger },
    private readonly lookEveryMs = LOOK_EVERY_MS,
  ) {}

  /** Told after each drill is recorded (notifications); must not throw or block. */
  onDrilled(listener: DrillListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Which connected SDK instances hold the flag's current state in `env`. */
  async propagation(flag: string, env: string): Promise<Propagation & { flag: string; environment: string; killed: boolean }> {
    const [doc] = await Promise.all([this.deps.flags.get(flag), assertEnvironmentsDeclared(this.deps.store, [env])]);
    // This replica's revision of the flag (the feed position it serves it from); the flag may be newer in the store by a few ms.
    const version = this.deps.state.flagRevision(flag) ?? (await this.deps.store.feedHead());
    return {
      flag,
      environment: env,
      killed: forEnvironment(doc.value.killSwitches, env) !== undefined,
      ...propagationOf(version, await this.connected(env)),
    };
  }

  /**
   * The instances connected to `env`. A read covers every instance of the environment and a
   * dashboard page asks every 2 s, so answers are shared for a second on this replica; a drill
   * reads afresh.
   */
  private connected(env: string, fresh = false): Promise<InstanceSeen[]> {
    const now = this.deps.now().getTime();
    const cached = this.recent.get(env);
    if (!fresh && cached && now - cached.at < SHARED_FOR_MS) return cached.instances;
    const instances = readSightings(this.deps.store, env, now - SEEN_WINDOW_MS, now).then((records) => instancesSeen(records, now));
    if (this.recent.size >= MAX_SHARED) this.recent.clear();
    this.recent.set(env, { at: now, instances });
    instances.catch(() => this.recent.delete(env));
    return instances;
  }

  async drill(flag: string, env: string, input: DrillInput, actor: Actor): Promise<DrillRecord & { auditSeq?: number }> {
    assertDrillConfirmed(env, input.confirm);
    const key = `${flag}\u0000${env}`;
    if (this.running.has(key)) throw new AppError('conflict', 'drill_running', `a drill of flag "${flag}" in ${env} is already running`);
    // Taken before the first await, so that two requests at once cannot both pass the check.
    const abort = new AbortController();
    const slot: { abort: AbortController; done: Promise<unknown> } = { abort, done: Promise.resolve() };
    this.running.set(key, slot);
    try {
      const [doc] = await Promise.all([this.deps.flags.get(flag), assertEnvironmentsDeclared(this.deps.store, [env])]);
      const killed = forEnvironment(doc.value.killSwitches, env);
      if (killed) throw killedError(flag, env, killed);
      const targets = await this.connected(env, true);
      if (targets.length === 0) {
        throw new AppError(
          'conflict',
          'no_instances',
          `no SDK instance was seen in ${env} in the last ${SEEN_WINDOW_MS / 60_000} minutes: a drill would verify nothing`,
        );
      }
      if (abort.signal.aborted) throw new AppError('unavailable', 'shutting_down', 'this replica is shutting down: run the drill on another', undefined, 5);
      const done = this.run(flag, env, input, actor, targets, abort.signal);
      slot.done = done;
      return await done;
    } finally {
      this.running.delete(key);
    }
  }

  private async run(flag: string, env: string, input: DrillInput, actor: Actor, targets: InstanceSeen[], signal: AbortSignal) {
    const timeoutSeconds = input.timeoutSeconds ?? DEFAULT_DRILL_TIMEOUT_SECONDS;
    const reason = input.reason;
    const start = this.deps.now();
    const kill = await this.deps.flags.setKillSwitch(flag, env, true, actor, `${DRILL_REASON_PREFIX}${reason}`);
    // Killed by someone else between the check and the kill: theirs stays, and there is nothing to drill.
    if (!kill.changed || !kill.killSwitch) throw killedError(flag, env, kill.killSwitch);
    this.deps.logger.info(
      { flag, env, instances: targets.length, timeoutSeconds },
      `rollback drill of ${flag} in ${env}: killed, waiting for ${targets.length} SDK instances`,
    );
    let waited: { ended: DrillEnd; revision: number | null; times: Map<string, number>; waitError?: string } = {
      ended: 'failed',
      revision: null,
      times: new Map(),
    };
    let restore: DrillRecord['restore'] = notRestored(restoreNotAttempted());
    try {
      waited = await this.waitForAll(flag, env, kill.killSwitch, targets, start.getTime(), timeoutSeconds * 1000, signal);
    } catch (err) {
      waited = { ...waited, ended: 'failed', waitError: (err as Error).message };
    } finally {
      restore = await this.restore(flag, env, kill.killSwitch, actor, reason);
    }
    const record: DrillRecord = {
      flag,
      environment: env,
      reason,
      startedAt: start.toISOString(),
      finishedAt: this.deps.now().toISOString(),
      timeoutSeconds,
      revision: waited.revision,
      ...drillFigures(targets, waited.times),
      ended: waited.ended,
      ...(waited.waitError ? { waitError: waited.waitError } : {}),
      restore,
    };
    const auditSeq = await recordDrill(this.deps.store, record, actor, this.deps.now);
    const result = { ...record, ...(auditSeq === undefined ? {} : { auditSeq }) };
    this.deps.logger.info(
      { flag, env, instances: record.instances, confirmed: record.confirmed, ms: record.ms, ended: record.ended, auditSeq },
      `rollback drill of ${flag} in ${env}: ${record.confirmed} of ${record.instances} SDK instances had the kill; ${restore.restored ? 'restored' : 'NOT restored'}`,
    );
    for (const listener of this.listeners) {
      try {
        listener(result, actor);
      } catch {
        // A listener's failure is its own; the drill is recorded.
      }
    }
    return result;
  }

  /** Looks at what the instances hold until all have the kill, the timeout passes, or the replica stops. */
  private async waitForAll(flag: string, env: string, killSwitch: KillSwitch, targets: InstanceSeen[], start: number, timeoutMs: number, signal: AbortSignal) {
    const revision = await this.killRevision(flag, env, killSwitch, signal);
    const wanted = new Set(targets.map((t) => t.instance));
    for (;;) {
      const now = this.deps.now().getTime();
      const records = await readHoldings(this.deps.store, env, holdingsBuckets(start, now));
      const all = confirmationTimes(
        records.map((r) => r.record),
        wanted,
        revision,
        start,
      );
      const times = new Map([...all].filter(([, ms]) => ms <= timeoutMs));
      if (times.size === wanted.size) return { ended: 'all-confirmed' as const, revision, times };
      if (signal.aborted) return { ended: 'interrupted' as const, revision, times };
      if (now >= start + timeoutMs + FLUSH_GRACE_MS) return { ended: 'timed-out' as const, revision, times };
      await sleep(Math.min(this.lookEveryMs, start + timeoutMs + FLUSH_GRACE_MS - now), signal);
    }
  }

  /** The feed position of the kill, once this replica serves it; the feed's head (later, so never too early) if that takes too long. */
  private async killRevision(flag: string, env: string, killSwitch: KillSwitch, signal: AbortSignal): Promise<number> {
    const deadline = Date.now() + OWN_KILL_WAIT_MS;
    while (Date.now() < deadline && !signal.aborted) {
      const served = this.deps.state.getFlag(flag);
      if (served && sameKillSwitch(forEnvironment(served.killSwitches, env), killSwitch)) return this.deps.state.flagRevision(flag)!;
      await sleep(20, signal);
    }
    return this.deps.store.feedHead();
  }

  /** Lifts the drill's own kill switch, never another: a real kill made meanwhile stays. */
  private async restore(flag: string, env: string, killSwitch: KillSwitch, actor: Actor, reason: string): Promise<DrillRecord['restore']> {
    let lastError = '';
    for (let attempt = 1; attempt <= RESTORE_ATTEMPTS; attempt++) {
      try {
        const result = await this.deps.flags.setKillSwitch(
          flag,
          env,
          false,
          actor,
          `${DRILL_REASON_PREFIX}${reason} (drill over: restoring)`,
          undefined,
          killSwitch,
        );
        if (result.changed || !result.killSwitch) return { restored: true, at: this.deps.now().toISOString() };
        return notRestored(killedForReal(result.killSwitch.actor, result.killSwitch.reason));
      } catch (err) {
        lastError = (err as Error).message;
        await new Promise((r) => setTimeout(r, 1_000 * attempt));
      }
    }
    this.deps.logger.error({ flag, env, err: lastError }, `rollback drill of ${flag} in ${env}: the kill switch could not be lifted; restore it by hand`);
    return notRestored(restoreFailed(lastError, flag, env));
  }

  /** Stops every drill's wait at once; each restores and records itself (shutdown). */
  interrupt(): void {
    for (const { abort } of this.running.values()) abort.abort();
  }

  async close(): Promise<void> {
    this.interrupt();
    await Promise.allSettled([...this.running.values()].map((r) => r.done));
  }
}

function killedError(flag: string, env: string, killSwitch: KillSwitch | undefined): AppError {
  const by = killSwitch ? ` (by ${killSwitch.actor}: ${killSwitch.reason})` : '';
  return new AppError(
    'conflict',
    'flag_killed',
    `flag "${flag}" is killed in ${env}${by}: a drill ends by restoring the flag, which would undo that kill; restore it first if it should be on`,
    { killSwitch: killSwitch ?? null },
  );
}
