import { say, type Wording, wording } from '../rollouts/reason-wording.js';
import type { DrillRecord } from './drill-record.js';

/**
 * A drill in one sentence: verified, or what is missing; and why a drill did not restore the flag.
 * English templates with their values (the machinery of reason-wording.ts): said in English they
 * are the text the report, rolloutctl and the API have always given; the dashboard says them in its
 * language. Shared by the report and the dashboard (which bundles it: pure, zod-free).
 */

export function drillVerdictWording(r: DrillRecord): Wording {
  const restored = r.restore.restored ? '' : wording(' The flag was NOT restored: {why}.', { why: r.restore.whyWording ?? r.restore.why });
  if (r.instances > 0 && r.confirmed === r.instances) {
    return wording('Verified: all {n} connected SDK instances had the kill within {time}.{restored}', {
      n: r.instances,
      time: r.ms.max === null ? wording('not reached') : msText(r.ms.max),
      restored,
    });
  }
  const why =
    r.ended === 'failed'
      ? wording(' (the drill could not read what the instances hold: {error})', { error: r.waitError ?? wording('unknown error') })
      : r.ended === 'interrupted'
        ? wording(' (the controller replica running it shut down, and it restored early)')
        : wording(' within {s} s', { s: r.timeoutSeconds });
  return wording('Not verified: {missing} of {n} connected SDK instances never had the kill{why}.{restored}', {
    missing: r.instances - r.confirmed,
    n: r.instances,
    why,
    restored,
  });
}

export const drillVerdict = (r: DrillRecord): string => say(drillVerdictWording(r));

// Why a drill did not restore the flag (DrillRecord.restore).
export const restoreNotAttempted = () => wording('not attempted');
export const killedForReal = (actor: string, reason: string) =>
  wording('the flag was killed for real during the drill (by {actor}: {reason}), so it stays killed', { actor, reason });
export const restoreFailed = (error: string, flag: string, env: string) =>
  wording('restoring failed ({error}); restore it by hand: rolloutctl restore {flag} --env {env}', { error, flag, env });

/** "1,234 ms", or "not reached" for a share of instances that never had it. */
export function msText(value: number | null): string {
  return value === null ? 'not reached' : `${value.toLocaleString('en')} ms`;
}
