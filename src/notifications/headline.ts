import { english, type Words } from '../policies/policy-words.js';
import { reasonIn } from '../rollouts/reason-wording.js';
import { count } from '../rollouts/units.js';
import { isRolloutEvent, type FlagEvent, type NotificationEvent, type RolloutEvent, type RolloutRef } from './events.js';
import { msText } from './message-lines.js';
import type { AlertEvent, DrillEvent } from './published-events.js';

/**
 * A notification's headline: one sentence a person can read in a preview. Steps are named by their
 * percentage and every number carries its unit. Written as English templates through `w`, so a
 * webhook's language (message-words.ts) says the same sentence with the same values: one source for
 * each headline. Pure.
 */
export function headline(e: NotificationEvent, w: Words = english): string {
  if (isRolloutEvent(e)) return rolloutHeadline(e, w);
  switch (e.type) {
    case 'flag.killed':
    case 'flag.restored':
      return flagHeadline(e, w);
    case 'alert.acted':
      return alertHeadline(e, w);
    case 'flag.drilled':
      return drillHeadline(e, w);
    case 'webhook.test':
      return w('Test message: webhook {id} reaches this channel', { id: e.webhook.id });
  }
}

/** "2026-01-17T14:00:00+08:00" → "2026-01-17 14:00 UTC+08:00": the time as the person who set it wrote it, with its offset. */
export function timeText(iso: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.exec(iso);
  if (!m) return iso;
  return `${m[1]} ${m[2]} ${m[3] === 'Z' ? 'UTC' : `UTC${m[3]}`}`;
}

/** "checkout in production", "release supplier in production". */
const where = (subject: string, env: string, w: Words) => w('{subject} in {env}', { subject, env });

/** What a rollout event is about: its flag, or a release by name. */
const subjectOf = (r: RolloutRef, w: Words) => (r.release ? w('release {name}', { name: r.release.name }) : r.flag);

function rolloutHeadline(e: RolloutEvent, w: Words): string {
  const what = where(subjectOf(e.rollout, w), e.rollout.environment, w);
  const pct = e.rollout.percentage;
  switch (e.type) {
    case 'rollout.started':
      return w('Rollout of {what} started at {pct}% by {by}', { what, pct: e.details.percentage, by: e.details.startedBy });
    case 'rollout.step_advanced':
      return w('{what} advanced {from}% → {to}%{last}', {
        what,
        from: e.details.fromPercentage,
        to: e.details.toPercentage,
        last: e.details.step === e.details.steps ? w(' (the last step)') : '',
      });
    case 'rollout.awaiting_approval': {
      const n = e.details.approvalsNeeded;
      const vars = { what, pct: e.details.nextPercentage, n, roles: e.details.roles.join(w(' or ')) || w('anyone') };
      return n === 1
        ? w('{what} is waiting for approval to go to {pct}% ({n} approval needed from {roles})', vars)
        : w('{what} is waiting for approval to go to {pct}% ({n} approvals needed from {roles})', vars);
    }
    case 'rollout.gate_failing':
      return w('Gates failing for {what} at {pct}%', { what, pct });
    case 'rollout.paused':
      return w('{what} paused at {pct}%: {reason}', { what, pct, reason: reasonIn(e.details, w) });
    case 'rollout.resumed':
      return w('{what} resumed at {pct}% by {by}', { what, pct, by: e.details.by });
    case 'rollout.rolled_back':
      return w('ROLLED BACK: {what} was switched off at {pct}%', { what, pct });
    case 'rollout.completed':
      return w('{what} completed at {pct}%', { what, pct: e.details.percentage });
    case 'rollout.aborted':
      return w('{what} aborted at {pct}%: {reason}', { what, pct, reason: reasonIn(e.details, w) });
    case 'rollout.scheduled':
      // `time` is the start as its setter wrote it, with the offset, in either language.
      return w('Rollout of {what} scheduled to start at {time} by {by}', { what, time: timeText(e.details.startAt), by: e.details.by });
    case 'pipeline.promoted':
      return w('{subject} promoted from {from} to {to} by pipeline {pipeline}', {
        subject: subjectOf(e.rollout, w),
        from: e.details.fromEnvironment,
        to: e.details.toEnvironment,
        pipeline: e.details.pipeline,
      });
  }
}

function flagHeadline(e: FlagEvent, w: Words): string {
  const vars = { what: where(e.flag.name, e.flag.environment, w), by: e.details.actor };
  return e.type === 'flag.killed' ? w('KILLED: {what} was switched off by {by}', vars) : w('RESTORED: {what} was switched back on by {by}', vars);
}

function alertHeadline(e: AlertEvent, w: Words): string {
  const { target, details } = e;
  const flags = target.flags.join(', ');
  const subject = target.release ? w('release {name} ({flags})', { name: target.release, flags }) : flags;
  const vars = {
    alert: details.alertName,
    what: where(subject, target.environment, w),
    at: target.rollout ? w(' at {pct}%', { pct: target.rollout.percentage }) : '',
  };
  switch (details.action) {
    case 'kill':
      return w('KILLED by alert {alert}: {what} was switched off', vars);
    case 'rollback':
      return w('ROLLED BACK by alert {alert}: {what} was switched off{at}', vars);
    case 'pause':
      return w('Paused by alert {alert}: {what}{at}', vars);
    case 'resume':
      return w('Resumed: alert {alert} resolved, {what} goes on{at}', vars);
  }
}

function drillHeadline(e: DrillEvent, w: Words): string {
  const { instances, missing, ms } = e.details;
  const vars = { flag: e.flag.name, env: e.flag.environment, n: count(instances), missing, ms: msText(ms.max, w) };
  if (missing === 0)
    return instances === 1
      ? w('Kill drill of {flag} in {env}: all {n} SDK instance confirmed within {ms}', vars)
      : w('Kill drill of {flag} in {env}: all {n} SDK instances confirmed within {ms}', vars);
  return instances === 1
    ? w('Kill drill of {flag} in {env}: {missing} of {n} SDK instance never confirmed', vars)
    : w('Kill drill of {flag} in {env}: {missing} of {n} SDK instances never confirmed', vars);
}
