import { english, type Words } from '../policies/policy-words.js';
import { reasonIn } from '../rollouts/reason-wording.js';
import { count } from '../rollouts/units.js';
import type { NotificationEvent } from './events.js';
import { describeCheck } from './units.js';

/**
 * The lines under a notification's headline: the values behind the event, one a line. Each
 * sentence is an English template with `{name}` placeholders, passed through `w` (message-words.ts
 * gives the webhook's language); what people and alerts wrote (reasons, comments, an alert's
 * summary, a pipeline's rule) is put in as written.
 */

/** "3 h 20 min": how far ahead, rounded to the minute, in the largest units. */
export function durationText(ms: number, w: Words = english): string {
  const minutes = Math.round(Math.max(0, ms) / 60_000);
  if (minutes < 1) return w('less than a minute');
  if (minutes < 60) return w('{minutes} min', { minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? w('{hours} h {minutes} min', { hours, minutes: minutes % 60 }) : w('{hours} h', { hours });
  const days = Math.floor(hours / 24);
  return hours % 24 ? w('{days} days {hours} h', { days, hours: hours % 24 }) : w('{days} days', { days });
}

/** A delivery time in ms, or that it was never reached. */
export const msText = (ms: number | null, w: Words = english) => (ms === null ? w('not reached') : `${count(ms)} ms`);
/** A state in words: "awaiting approval". */
const stateText = (state: string, w: Words) => w(state.replace(/_/g, ' '));

function rolloutLine(r: { id: string; policy: string; state: string; percentage: number }, w: Words): string {
  return w('Rollout {id} ({policy}) is {state} at {pct}%', { id: r.id, policy: r.policy, state: stateText(r.state, w), pct: r.percentage });
}

export function detailLines(e: NotificationEvent, w: Words = english): string[] {
  const check = (c: Parameters<typeof describeCheck>[0]) => describeCheck(c, w);
  switch (e.type) {
    case 'flag.killed':
    case 'flag.restored': {
      const r = e.details.rollout;
      return [w('Reason: {reason}', { reason: e.details.reason }), ...(r ? [rolloutLine(r, w)] : [])];
    }
    case 'rollout.gate_failing':
      return e.details.failing.map(check);
    case 'rollout.rolled_back':
      return [reasonIn(e.details, w), ...e.details.breaches.map(check), w('Switched off: {flags}', { flags: e.details.killed.join(', ') })];
    case 'rollout.step_advanced':
      return e.details.approvals.map((a) =>
        a.comment ? w('Approved by {by}: “{comment}”', { by: a.by, comment: a.comment }) : w('Approved by {by}', { by: a.by }),
      );
    case 'rollout.awaiting_approval':
    case 'rollout.completed':
      return e.details.gates.map(check);
    case 'rollout.scheduled': {
      const ahead = durationText(Date.parse(e.details.startAt) - Date.parse(e.occurredAt), w);
      return [w('Starts in {duration}, at the first step of the policy {policy}', { duration: ahead, policy: e.rollout.policy })];
    }
    case 'pipeline.promoted': {
      const r = e.rollout;
      const vars = { id: r.id, env: e.details.toEnvironment, policy: r.policy, state: stateText(r.state, w), pct: r.percentage };
      return [
        ...(e.details.rule ? [w('Rule met in {env}: {rule}', { env: e.details.fromEnvironment, rule: e.details.rule })] : []),
        r.percentage > 0
          ? w('Rollout {id} in {env} follows the policy {policy}: {state} at {pct}%', vars)
          : w('Rollout {id} in {env} follows the policy {policy}: {state}', vars),
      ];
    }
    case 'alert.acted': {
      const { details, target } = e;
      const vars = { status: w(details.status), fingerprint: details.fingerprint };
      return [
        w('Alert: {summary}', { summary: details.summary }),
        details.source === 'alertmanager'
          ? w('Alertmanager alert {status}, fingerprint {fingerprint}', vars)
          : w('Generic alert {status}, fingerprint {fingerprint}', vars),
        ...(target.rollout ? [rolloutLine(target.rollout, w)] : []),
      ];
    }
    case 'flag.drilled': {
      const d = e.details;
      const confirmed = { confirmed: count(d.confirmed), n: count(d.instances) };
      return [
        d.instances === 1 ? w('Confirmed by {confirmed} of {n} instance', confirmed) : w('Confirmed by {confirmed} of {n} instances', confirmed),
        w('Time to 50%: {p50} · 99%: {p99} · the last: {max}', { p50: msText(d.ms.p50, w), p99: msText(d.ms.p99, w), max: msText(d.ms.max, w) }),
        d.reason
          ? w('Drilled by {by}: {reason}; the kill switch was restored afterwards', { by: d.by, reason: d.reason })
          : w('Drilled by {by}; the kill switch was restored afterwards', { by: d.by }),
      ];
    }
    case 'webhook.test':
      return [
        w('Sent by {by} to check this webhook', { by: e.details.by }),
        w('Real messages name the flag, the environment, the step as a percentage, what happened and the numbers behind it'),
      ];
    case 'rollout.started':
    case 'rollout.paused':
    case 'rollout.resumed':
    case 'rollout.aborted':
      return [];
  }
}
